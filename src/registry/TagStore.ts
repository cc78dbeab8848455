import { FileSystem, Path } from "@effect/platform"
import { Clock, Context, Data, Effect, Either, Layer, Schema } from "effect"
import { type ImageRef, imageFileName, imageName } from "../domain/ImageRef.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { writeFileWhole } from "../files.ts"
import { decodeJsonText } from "../json.ts"

/** The built-in tag store: tags that CI registered for an image, kept in one JSON file per image. */

const StoredTag = Schema.Struct({
  tag: Schema.String,
  digest: Schema.optional(Schema.String),
  created: Schema.String
})
const StoredImage = Schema.Struct({ image: Schema.String, tags: Schema.Array(StoredTag) })
const StoredImageJson = Schema.parseJson(StoredImage)

export class TagStoreError extends Data.TaggedError("TagStoreError")<{ readonly dir: string; readonly detail: string }> {
  override get message() {
    return `tag store ${this.dir}: ${this.detail}`
  }
}

export interface Registration {
  readonly tag: string
  readonly digest?: string
}

const fileFor = (image: ImageRef) => imageFileName(image, ".json")

export class TagStore extends Context.Tag("TagStore")<
  TagStore,
  {
    readonly list: (dir: string, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, TagStoreError>
    readonly register: (dir: string, image: ImageRef, registration: Registration) => Effect.Effect<void, TagStoreError>
  }
>() {
  static readonly layer = Layer.effect(
    TagStore,
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const fail = (dir: string) => (e: { readonly message: string }) => new TagStoreError({ dir, detail: e.message })

      const read = (dir: string, image: ImageRef) =>
        Effect.gen(function* () {
          // No file yet is no tag yet; one read rather than a look and then a read.
          const text = yield* fs.readFileString(path.join(dir, fileFor(image))).pipe(
            Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "NotFound", () => Effect.succeed(undefined)),
            Effect.mapError(fail(dir))
          )
          if (text === undefined) return []
          const stored = yield* Either.mapLeft(decodeJsonText(StoredImage, text), (detail) => new TagStoreError({ dir, detail }))
          return stored.tags
        })

      const list = (dir: string, image: ImageRef) => Effect.gen(function* () {
        const tags = yield* read(dir, image)
        return tags.map((t): TagInfo => ({
          tag: t.tag,
          created: new Date(t.created),
          pushed: new Date(t.created),
          ...(t.digest === undefined ? {} : { digest: t.digest })
        }))
      })

      const register = Effect.fn("TagStore.register")(function* (dir: string, image: ImageRef, registration: Registration) {
        const now = yield* Clock.currentTimeMillis
        const tags = (yield* read(dir, image)).filter((t) => t.tag !== registration.tag)
        const entry = {
          tag: registration.tag,
          created: new Date(now).toISOString(),
          ...(registration.digest === undefined ? {} : { digest: registration.digest })
        }
        const text = yield* Schema.encode(StoredImageJson)({ image: imageName(image), tags: [...tags, entry] }).pipe(
          Effect.mapError(fail(dir))
        )
        yield* fs.makeDirectory(dir, { recursive: true }).pipe(
          Effect.zipRight(writeFileWhole(fs, path.join(dir, fileFor(image)), text + "\n")),
          Effect.mapError(fail(dir))
        )
      })

      return { list, register }
    })
  )
}
