/**
 * /metrics as the daemon leaves it, rendered in process on the fakes: every series a dashboard or
 * an alert reads exists from start-up at 0, and a pass sets targets by state and counts failures.
 */
import { describe, expect, test } from "bun:test"
import { Deferred, Duration, Effect, TestClock, TestContext } from "effect"
import { FAILURE_REASONS } from "../../src/domain/failures.ts"
import { TARGET_STATES } from "../../src/pipeline/events.ts"
import { runForever } from "../../src/pipeline/run.ts"
import { metricsText } from "../../src/server/Http.ts"
import { VERSION } from "../../src/version.ts"
import { fakeWorld, hangingTagSource, pipelineOf, REMOTE, stopDaemon, WATCHER } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"
const PASSED_AT = Date.UTC(2026, 0, 2, 3, 4, 5)

/** The value of the series written exactly so, NaN when there is none. */
const valueOf = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1))
}

describe("/metrics", () => {
  test("at start-up, before any pass has ended, every series exists", async () => {
    const listing = Effect.runSync(Deferred.make<void>())
    // A registry that never answers: the first pass hangs in its fetch stage.
    const hanging = hangingTagSource(listing)
    const w = fakeWorld(hanging)
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    const pipeline = { ...pipelineOf(), name: "startup" }
    const text = await Effect.runPromise(
      Effect.gen(function* () {
        const daemon = yield* Effect.forkDaemon(runForever([pipeline], w.options, Duration.seconds(1)))
        yield* Deferred.await(listing)
        const text = yield* metricsText
        // The first pass never ends: stopping abandons it after the one-second grace period.
        yield* stopDaemon(daemon, Duration.seconds(1))
        return text
      }).pipe(Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
    )
    const at = 'pipeline="startup",repo="config"'
    for (const reason of FAILURE_REASONS) expect(valueOf(text, `runner_target_failures_total{${at},reason="${reason}"}`)).toBe(0)
    for (const state of TARGET_STATES) expect(valueOf(text, `runner_targets{${at},state="${state}"}`)).toBe(0)
    for (const result of ["success", "failure"]) expect(valueOf(text, `runner_passes_total{pipeline="startup",result="${result}"}`)).toBe(0)
    expect(valueOf(text, 'runner_target_updates_total{pipeline="startup"}')).toBe(0)
    expect(valueOf(text, 'runner_last_pass_success_timestamp_seconds{pipeline="startup"}')).toBe(0)
    expect(valueOf(text, 'runner_failing_targets{pipeline="startup"}')).toBe(0)
    for (const outcome of ["success", "failure"]) expect(valueOf(text, `runner_config_reloads_total{outcome="${outcome}"}`)).toBe(0)
    expect(text).toContain("# TYPE process_start_time_seconds gauge")
    const started = valueOf(text, "process_start_time_seconds")
    expect(started).toBeLessThanOrEqual(performance.timeOrigin / 1000 + 1)
    expect(started).toBeGreaterThan(performance.timeOrigin / 1000 - 600)
    expect(valueOf(text, `runner_build_info{version="${VERSION}"}`)).toBe(1)
    for (const operation of ["clone", "fetch", "push"]) expect(text).toContain(`runner_git_operation_seconds_count{operation="${operation}"} `)
    expect(text).toMatch(/^runner_images_watched \d+$/m)
    expect(text).toMatch(/^runner_push_retries_total \d+$/m)
    expect(text).toContain("# TYPE process_resident_memory_bytes gauge")
    expect(valueOf(text, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000)
  }, 30_000)

  test("after a pass: targets by state, failures by reason, git operations timed", async () => {
    const w = fakeWorld()
    const watcher = `${WATCHER}    - {image: gcr.io/org/db, provider: nowhere, filePath: db.yaml, field: spec.image}\n`
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, "db.yaml": "spec:\n  image: gcr.io/org/db:2.0.0\n", ".pipe/w.yaml": watcher })
    w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
    const pipeline = { ...pipelineOf(), name: "passed" }
    // Git operations are counted process-wide, other tests' included: this pass's are the difference.
    const [before, text] = await Effect.runPromise(
      Effect.gen(function* () {
        const before = yield* metricsText
        yield* TestClock.setTime(PASSED_AT)
        const daemon = yield* Effect.forkDaemon(runForever([pipeline], w.options))
        yield* w.nextPass
        yield* stopDaemon(daemon)
        return [before, yield* metricsText] as const
      }).pipe(Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
    )
    const gitOperations = (operation: string) => {
      const series = `runner_git_operation_seconds_count{operation="${operation}"}`
      return valueOf(text, series) - valueOf(before, series)
    }
    const at = 'pipeline="passed",repo="config"'
    const states = Object.fromEntries(TARGET_STATES.map((state) => [state, valueOf(text, `runner_targets{${at},state="${state}"}`)]))
    expect(states).toEqual({ up_to_date: 0, updated: 1, proposed: 0, would_update: 0, held: 0, left_alone: 0, failed: 1 })
    expect(valueOf(text, `runner_target_failures_total{${at},reason="config"}`)).toBe(1)
    expect(valueOf(text, `runner_target_failures_total{${at},reason="push"}`)).toBe(0)
    expect({ clone: gitOperations("clone"), push: gitOperations("push") }).toEqual({ clone: 1, push: 1 })
    // The pass completed, though one of its targets failed: the schedule is alive, and the failure is counted apart.
    expect(valueOf(text, 'runner_last_pass_success_timestamp_seconds{pipeline="passed"}')).toBe(PASSED_AT / 1000)
    expect(text).toContain("# HELP runner_last_pass_success_timestamp_seconds Unix time of the last completed pass of the pipeline, whether or not some of its targets failed.")
    expect(valueOf(text, 'runner_failing_targets{pipeline="passed"}')).toBe(1)
    // The target of an unknown provider is watched through nothing.
    expect(valueOf(text, "runner_images_watched")).toBe(1)
  }, 30_000)
})
