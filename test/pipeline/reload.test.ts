/**
 * The daemon in process on fakes: a reload signal hands it a new config (or a broken one, which
 * is logged and ignored), and each target's outcome is logged as one JSON event with its fields.
 */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Exit, FiberId, Layer, Logger, LogLevel, Queue, Stream, TestContext } from "effect"
import { loadPipelines } from "../../src/config/load.ts"
import { jsonLinesLogger } from "../../src/logging.ts"
import { reloadedConfigs, runForever } from "../../src/pipeline/run.ts"
import { metricsText } from "../../src/server/Http.ts"
import { ociProvider, writePipedConfig } from "../support/config.ts"
import { fakeWorld, pipelineOf, REMOTE, stopDaemon, WATCHER } from "../support/inProcess.ts"
import { writeFile } from "../support/runner.ts"
import { tempDir } from "../support/tempDirs.ts"

const IMAGE = "gcr.io/org/app"

/** Every log line, as the JSON logger writes it, whatever its level; `logged` waits for the first line that matches. */
const captured = () => {
  const lines: Array<Record<string, unknown>> = []
  const waiting: Array<{ readonly matches: (line: Record<string, unknown>) => boolean; readonly seen: Deferred.Deferred<void> }> = []
  const logger = Logger.map(jsonLinesLogger, (text) => {
    const line = JSON.parse(text) as Record<string, unknown>
    lines.push(line)
    for (const w of waiting) if (w.matches(line)) Deferred.unsafeDone(w.seen, Exit.void)
  })
  const logged = (matches: (line: Record<string, unknown>) => boolean) =>
    Effect.suspend(() => {
      if (lines.some(matches)) return Effect.void
      const seen = Deferred.unsafeMake<void>(FiberId.none)
      waiting.push({ matches, seen })
      return Deferred.await(seen)
    })
  return { lines, logged, layer: Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All)) }
}

/** What a daemon logs in its first pass over the fake world, then stopped. */
const daemonLogOfOnePass = async (w: ReturnType<typeof fakeWorld>) => {
  const log = captured()
  await Effect.runPromise(
    Effect.gen(function* () {
      const daemon = yield* Effect.forkDaemon(runForever([pipelineOf()], w.options))
      yield* w.nextPass
      yield* stopDaemon(daemon)
    }).pipe(Effect.provide(log.layer), Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
  )
  return log
}

/** A Piped config of the fake remote, hourly, with one provider of this name. */
const config = (dir: string, provider: string) =>
  writePipedConfig(dir, {
    repoId: "config",
    remote: REMOTE,
    providers: ociProvider(provider, "https://gcr.io"),
    imageWatcher: "  imageWatcher:\n    checkInterval: 1h\n"
  })

const seeded = () => {
  const w = fakeWorld()
  w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
  w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
  return w
}

describe("reloading the config", () => {
  test("a broken config is logged with file, line and key and the old one keeps running; a valid one takes over", async () => {
    const w = seeded()
    const dir = tempDir("runner-reload-")
    // The watcher file names the provider `registry`; the first config calls it otherwise.
    const file = config(dir, "elsewhere")
    const log = captured()
    const commits = () => w.remotes.log(REMOTE).length
    await Effect.runPromise(
      Effect.gen(function* () {
        const initial = yield* loadPipelines([file])
        const signals = yield* Queue.unbounded<void>()
        const reloads = reloadedConfigs(Stream.fromQueue(signals), loadPipelines([file]))
        const daemon = yield* Effect.forkDaemon(runForever(initial, w.options, undefined, reloads))
        yield* w.nextPass
        expect(commits()).toBe(1)

        writeFile(dir, "piped.yaml", `apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n  imageWatcher:\n    checkInterval: soon\n`)
        yield* Queue.offer(signals, undefined)
        yield* log.logged((l) => l["message"] === "config reload refused: the running config stays")
        const refused = log.lines.filter((l) => String(l["message"]).startsWith("config reload refused: ") && l["level"] === "error")
        expect(refused.length).toBeGreaterThan(0)
        expect(refused.some((l) => l["file"] === file && typeof l["line"] === "number" && l["key"] === "spec.imageWatcher.checkInterval")).toBe(true)
        expect(String(refused[0]?.["message"])).toContain(`${file}:`)
        expect(commits()).toBe(1)

        config(dir, "registry")
        yield* Queue.offer(signals, undefined)
        // The refused reload made no pass: the next one is the valid config's.
        expect(yield* w.unseenPasses).toBe(0)
        yield* w.nextPass
        expect(commits()).toBe(2)
        expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.1.0\n`)
        expect(log.lines.some((l) => String(l["message"]).startsWith("1 targets: 1 updated"))).toBe(true)
        yield* stopDaemon(daemon)
      }).pipe(Effect.provide(log.layer), Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
    )
  }, 30_000)
})

describe("reloads in /metrics", () => {
  test("reloads are counted by outcome, and the series of a repository a reload removed leave /metrics", async () => {
    const w = seeded()
    const dir = tempDir("runner-reload-metrics-")
    const file = writePipedConfig(dir, { repoId: "config", remote: REMOTE, providers: ociProvider("registry", "https://gcr.io"), imageWatcher: "  imageWatcher:\n    checkInterval: 1h\n" })
    const reloads = (text: string, outcome: string) => Number(new RegExp(`^runner_config_reloads_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(text)?.[1])
    const log = captured()
    const [before, after] = await Effect.runPromise(
      Effect.gen(function* () {
        const initial = yield* loadPipelines([file])
        const signals = yield* Queue.unbounded<void>()
        const daemon = yield* Effect.forkDaemon(runForever(initial, w.options, undefined, reloadedConfigs(Stream.fromQueue(signals), loadPipelines([file]))))
        yield* w.nextPass
        const before = yield* metricsText
        writeFile(dir, "piped.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec: [\n")
        yield* Queue.offer(signals, undefined)
        yield* log.logged((l) => l["message"] === "config reload refused: the running config stays")
        // The same remote under another name: the repository `config` is no longer watched.
        writePipedConfig(dir, { repoId: "renamed", remote: REMOTE, providers: ociProvider("registry", "https://gcr.io"), imageWatcher: "  imageWatcher:\n    checkInterval: 1h\n" })
        yield* Queue.offer(signals, undefined)
        yield* w.nextPass
        const after = yield* metricsText
        yield* stopDaemon(daemon)
        return [before, after] as const
      }).pipe(Effect.provide(log.layer), Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
    )
    // Counted process-wide, other tests' reloads included: this test's are the difference.
    expect(reloads(after, "failure") - reloads(before, "failure")).toBe(1)
    expect(reloads(after, "success") - reloads(before, "success")).toBe(1)
    const pipeline = file
    expect(before).toContain(`runner_targets{pipeline="${pipeline}",repo="config",state="updated"} 1`)
    expect(after).not.toContain('repo="config"')
    expect(after).toContain(`runner_targets{pipeline="${pipeline}",repo="renamed",state="up_to_date"} 1`)
  }, 30_000)
})

describe("logging a pass", () => {
  test("each target's outcome is one JSON event with its own fields", async () => {
    const w = fakeWorld()
    const watcher = `${WATCHER}    - {image: gcr.io/org/db, provider: nowhere, filePath: db.yaml, field: spec.image}\n`
    w.remotes.create(REMOTE, {
      "app.yaml": `image: ${IMAGE}:1.0.0\n`,
      "db.yaml": "spec:\n  image: gcr.io/org/db:2.0.0\n",
      ".pipe/w.yaml": watcher,
      ".pipe/broken.yaml": "spec: [\n"
    })
    w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
    const log = await daemonLogOfOnePass(w)
    // Newest first: the runner's commit.
    const commit = w.remotes.log(REMOTE)[0]?.oid
    expect(commit).toMatch(/^[0-9a-f]{40}$/)
    const event = (image: string) => {
      const found = log.lines.find((l) => l["image"] === image && l["outcome"] !== undefined)
      const { time, message, ...fields } = found ?? {}
      expect(typeof time).toBe("string")
      expect(typeof message).toBe("string")
      return fields
    }
    expect(event(IMAGE)).toEqual({
      pipeline: "piped.yaml",
      image: IMAGE,
      from: "1.0.0",
      to: "1.1.0",
      file: "app.yaml",
      field: "image",
      repo: "config",
      outcome: "updated",
      commit,
      // A pass with a failure logs every line as a warning.
      level: "warn"
    })
    expect(event("gcr.io/org/db")).toEqual({
      pipeline: "piped.yaml",
      image: "gcr.io/org/db",
      file: "db.yaml",
      field: "spec.image",
      repo: "config",
      outcome: "failed",
      reason: "config",
      transient: false,
      level: "warn"
    })
    // A watcher file that failed whole names its repository and file, as a target's event does.
    const broken = log.lines.find((l) => String(l["message"]).startsWith("config/.pipe/broken.yaml  failed: "))
    expect(broken).toMatchObject({ pipeline: "piped.yaml", repo: "config", file: ".pipe/broken.yaml", outcome: "failed", reason: "config" })
  }, 30_000)

  test("an up-to-date target is logged at debug level, at every pass", async () => {
    const w = fakeWorld()
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.1.0\n`, ".pipe/w.yaml": WATCHER })
    w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
    const log = await daemonLogOfOnePass(w)
    const events = log.lines.filter((l) => l["image"] === IMAGE && l["outcome"] !== undefined)
    expect(events.map((l) => [l["outcome"], l["level"]])).toEqual([["up_to_date", "debug"]])
    // The pass's summary still says what happened, at info.
    expect(log.lines.find((l) => String(l["message"]).startsWith("1 targets: "))?.["level"]).toBe("info")
  }, 30_000)

  test("a repository that failed whole is one event with its repo", async () => {
    const w = seeded()
    w.remotes.refusePushes(REMOTE, "pre-receive hook declined")
    const log = await daemonLogOfOnePass(w)
    const failed = log.lines.find((l) => String(l["message"]).startsWith("repository config  failed: "))
    expect(failed).toMatchObject({ pipeline: "piped.yaml", repo: "config", outcome: "failed", reason: "push" })
    expect(failed?.["file"]).toBeUndefined()
  }, 30_000)
})
