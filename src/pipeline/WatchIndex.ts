import { Context, Effect, Layer, Ref } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"

/** A repository of a pipeline that watches an image through a provider. */
export interface Watch {
  readonly pipeline: string
  readonly repoId: string
  readonly provider: ProviderConfig
  readonly image: ImageRef
}

interface State {
  /** Keyed by pipeline and repository: each pass replaces what its repository watches. */
  readonly watches: ReadonlyMap<string, ReadonlyArray<Watch>>
  readonly passed: ReadonlySet<string>
}

/**
 * What the daemon has learned from its passes: which repositories watch which images (known only
 * once their watcher files were read) and which pipelines completed a first pass (readiness).
 */
export class WatchIndex extends Context.Tag("WatchIndex")<
  WatchIndex,
  {
    /** Replaces what one repository of a pipeline watches. */
    readonly record: (pipeline: string, repoId: string, watches: ReadonlyArray<Watch>) => Effect.Effect<void>
    /** The watches of an image, matched by registry and repository. */
    readonly find: (image: ImageRef) => Effect.Effect<ReadonlyArray<Watch>>
    /** The watches of an image matched by repository path alone, whatever registry host the watcher file names. */
    readonly findByRepository: (repository: string) => Effect.Effect<ReadonlyArray<Watch>>
    readonly passCompleted: (pipeline: string) => Effect.Effect<void>
    /** How many distinct pipelines have completed a pass. */
    readonly completedPipelines: Effect.Effect<number>
    /** How many distinct images the recorded watches name. */
    readonly watchedImages: Effect.Effect<number>
  }
>() {
  static readonly layer = Layer.effect(
    WatchIndex,
    Effect.gen(function* () {
      const state = yield* Ref.make<State>({ watches: new Map(), passed: new Set() })
      const all = Ref.get(state).pipe(Effect.map((s) => [...s.watches.values()].flat()))
      return {
        record: (pipeline, repoId, watches) =>
          Ref.update(state, (s) => ({ ...s, watches: new Map(s.watches).set(`${pipeline}\u0000${repoId}`, watches) })),
        find: (image) => all.pipe(Effect.map((ws) => ws.filter((w) => imageName(w.image) === imageName(image)))),
        findByRepository: (repository) => all.pipe(Effect.map((ws) => ws.filter((w) => w.image.repository === repository))),
        passCompleted: (pipeline) => Ref.update(state, (s) => ({ ...s, passed: new Set(s.passed).add(pipeline) })),
        completedPipelines: Ref.get(state).pipe(Effect.map((s) => s.passed.size)),
        watchedImages: all.pipe(Effect.map((ws) => new Set(ws.map((w) => imageName(w.image))).size))
      }
    })
  )
}
