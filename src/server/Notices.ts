import { Path } from "@effect/platform"
import { Context, Data, Effect, Layer } from "effect"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { TagCache } from "../pipeline/TagCache.ts"
import { Triggers } from "../pipeline/Triggers.ts"
import { Readiness } from "../pipeline/Readiness.ts"
import { type Watch, WatchRouting } from "../pipeline/WatchRouting.ts"
import { storeDir } from "../registry/TagSource.ts"
import { type Registration, TagStore, type TagStoreError } from "../registry/TagStore.ts"

/** No repository watches the image (answered 404, so CI sees a typo in the image name). */
export class NotWatched extends Data.TaggedError("NotWatched")<{ readonly image: string; readonly ready: boolean }> {
  override get message() {
    return this.ready
      ? `no pipeline watches image ${this.image}`
      : `image ${this.image} is not known yet: the first pass has not read every watcher file; try again shortly`
  }
}

/** What a notification set off. */
export interface NoticeResult {
  readonly image: string
  /** STORE providers the tag was registered in. */
  readonly registered: ReadonlyArray<string>
  /** Repositories checked at once, as `pipeline/repoId`. */
  readonly checked: ReadonlyArray<string>
}

/**
 * Turns notifications (the API, registry webhooks) into work: tags go into the STORE providers
 * watching the image, the image's cached listing is dropped, and the repositories watching it
 * pass at once instead of at their next tick.
 */
export class Notices extends Context.Tag("Notices")<
  Notices,
  {
    /** CI registered a tag (`POST /api/v1/images`). */
    readonly register: (image: ImageRef, registration: Registration) => Effect.Effect<NoticeResult, NotWatched | TagStoreError>
    /**
     * A registry announced a push. When no watcher names the image with this registry host, the
     * repository path alone is matched: registries behind a proxy often know themselves by another name.
     */
    readonly pushed: (image: ImageRef) => Effect.Effect<NoticeResult, NotWatched>
  }
>() {
  static readonly layer = (dataDir: string, pipelineCount: number) =>
    Layer.effect(
      Notices,
      Effect.gen(function* () {
        const routing = yield* WatchRouting
        const readiness = yield* Readiness
        const cache = yield* TagCache
        const triggers = yield* Triggers
        const store = yield* TagStore
        const path = yield* Path.Path

        const notWatched = (image: ImageRef) =>
          readiness.completedPipelines.pipe(Effect.flatMap((n) => new NotWatched({ image: imageName(image), ready: n >= pipelineCount })))

        const check = (image: ImageRef, watches: ReadonlyArray<Watch>, registered: ReadonlyArray<string>) =>
          Effect.gen(function* () {
            yield* Effect.forEach(watches, (w) => cache.invalidate(w.provider, w.image), { discard: true })
            const byPipeline = new Map<string, Set<string>>()
            for (const w of watches) byPipeline.set(w.pipeline, (byPipeline.get(w.pipeline) ?? new Set()).add(w.repoId))
            yield* Effect.forEach(byPipeline, ([pipeline, repoIds]) => triggers.fire({ pipeline, repoIds }), { discard: true })
            const checked = [...byPipeline].flatMap(([pipeline, repoIds]) => [...repoIds].map((r) => `${pipeline}/${r}`))
            yield* Effect.logInfo(`checking ${checked.length} repositor${checked.length === 1 ? "y" : "ies"} now`).pipe(
              Effect.annotateLogs({ image: imageName(image) })
            )
            return { image: imageName(image), registered, checked } satisfies NoticeResult
          })

        const register = Effect.fn("Notices.register")(function* (image: ImageRef, registration: Registration) {
          const watches = yield* routing.find(image)
          if (watches.length === 0) return yield* notWatched(image)
          // Several targets, repositories or pipelines may share one store: write each store once.
          const stores = new Map<string, string>()
          for (const w of watches) if (w.provider.type === "STORE") stores.set(storeDir(w.provider, dataDir, path), w.provider.name)
          yield* Effect.forEach(stores, ([dir, provider]) =>
            store.register(dir, image, registration).pipe(
              Effect.tap(() => Effect.logInfo(`registered tag ${registration.tag}`).pipe(Effect.annotateLogs({ provider, image: imageName(image) })))
            ),
            { discard: true }
          )
          return yield* check(image, watches, [...new Set(stores.values())])
        })

        const pushed = Effect.fn("Notices.pushed")(function* (image: ImageRef) {
          const exact = yield* routing.find(image)
          const watches = exact.length > 0 ? exact : yield* routing.findByRepository(image.repository)
          // A push into a registry cannot feed a tag store: those only hold what CI registered; nor
          // does it say anything of a chart repository's index.yaml.
          const polled = watches.filter((w) => w.provider.type !== "STORE" && w.provider.type !== "HELM")
          if (polled.length === 0) return yield* notWatched(image)
          return yield* check(image, polled, [])
        })

        return { register, pushed }
      })
    )
}
