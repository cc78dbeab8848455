/**
 * The pipeline in process, on fake services: an in-memory git remote and an in-memory registry.
 * No binary, no server, no network; the data dir is a temporary directory.
 */
import { NodeContext } from "@effect/platform-node"
import { Deferred, Duration, Effect, Either, Fiber, Layer, Logger, LogLevel, Option, Queue, Redacted, TestClock } from "effect"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import type { GateConfig, Pipeline, WatchedRepo } from "../../src/config/model.ts"
import { Signatures } from "../../src/gates/Signatures.ts"
import * as FakeGit from "../../src/git/FakeGit.ts"
import type { PassOptions } from "../../src/pipeline/pass.ts"
import { STOP_GRACE } from "../../src/pipeline/run.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { Triggers } from "../../src/pipeline/Triggers.ts"
import { Readiness } from "../../src/pipeline/Readiness.ts"
import { WatchRouting } from "../../src/pipeline/WatchRouting.ts"
import { LastWritten } from "../../src/pipeline/LastWritten.ts"
import { Pauses } from "../../src/pipeline/Pauses.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { TagStore } from "../../src/registry/TagStore.ts"
import { serverLayer } from "../../src/server/Http.ts"
import { Notices } from "../../src/server/Notices.ts"
import { providerConfig } from "./config.ts"
import { freePort } from "./registry.ts"
import { tempDir } from "./tempDirs.ts"

export const REMOTE = "https://git.test/org/config.git"

/** One target, `image` in `app.yaml`'s `image` field, through the provider `registry`. */
export const WATCHER = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: gcr.io/org/app, provider: registry, filePath: app.yaml, field: image}
`

/** One pipeline watching one repository (`config` on `REMOTE`, branch `main`) through these providers. */
export const pipelineOf = (
  options: {
    readonly providers?: ReadonlyArray<ProviderConfig>
    readonly watchedRepos?: ReadonlyArray<WatchedRepo>
    readonly checkInterval?: Duration.Duration
    readonly gates?: ReadonlyArray<GateConfig>
  } = {}
): Pipeline => ({
  name: "piped.yaml",
  file: "piped.yaml",
  git: { username: "piped", email: "pipecd.dev@gmail.com" },
  repositories: [{ repoId: "config", remote: REMOTE, branch: "main", source: { file: "piped.yaml", line: 5 } }],
  providers: options.providers ?? [providerConfig({ name: "registry" })],
  chartRepositories: [],
  chartRegistries: [],
  checkInterval: options.checkInterval ?? Duration.minutes(5),
  watchedRepos: options.watchedRepos ?? [],
  gates: options.gates ?? []
})

/** A completed pass as the world saw it: its pipeline and the repositories whose watcher files it read. */
export interface PassSeen {
  readonly pipeline: string
  readonly repoIds: ReadonlyArray<string>
}

/**
 * The real routing and readiness, also telling `passes` of each completed pass, so that a test
 * waits for one instead of polling.
 */
const observed = (passes: Queue.Enqueue<PassSeen>) => {
  const reading = new Map<string, Set<string>>()
  const routing = Layer.effect(
    WatchRouting,
    Effect.map(WatchRouting, (routing) => ({
      ...routing,
      record: (pipeline: string, repoId: string, watches: Parameters<typeof routing.record>[2]) =>
        Effect.sync(() => reading.set(pipeline, (reading.get(pipeline) ?? new Set()).add(repoId))).pipe(Effect.zipRight(routing.record(pipeline, repoId, watches)))
    }))
  ).pipe(Layer.provide(WatchRouting.layer))
  const readiness = Layer.effect(
    Readiness,
    Effect.map(Readiness, (readiness) => ({
      ...readiness,
      passCompleted: (pipeline: string) =>
        readiness.passCompleted(pipeline).pipe(
          Effect.zipRight(
            Effect.suspend(() => {
              const repoIds = [...(reading.get(pipeline) ?? [])].sort()
              reading.delete(pipeline)
              return Queue.offer(passes, { pipeline, repoIds })
            })
          )
        )
    }))
  ).pipe(Layer.provide(Readiness.layer))
  return Layer.merge(routing, readiness)
}

/**
 * A fresh world: the remotes, the registry's images, and the layers that serve them to the
 * pipeline. `tags` replaces the in-memory registry (a registry that hangs, for instance).
 */
export const fakeWorld = (tags?: Layer.Layer<TagSource>, signatures?: Layer.Layer<Signatures>) => {
  const remotes = new FakeGit.Remotes()
  const images = new Map<string, ReadonlyArray<TagInfo>>()
  const passes = Effect.runSync(Queue.unbounded<PassSeen>())
  const layer = Layer.merge(TagCache.layer, signatures ?? Signatures.layerTest(() => Either.left("no signature"))).pipe(
    Layer.provideMerge(Layer.mergeAll(tags ?? TagSource.layerTest(images), FakeGit.layer(remotes), observed(passes), Triggers.layer, LastWritten.layer, Pauses.layer, RegistryHttp.layer)),
    Layer.provideMerge(NodeContext.layer),
    // What a pass logs is the daemon's business; a test reads the report.
    Layer.provideMerge(Logger.minimumLogLevel(LogLevel.Warning))
  )
  const options: PassOptions = { dryRun: false, dataDir: tempDir("runner-inprocess-") }
  /** The next completed pass, in the order they complete; waits for it. */
  const nextPass = Queue.take(passes)
  /** Completed passes not yet taken by `nextPass`. */
  const unseenPasses = Queue.size(passes)
  return { remotes, images, layer, options, nextPass, unseenPasses }
}

/** The step in which a stopping daemon polls for the pass in flight (`STOP_POLL` in run.ts). */
const STOP_POLL = Duration.millis(100)

/**
 * Moves the virtual clock on by `total`, one `step` at a time, letting the fibers each step wakes
 * run before the next: a fiber that starts sleeping during the move (a stopping daemon's drain)
 * still wakes on time, where one `TestClock.adjust` would leave it behind.
 */
export const advance = (total: Duration.DurationInput, step: Duration.DurationInput = STOP_POLL) =>
  Effect.gen(function* () {
    const steps = Math.ceil(Duration.toMillis(total) / Duration.toMillis(step))
    for (let i = 0; i < steps; i++) {
      yield* Effect.yieldNow()
      yield* TestClock.adjust(step)
    }
  })

/**
 * Stops a daemon started with `grace`: interrupted, it drains on the virtual clock, which moves on
 * in the drain's steps until the daemon is down, at once if no pass is in flight, at `grace` if
 * one hangs (and dies a step past it, had the drain not ended).
 * Tests fork their daemon with `Effect.forkDaemon`: one that fails then reports at once, instead
 * of waiting, on a clock that stands still, for a daemon it would interrupt to drain.
 */
export const stopDaemon = (daemon: Fiber.RuntimeFiber<unknown, unknown>, grace: Duration.DurationInput = STOP_GRACE) =>
  Effect.gen(function* () {
    const stopping = yield* Effect.fork(Fiber.interrupt(daemon))
    const steps = Math.ceil(Duration.toMillis(grace) / Duration.toMillis(STOP_POLL)) + 1
    for (let i = 0; i < steps && Option.isNone(yield* Fiber.poll(stopping)); i++) yield* advance(STOP_POLL)
    if (Option.isNone(yield* Fiber.poll(stopping))) return yield* Effect.dieMessage("the daemon did not stop within its grace period")
  })

/** A registry that never answers: a pass hangs in its fetch stage, after `listing` is completed. */
export const hangingTagSource = (listing: Deferred.Deferred<void>) =>
  Layer.succeed(TagSource, {
    list: () => Deferred.succeed(listing, undefined).pipe(Effect.zipRight(Effect.never)),
    digest: () => Effect.never,
    created: () => Effect.never,
    manifest: () => Effect.never,
    blob: () => Effect.never,
    referrers: () => Effect.never,
    pushTimes: () => Effect.never
  })

/** A registry whose listings wait, once `hold` is set, until it is released. */
export const holdable = (inner: Layer.Layer<TagSource>) => {
  let hold: { readonly entered: Deferred.Deferred<void>; readonly release: Deferred.Deferred<void> } | undefined
  const layer = Layer.effect(
    TagSource,
    Effect.map(TagSource, (source) => ({
      ...source,
      list: (provider, image) =>
        Effect.suspend(() =>
          hold === undefined
            ? source.list(provider, image)
            : Deferred.succeed(hold.entered, undefined).pipe(Effect.zipRight(Deferred.await(hold.release)), Effect.zipRight(source.list(provider, image)))
        )
    }))
  ).pipe(Layer.provide(inner))
  const holdNext = Effect.map(Effect.all([Deferred.make<void>(), Deferred.make<void>()]), ([entered, release]) => {
    hold = { entered, release }
    return { entered, release: Effect.sync(() => (hold = undefined)).pipe(Effect.zipRight(Deferred.succeed(release, undefined))) }
  })
  return { layer, holdNext }
}

/** The API server of a world on a free loopback port, behind `token`: its URL and its layer, over the world's own. */
export const apiServer = async (w: ReturnType<typeof fakeWorld>, token: string) => {
  const port = await freePort()
  const layer = serverLayer({ host: "127.0.0.1", port, token: Option.some(Redacted.make(token)), githubSignature: Option.none(), pipelineCount: 1, dataDir: w.options.dataDir }).pipe(
    Layer.provide(Notices.layer(w.options.dataDir, 1)),
    Layer.provide(TagStore.layer),
    Layer.provideMerge(w.layer)
  )
  return { url: `http://127.0.0.1:${port}`, layer }
}
