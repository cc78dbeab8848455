import { Context, Effect, Layer, Ref } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"

/** A repository of a pipeline that watches an image through a provider. */
export interface Watch {
  readonly pipeline: string
  readonly repoId: string
  readonly provider: ProviderConfig
  readonly image: ImageRef
}

/**
 * Which repositories watch which images, as their last passes read their watcher files (known
 * only once read): where a notification of an image is routed.
 */
export class WatchRouting extends Context.Tag("WatchRouting")<
  WatchRouting,
  {
    /** Replaces what one repository of a pipeline watches. */
    readonly record: (pipeline: string, repoId: string, watches: ReadonlyArray<Watch>) => Effect.Effect<void>
    /** The watches of an image, matched by registry and repository. */
    readonly find: (image: ImageRef) => Effect.Effect<ReadonlyArray<Watch>>
    /** The watches of an image matched by repository path alone, whatever registry host the watcher file names. */
    readonly findByRepository: (repository: string) => Effect.Effect<ReadonlyArray<Watch>>
    /** How many distinct images the recorded watches name. */
    readonly watchedImages: Effect.Effect<number>
  }
>() {
  static readonly layer = Layer.effect(
    WatchRouting,
    Effect.gen(function* () {
      // Keyed by pipeline and repository: each pass replaces what its repository watches.
      const watches = yield* Ref.make<ReadonlyMap<string, ReadonlyArray<Watch>>>(new Map())
      const all = Ref.get(watches).pipe(Effect.map((byRepo) => [...byRepo.values()].flat()))
      return {
        record: (pipeline, repoId, recorded) => Ref.update(watches, (byRepo) => new Map(byRepo).set(`${pipeline}\u0000${repoId}`, recorded)),
        find: (image) => all.pipe(Effect.map((ws) => ws.filter((w) => imageName(w.image) === imageName(image)))),
        findByRepository: (repository) => all.pipe(Effect.map((ws) => ws.filter((w) => w.image.repository === repository))),
        watchedImages: all.pipe(Effect.map((ws) => new Set(ws.map((w) => imageName(w.image))).size))
      }
    })
  )
}
