/**
 * The pipeline in process, on fake services: an in-memory git remote and an in-memory registry.
 * No binary, no server, no network; the data dir is a temporary directory.
 */
import { NodeContext } from "@effect/platform-node"
import { Deferred, Duration, Effect, Either, Layer, Logger, LogLevel } from "effect"
import type { GateConfig, Pipeline, ProviderConfig, WatchedRepo } from "../../src/config/model.ts"
import { Signatures } from "../../src/gates/Signatures.ts"
import * as FakeGit from "../../src/git/FakeGit.ts"
import type { PassOptions } from "../../src/pipeline/pass.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { Triggers } from "../../src/pipeline/Triggers.ts"
import { Readiness } from "../../src/pipeline/Readiness.ts"
import { WatchRouting } from "../../src/pipeline/WatchRouting.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { providerConfig } from "./config.ts"
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
  checkInterval: options.checkInterval ?? Duration.minutes(5),
  watchedRepos: options.watchedRepos ?? [],
  gates: options.gates ?? []
})

/**
 * A fresh world: the remotes, the registry's images, and the layers that serve them to the
 * pipeline. `tags` replaces the in-memory registry (a registry that hangs, for instance).
 */
export const fakeWorld = (tags?: Layer.Layer<TagSource>, signatures?: Layer.Layer<Signatures>) => {
  const remotes = new FakeGit.Remotes()
  const images = new Map<string, ReadonlyArray<TagInfo>>()
  const layer = Layer.merge(TagCache.layer, signatures ?? Signatures.layerTest(() => Either.left("no signature"))).pipe(
    Layer.provideMerge(Layer.mergeAll(tags ?? TagSource.layerTest(images), FakeGit.layer(remotes), WatchRouting.layer, Readiness.layer, Triggers.layer)),
    Layer.provideMerge(NodeContext.layer),
    // What a pass logs is the daemon's business; a test reads the report.
    Layer.provideMerge(Logger.minimumLogLevel(LogLevel.Warning))
  )
  const options: PassOptions = { dryRun: false, dataDir: tempDir("runner-inprocess-") }
  return { remotes, images, layer, options }
}

/** Waits in real time (a virtual clock stands still) until `done` holds; dies after ten seconds. */
export const until = (done: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000 && !done(); i++) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
    if (!done()) return yield* Effect.dieMessage("timed out waiting")
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
