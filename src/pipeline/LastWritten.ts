/**
 * What the runner last wrote into each target, kept in the data dir: a person who sets a target
 * back below it is obeyed (see `holds.ts`). Recorded once the change is pushed, whatever the
 * write mode, never by a dry run.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { readDataFile, writeDataFile } from "../dataFile.ts"

/** A target as the store knows it: a target whose image changes is another target. */
export interface WrittenTarget {
  readonly filePath: string
  readonly field: string
  /** The image as its watcher file writes it, without tag. */
  readonly image: string
}

export interface WrittenTag {
  readonly tag: string
  /** When it was recorded, in milliseconds since the epoch. */
  readonly at: number
}

/** The store's key of a target within its repository. */
export const writtenKey = (t: WrittenTarget): string => JSON.stringify([t.filePath, t.field, t.image])

/** Entries kept per repository at most; past it the oldest recorded go first. */
export const MAX_WRITTEN = 10_000

const Stored = Schema.Struct({
  written: Schema.Record({ key: Schema.String, value: Schema.Struct({ tag: Schema.String, at: Schema.Number }) })
})

export interface LastWrittenStore {
  /** The tags last written into the repository's targets, by `writtenKey`. */
  readonly read: (dataDir: string, repoId: string) => Effect.Effect<ReadonlyMap<string, WrittenTag>>
  /** Records pushed writes; a failure to keep them is a warning, never a failed pass (the push happened). */
  readonly record: (dataDir: string, repoId: string, written: ReadonlyArray<WrittenTarget & { readonly tag: string }>) => Effect.Effect<void>
}

/** The entries after `written`, the oldest dropped past `max`. */
const merged = (before: ReadonlyMap<string, WrittenTag>, written: ReadonlyArray<WrittenTarget & { readonly tag: string }>, now: number, max: number) => {
  const after = new Map(before)
  for (const w of written) {
    const key = writtenKey(w)
    after.delete(key)
    after.set(key, { tag: w.tag, at: now })
  }
  if (after.size <= max) return after
  return new Map([...after].sort((a, b) => b[1].at - a[1].at).slice(0, max))
}

export class LastWritten extends Context.Tag("LastWritten")<LastWritten, LastWrittenStore>() {
  /** One JSON file per repository under `<data dir>/written/`. */
  static readonly layerWith = (max: number) =>
    Layer.effect(
      LastWritten,
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const fileOf = (dataDir: string, repoId: string) => path.join(dataDir, "written", `${encodeURIComponent(repoId)}.json`)
        const read = (dataDir: string, repoId: string) =>
          readDataFile(fileOf(dataDir, repoId), Stored, "tags last written").pipe(
            Effect.map((stored): ReadonlyMap<string, WrittenTag> => new Map(stored === undefined ? [] : Object.entries(stored.written))),
            Effect.provideService(FileSystem.FileSystem, fs)
          )
        const record: LastWrittenStore["record"] = (dataDir, repoId, written) =>
          Effect.gen(function* () {
            if (written.length === 0) return
            const file = fileOf(dataDir, repoId)
            const after = merged(yield* read(dataDir, repoId), written, yield* Clock.currentTimeMillis, max)
            yield* writeDataFile(file, { written: Object.fromEntries(after) }).pipe(
              Effect.catchAll((e) => Effect.logWarning(`cannot keep the tags last written in ${file}: ${e.message}`)),
              Effect.provideService(FileSystem.FileSystem, fs),
              Effect.provideService(Path.Path, path)
            )
          })
        return { read, record }
      })
    )

  static readonly layer = LastWritten.layerWith(MAX_WRITTEN)

  /** In memory, for tests: what a test records is read back, by data dir and repository. */
  static readonly layerTestWith = (max: number) =>
    Layer.sync(LastWritten, () => {
      const stores = new Map<string, ReadonlyMap<string, WrittenTag>>()
      const id = (dataDir: string, repoId: string) => `${dataDir}\u0000${repoId}`
      return {
        read: (dataDir, repoId) => Effect.sync(() => stores.get(id(dataDir, repoId)) ?? new Map()),
        record: (dataDir, repoId, written) =>
          Clock.currentTimeMillis.pipe(
            Effect.map((now) => {
              if (written.length > 0) stores.set(id(dataDir, repoId), merged(stores.get(id(dataDir, repoId)) ?? new Map(), written, now, max))
            })
          )
      }
    })

  static readonly layerTest = LastWritten.layerTestWith(MAX_WRITTEN)
}
