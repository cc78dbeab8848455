/**
 * The schedule stage on a virtual clock: passes every `checkInterval`, and on SIGTERM a grace
 * period for the pass in flight, with `TestClock` standing in for time and fakes for git and the
 * registry. Real time passes only while a pass does its (in-memory) work; a test waits for the
 * passes the fakes report, never for real time.
 */
import { describe, expect, test } from "bun:test"
import { renameSync, writeFileSync } from "node:fs"
import { Chunk, Deferred, Duration, Effect, Fiber, Layer, Option, TestClock, TestContext } from "effect"
import { runForever } from "../../src/pipeline/run.ts"
import { providerConfig } from "../support/config.ts"
import { Readiness } from "../../src/pipeline/Readiness.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { readiness, scrape } from "../../src/server/Http.ts"
import { advance, fakeWorld, hangingTagSource, holdable, pipelineOf, REMOTE, stopDaemon, WATCHER } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"
const MINUTE = Duration.minutes(1)

const seeded = (w: ReturnType<typeof fakeWorld>) => {
  w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
  w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
}

// The defaults' shape: the provider's interval equals the check interval.
const pipeline = pipelineOf({ checkInterval: MINUTE, providers: [providerConfig({ name: "registry", interval: MINUTE })] })

const run = <A, E>(w: ReturnType<typeof fakeWorld>, program: Effect.Effect<A, E, Layer.Layer.Success<typeof w.layer>>) =>
  Effect.runPromise(program.pipe(Effect.provide(w.layer), Effect.provide(TestContext.TestContext)))

describe("runForever on a virtual clock", () => {
  test("passes at once, then every checkInterval and not before, listing afresh each time", async () => {
    const w = fakeWorld()
    seeded(w)
    const commits = () => w.remotes.log(REMOTE).length
    await run(
      w,
      Effect.gen(function* () {
        const daemon = yield* Effect.forkDaemon(runForever([pipeline], w.options))
        yield* w.nextPass
        expect(commits()).toBe(2)
        w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }, { tag: "1.2.0" }])
        // Just short of the interval: the tick still waits for its minute, and no pass has ended.
        yield* TestClock.adjust(Duration.seconds(59))
        yield* Effect.yieldNow()
        expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toContain(Duration.toMillis(MINUTE))
        expect(yield* w.unseenPasses).toBe(0)
        expect(commits()).toBe(2)
        yield* TestClock.adjust(Duration.seconds(1))
        yield* w.nextPass
        expect(commits()).toBe(3)
        expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.2.0\n`)
        // The next tick waits for its own minute.
        expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toContain(Duration.toMillis(Duration.times(MINUTE, 2)))
        yield* stopDaemon(daemon)
      })
    )
  }, 30_000)

  test("stopping waits up to the grace period for the pass in flight, then abandons it", async () => {
    const listing = Effect.runSync(Deferred.make<void>())
    // A registry that never answers: the pass hangs in its fetch stage.
    const hanging = hangingTagSource(listing)
    const w = fakeWorld(hanging)
    seeded(w)
    await run(
      w,
      Effect.gen(function* () {
        const daemon = yield* Effect.forkDaemon(runForever([pipeline], w.options, Duration.seconds(20)))
        yield* Deferred.await(listing)
        const stopping = yield* Effect.fork(Fiber.interrupt(daemon))
        yield* advance(Duration.seconds(19))
        expect(Option.isNone(yield* Fiber.poll(stopping))).toBe(true)
        yield* advance(Duration.seconds(2))
        expect(Option.isSome(yield* Fiber.poll(stopping))).toBe(true)
        yield* Fiber.join(stopping)
        // Abandoned: nothing was committed.
        expect(w.remotes.log(REMOTE).length).toBe(1)
      })
    )
  }, 30_000)

  test("/readyz fails with the reason while the data dir takes no writes, and recovers when it does again", async () => {
    const w = fakeWorld()
    seeded(w)
    const dataDir = w.options.dataDir
    await run(
      w,
      Effect.gen(function* () {
        const daemon = yield* Effect.forkDaemon(runForever([pipeline], w.options))
        yield* w.nextPass
        expect(yield* readiness(1, dataDir)).toEqual({ ready: true, reason: "ready" })
        // A file where the directory was: every write under it fails, whoever the process runs as.
        renameSync(dataDir, `${dataDir}.aside`)
        writeFileSync(dataDir, "")
        const broken = yield* readiness(1, dataDir)
        expect(broken.ready).toBe(false)
        expect(broken.reason).toStartWith(`not ready: data dir ${dataDir} is not writable: `)
        renameSync(dataDir, `${dataDir}.file`)
        renameSync(`${dataDir}.aside`, dataDir)
        expect(yield* readiness(1, dataDir)).toEqual({ ready: true, reason: "ready" })
        yield* stopDaemon(daemon)
      })
    )
  }, 30_000)

  test("a pass that overruns ten intervals makes /readyz fail with a reason and sets runner_pass_overrun, until a pass completes", async () => {
    const images = new Map([[IMAGE, [{ tag: "1.0.0" }]]])
    const held = holdable(TagSource.layerTest(images))
    const w = fakeWorld(held.layer)
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    const overrunning = { ...pipeline, name: "overrun.yaml" }
    const gauge = Effect.map(scrape, (text) => /^runner_pass_overrun\{pipeline="overrun\.yaml"\} (\d+)$/m.exec(text)?.[1])
    await run(
      w,
      Effect.gen(function* () {
        const passes = yield* Readiness
        const daemon = yield* Effect.forkDaemon(runForever([overrunning], w.options))
        yield* w.nextPass
        expect(yield* passes.completedPipelines).toBe(1)
        expect(yield* readiness(1, w.options.dataDir)).toEqual({ ready: true, reason: "ready" })
        expect(yield* gauge).toBe("0")
        // The next tick's pass hangs in its listing.
        const stuck = yield* held.holdNext
        yield* TestClock.adjust(MINUTE)
        yield* Deferred.await(stuck.entered)
        // Ten intervals since the last pass completed: late, not yet overrunning.
        yield* TestClock.adjust(Duration.minutes(9))
        expect((yield* readiness(1, w.options.dataDir)).ready).toBe(true)
        expect(yield* gauge).toBe("0")
        yield* TestClock.adjust(Duration.seconds(1))
        const late = yield* readiness(1, w.options.dataDir)
        expect(late.ready).toBe(false)
        expect(late.reason).toStartWith("not ready: passes overrun their schedule 10 times over: overrun.yaml (no pass completed for 10m 1s")
        expect(yield* gauge).toBe("1")
        yield* stuck.release
        // The held pass completes, and then the one the ticks gathered meanwhile.
        yield* w.nextPass
        expect((yield* readiness(1, w.options.dataDir)).ready).toBe(true)
        expect(yield* gauge).toBe("0")
        yield* w.nextPass
        yield* stopDaemon(daemon)
      })
    )
  }, 30_000)
})
