/**
 * Release dates kept by digest. Reading an image's `created` costs two or three requests (its
 * manifest, maybe a platform's, its config), and the release-line rule asks it of a few tags of
 * every image whose best candidate is on a newer line. A date is a fact about a digest and never
 * changes; which digest a tag points at does, when a tag is rebuilt in place. So each tag keeps
 * the digest it pointed at and when that was last checked: within the provider's interval the
 * kept date answers, after it one HEAD of the tag confirms the digest, and only a moved tag is
 * read again. With a data dir the dates outlive the process, so a `--once` run asks what the run
 * before it already learnt only once the interval has passed.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Effect, Either, Option, Schema } from "effect"
import { type ImageRef, imageFileName } from "../domain/ImageRef.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { Dated } from "../domain/TagInfo.ts"
import { writeFileWhole } from "../files.ts"
import { decodeJsonText } from "../json.ts"
import { makeKeptCache } from "../keptCache.ts"

/** Tags kept per image at most; past it, those checked longest ago go. */
const MAX_TAGS = 512

const Stored = Schema.Struct({
  tags: Schema.Record({ key: Schema.String, value: Schema.Struct({ digest: Schema.String, checked: Schema.Number }) }),
  /** The creation time by digest; null when the image does not say. */
  created: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Number) })
})

interface Kept {
  readonly tags: Map<string, { readonly digest: string; readonly checked: number }>
  readonly created: Map<string, number | null>
  /** One write of the file at a time, each of the record as it is then. */
  readonly saving: Effect.Semaphore
}

/** How a date is asked of the registry: the whole way, or only the digest the tag points at now. */
export interface DateSource<E> {
  readonly dated: Effect.Effect<Dated, E>
  readonly digest: Effect.Effect<string, E>
}

export interface KeptDates {
  /** When `tag`'s image was created: kept while `fresh` ms have not passed since its digest was checked, or while its digest is unchanged. */
  readonly created: <E>(provider: ProviderConfig, image: ImageRef, tag: string, fresh: number, source: DateSource<E>) => Effect.Effect<Option.Option<Date>, E>
}

/** Where an image's dates through a provider are kept, under the data dir. */
const fileOf = (path: Path.Path, dataDir: string, provider: ProviderConfig, image: ImageRef) =>
  path.join(dataDir, "release-dates", encodeURIComponent(provider.name), imageFileName(image, ".json"))

const empty = (): Kept => ({ tags: new Map(), created: new Map(), saving: Effect.unsafeMakeSemaphore(1) })

interface Disk {
  readonly load: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<Kept>
  readonly save: (provider: ProviderConfig, image: ImageRef, kept: Kept) => Effect.Effect<void>
}

const inMemory: Disk = { load: () => Effect.sync(empty), save: () => Effect.void }

const onDisk = (dataDir: string, fs: FileSystem.FileSystem, path: Path.Path): Disk => ({
  load: (provider, image) => {
    const file = fileOf(path, dataDir, provider, image)
    return fs.readFileString(file).pipe(
      Effect.map((text) => decodeJsonText(Stored, text)),
      Effect.catchAll((e) => Effect.succeed(e._tag === "SystemError" && e.reason === "NotFound" ? undefined : Either.left(e.message))),
      Effect.flatMap((read) => {
        if (read === undefined) return Effect.sync(empty)
        if (Either.isLeft(read)) return Effect.as(Effect.logWarning(`release dates in ${file} are unreadable (${read.left}); they are read again`), empty())
        return Effect.sync(() => ({ ...empty(), tags: new Map(Object.entries(read.right.tags)), created: new Map(Object.entries(read.right.created)) }))
      })
    )
  },
  save: (provider, image, kept) => {
    const file = fileOf(path, dataDir, provider, image)
    const write = Effect.suspend(() => {
      const tags = [...kept.tags].sort(([, a], [, b]) => b.checked - a.checked).slice(0, MAX_TAGS)
      const digests = new Set(tags.map(([, t]) => t.digest))
      const created = [...kept.created].filter(([digest]) => digests.has(digest))
      return fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(
        Effect.zipRight(writeFileWhole(fs, file, JSON.stringify({ tags: Object.fromEntries(tags), created: Object.fromEntries(created) })))
      )
    })
    return kept.saving.withPermits(1)(write).pipe(Effect.catchAll((e) => Effect.logWarning(`cannot keep release dates in ${file}: ${e.message}`)))
  }
})

const makeWith = (disk: Disk): Effect.Effect<KeptDates> =>
  Effect.map(makeKeptCache<Kept, never>({ keptFor: () => Infinity, max: 10_000 }), (records) => {
    const recordOf = (provider: ProviderConfig, image: ImageRef) =>
      records.get(`${provider.name}\u0000${imageFileName(image, "")}`, () => disk.load(provider, image))
    const created = <E>(provider: ProviderConfig, image: ImageRef, tag: string, fresh: number, source: DateSource<E>) =>
      Effect.gen(function* () {
        const kept = yield* recordOf(provider, image)
        const now = yield* Clock.currentTimeMillis
        const known = kept.tags.get(tag)
        const date = known === undefined ? undefined : kept.created.get(known.digest)
        if (known !== undefined && date !== undefined) {
          if (now - known.checked < fresh) return Option.fromNullable(date).pipe(Option.map((d) => new Date(d)))
          if ((yield* source.digest) === known.digest) {
            kept.tags.set(tag, { digest: known.digest, checked: now })
            yield* disk.save(provider, image, kept)
            return Option.fromNullable(date).pipe(Option.map((d) => new Date(d)))
          }
        }
        const dated = yield* source.dated
        if (Option.isSome(dated.digest)) {
          kept.tags.set(tag, { digest: dated.digest.value, checked: now })
          kept.created.set(dated.digest.value, Option.match(dated.created, { onNone: () => null, onSome: (d) => d.getTime() }))
          yield* disk.save(provider, image, kept)
        }
        return dated.created
      })
    return { created }
  })

/** Dates kept for the life of the process: a daemon's, or a test's. */
export const makeKeptDates: Effect.Effect<KeptDates> = makeWith(inMemory)

/** Dates kept in `dataDir` too, across runs. */
export const makeKeptDatesIn = (dataDir: string): Effect.Effect<KeptDates, never, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(Effect.all([FileSystem.FileSystem, Path.Path]), ([fs, path]) => makeWith(onDisk(dataDir, fs, path)))
