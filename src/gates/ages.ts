import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Schema } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import { type ImageRef, imageFileName } from "../domain/ImageRef.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { writeFileWhole } from "../files.ts"
import { decodeJsonText } from "../json.ts"

/** When this runner first saw a tag, and whether it was in the first listing it ever made of the image. */
export interface Sighting {
  readonly seen: number
  /** Present in the first listing: the only tags an image config's `created` may date, and only at or below a target's current tag. */
  readonly initial: boolean
}

const Stored = Schema.Struct({
  tags: Schema.Record({ key: Schema.String, value: Schema.Struct({ seen: Schema.Number, initial: Schema.Boolean }) })
})

/** Where the sightings of an image through a provider are kept, under the data dir. */
const fileOf = (path: Path.Path, dataDir: string, provider: ProviderConfig, image: ImageRef) =>
  path.join(dataDir, "first-seen", encodeURIComponent(provider.name), imageFileName(image, ".json"))

/**
 * Records a listing: tags not seen before are first seen `now`, tags that left the listing are
 * forgotten (the file stays as small as the listing). With no file yet, this is the first
 * listing ever, and its tags are `initial`. A file that cannot be read back starts a fresh
 * baseline in which nothing is initial: a damaged file never lets a tag be dated by `created`.
 * Written whole, and only when something changed.
 */
export const recordSightings = (
  dataDir: string,
  provider: ProviderConfig,
  image: ImageRef,
  tags: ReadonlyArray<TagInfo>,
  now: number
): Effect.Effect<ReadonlyMap<string, Sighting>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = fileOf(path, dataDir, provider, image)
    // Only a file that is not there makes this the first listing; one that cannot be read does not.
    const read = yield* fs.readFileString(file).pipe(
      Effect.map((text) => decodeJsonText(Stored, text)),
      Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "NotFound", () => Effect.succeed(undefined)),
      Effect.catchAll((e) => Effect.succeed(Either.left(e.message)))
    )
    const first = read === undefined
    if (read !== undefined && Either.isLeft(read)) {
      yield* Effect.logWarning(`first-seen times in ${file} are unreadable (${read.left}); every tag is first seen now`)
    }
    const known = read === undefined || Either.isLeft(read) ? {} : read.right.tags
    const sightings = new Map<string, Sighting>()
    let changed = false
    for (const { tag } of tags) {
      const before = Object.hasOwn(known, tag) ? known[tag] : undefined
      if (before !== undefined) sightings.set(tag, before)
      else {
        sightings.set(tag, { seen: now, initial: first })
        changed = true
      }
    }
    if (Object.keys(known).some((tag) => !sightings.has(tag))) changed = true
    if (changed) {
      const saved = fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(
        Effect.zipRight(writeFileWhole(fs, file, JSON.stringify({ tags: Object.fromEntries(sightings) }))),
        Effect.catchAll((e) => Effect.logWarning(`cannot keep first-seen times in ${file}: ${e.message}`))
      )
      yield* saved
    }
    return sightings
  })
