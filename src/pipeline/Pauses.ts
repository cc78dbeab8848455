/**
 * Targets an operator paused through the API (`POST /api/v1/targets/pause`), kept in the data dir
 * and read by every pass: a paused target is written nothing until it is resumed.
 */
import { FileSystem, Path } from "@effect/platform"
import { Context, Data, Effect, Either, Layer, Schema } from "effect"
import { parseImageName, imageName } from "../domain/ImageRef.ts"
import { readDataFile, writeDataFile } from "../dataFile.ts"

/** One target, or every target of an image. */
export type Pause =
  | { readonly _tag: "Target"; readonly repoId: string; readonly filePath: string; readonly field: string }
  /** `image`: normalised (`nginx` is `docker.io/library/nginx`), without tag. */
  | { readonly _tag: "Image"; readonly image: string }

/** Pauses kept at most: a runaway client cannot grow the file without bound. */
export const MAX_PAUSES = 10_000

export class PauseStoreError extends Data.TaggedError("PauseStoreError")<{ readonly detail: string }> {
  override get message() {
    return `pauses: ${this.detail}`
  }
}

const StoredPause = Schema.Union(
  Schema.TaggedStruct("Target", { repoId: Schema.String, filePath: Schema.String, field: Schema.String }),
  Schema.TaggedStruct("Image", { image: Schema.String })
)
const Stored = Schema.Struct({ pauses: Schema.Array(StoredPause) })

const samePause = (a: Pause, b: Pause): boolean =>
  a._tag === "Image" ? b._tag === "Image" && a.image === b.image : b._tag === "Target" && a.repoId === b.repoId && a.filePath === b.filePath && a.field === b.field

/** The image name pauses compare: a watcher file's `nginx` and an API's `docker.io/library/nginx` are one image. */
export const pausedImageName = (image: string): string => Either.match(parseImageName(image), { onLeft: () => image, onRight: imageName })

/** Whether a pause holds this target: its own, or its image's. */
export const isPaused = (pauses: ReadonlyArray<Pause>, repoId: string, target: { readonly filePath: string; readonly field: string; readonly image: string }): boolean =>
  pauses.some((p) =>
    p._tag === "Target" ? p.repoId === repoId && p.filePath === target.filePath && p.field === target.field : p.image === pausedImageName(target.image)
  )

export interface PauseStore {
  readonly list: (dataDir: string) => Effect.Effect<ReadonlyArray<Pause>>
  /** True when the pause is new. */
  readonly pause: (dataDir: string, pause: Pause) => Effect.Effect<boolean, PauseStoreError>
  /** True when there was such a pause. */
  readonly resume: (dataDir: string, pause: Pause) => Effect.Effect<boolean, PauseStoreError>
}

/** The pauses after adding or removing one, or why not. */
const change = (before: ReadonlyArray<Pause>, pause: Pause, add: boolean, max: number): Either.Either<ReadonlyArray<Pause> | undefined, PauseStoreError> => {
  const known = before.some((p) => samePause(p, pause))
  if (add === known) return Either.right(undefined)
  if (!add) return Either.right(before.filter((p) => !samePause(p, pause)))
  return before.length >= max ? Either.left(new PauseStoreError({ detail: `${max} pauses already kept; resume some first` })) : Either.right([...before, pause])
}

export class Pauses extends Context.Tag("Pauses")<Pauses, PauseStore>() {
  /** One file, `<data dir>/pauses.json`. */
  static readonly layerWith = (max: number) =>
    Layer.effect(
      Pauses,
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const fileOf = (dataDir: string) => path.join(dataDir, "pauses.json")
        const list = (dataDir: string) =>
          readDataFile(fileOf(dataDir), Stored, "pauses").pipe(
            Effect.map((stored): ReadonlyArray<Pause> => stored?.pauses ?? []),
            Effect.provideService(FileSystem.FileSystem, fs)
          )
        const update = (add: boolean) => (dataDir: string, pause: Pause) =>
          Effect.gen(function* () {
            const after = yield* change(yield* list(dataDir), pause, add, max)
            if (after === undefined) return false
            yield* writeDataFile(fileOf(dataDir), { pauses: after }).pipe(
              Effect.mapError((e) => new PauseStoreError({ detail: `cannot write ${fileOf(dataDir)}: ${e.message}` })),
              Effect.provideService(FileSystem.FileSystem, fs),
              Effect.provideService(Path.Path, path)
            )
            return true
          })
        return { list, pause: update(true), resume: update(false) }
      })
    )

  static readonly layer = Pauses.layerWith(MAX_PAUSES)

  /** In memory, by data dir, for tests. */
  static readonly layerTestWith = (max: number) =>
    Layer.sync(Pauses, () => {
      const stores = new Map<string, ReadonlyArray<Pause>>()
      const update = (add: boolean) => (dataDir: string, pause: Pause) =>
        Effect.suspend(() => change(stores.get(dataDir) ?? [], pause, add, max)).pipe(
          Effect.map((after) => {
            if (after !== undefined) stores.set(dataDir, after)
            return after !== undefined
          })
        )
      return { list: (dataDir) => Effect.sync(() => stores.get(dataDir) ?? []), pause: update(true), resume: update(false) }
    })

  static readonly layerTest = Pauses.layerTestWith(MAX_PAUSES)
}
