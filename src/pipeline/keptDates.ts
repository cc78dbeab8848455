/**
 * Release dates kept by digest. Reading an image's `created` costs two or three requests (its
 * manifest, maybe a platform's, its config), and the release-line rule asks it of a few tags of
 * every image whose best candidate is on a newer line. A date is a fact about a digest and never
 * changes; which digest a tag points at does, when a tag is rebuilt in place. So each tag keeps
 * the digest it pointed at and when that was last checked: within the provider's interval the
 * kept date answers, after it one HEAD of the tag confirms the digest, and only a moved tag is
 * read again. With a data dir the dates outlive the process in one file, read once and written
 * whole at the end of a resolve stage that learnt something, so a `--once` run asks what the run
 * before it already learnt only once the interval has passed.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Effect, Option, Schema } from "effect"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { Dated } from "../domain/TagInfo.ts"
import { readDataFile, writeDataFile } from "../dataFile.ts"

/** Tags kept per image at most; past it, those checked longest ago go. */
const MAX_TAGS = 512
/** A tag not checked for this long (its image no longer watched, or the tag no longer asked about) is dropped. */
const FORGOTTEN_AFTER = 30 * 86_400_000

const Image = Schema.Struct({
  tags: Schema.Record({ key: Schema.String, value: Schema.Struct({ digest: Schema.String, checked: Schema.Number }) }),
  /** The creation time by digest; null when the image does not say. */
  created: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Number) })
})
/** By provider name, then image name. */
const Stored = Schema.Struct({ providers: Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: Image }) }) })

interface Kept {
  readonly tags: Map<string, { readonly digest: string; readonly checked: number }>
  readonly created: Map<string, number | null>
}

/** Every image's kept dates, by provider name then image name, and whether they changed since last written. */
interface State {
  readonly providers: Map<string, Map<string, Kept>>
  dirty: boolean
}

/** How a date is asked of the registry: the whole way, or only the digest the tag points at now. */
export interface DateSource<E> {
  readonly dated: Effect.Effect<Dated, E>
  readonly digest: Effect.Effect<string, E>
}

export interface KeptDates {
  /** When `tag`'s image was created: kept while `fresh` ms have not passed since its digest was checked, or while its digest is unchanged. */
  readonly created: <E>(provider: ProviderConfig, image: ImageRef, tag: string, fresh: number, source: DateSource<E>) => Effect.Effect<Option.Option<Date>, E>
  /**
   * The dates of an image kept within `fresh` ms of their check, read without asking anything:
   * None for a tag whose image does not say, undefined for one not kept or not fresh.
   */
  readonly freshOf: (provider: ProviderConfig, image: ImageRef, fresh: number) => Effect.Effect<(tag: string) => Option.Option<Date> | undefined>
  /** Writes what was learnt since the last write, if anything. */
  readonly keep: Effect.Effect<void>
}

interface Disk {
  readonly load: Effect.Effect<State>
  readonly save: (state: State, now: number) => Effect.Effect<void>
}

const empty = (): State => ({ providers: new Map(), dirty: false })

const inMemory: Disk = { load: Effect.sync(empty), save: () => Effect.void }

const toState = (stored: typeof Stored.Type): State => ({
  providers: new Map(
    Object.entries(stored.providers).map(([name, images]) => [
      name,
      new Map(Object.entries(images).map(([image, kept]) => [image, { tags: new Map(Object.entries(kept.tags)), created: new Map(Object.entries(kept.created)) }]))
    ])
  ),
  dirty: false
})

/** What is written: tags checked within FORGOTTEN_AFTER, at most MAX_TAGS an image, and the dates of their digests. */
const toStored = (state: State, now: number): typeof Stored.Type => {
  const image = (kept: Kept) => {
    const tags = [...kept.tags].filter(([, t]) => now - t.checked < FORGOTTEN_AFTER).sort(([, a], [, b]) => b.checked - a.checked).slice(0, MAX_TAGS)
    const digests = new Set(tags.map(([, t]) => t.digest))
    return { tags: Object.fromEntries(tags), created: Object.fromEntries([...kept.created].filter(([digest]) => digests.has(digest))) }
  }
  const providers = [...state.providers].map(([name, images]) => [name, Object.fromEntries([...images].map(([n, kept]) => [n, image(kept)] as const).filter(([, i]) => Object.keys(i.tags).length > 0))] as const)
  return { providers: Object.fromEntries(providers) }
}

const onDisk = (dataDir: string, fs: FileSystem.FileSystem, path: Path.Path): Disk => {
  const file = path.join(dataDir, "release-dates.json")
  return {
    load: readDataFile(file, Stored, "release dates").pipe(
      Effect.map((stored) => (stored === undefined ? empty() : toState(stored))),
      Effect.provideService(FileSystem.FileSystem, fs)
    ),
    save: (state, now) =>
      Effect.suspend(() => writeDataFile(file, toStored(state, now))).pipe(
        Effect.catchAll((e) => Effect.logWarning(`cannot keep release dates in ${file}: ${e.message}`)),
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.provideService(Path.Path, path)
      )
  }
}

const makeWith = (disk: Disk): Effect.Effect<KeptDates> =>
  Effect.gen(function* () {
    // Read on the first date asked for; nothing is read or written by a pass that asks none.
    let current: State | undefined
    const loaded = yield* Effect.cached(Effect.tap(disk.load, (state) => void (current = state)))
    const writing = yield* Effect.makeSemaphore(1)
    const keptOf = (state: State, provider: ProviderConfig, image: ImageRef): Kept => {
      const images = state.providers.get(provider.name) ?? new Map<string, Kept>()
      state.providers.set(provider.name, images)
      const name = imageName(image)
      const kept = images.get(name) ?? { tags: new Map(), created: new Map() }
      images.set(name, kept)
      return kept
    }
    const answer = (date: number | null) => Option.map(Option.fromNullable(date), (d) => new Date(d))
    const created = <E>(provider: ProviderConfig, image: ImageRef, tag: string, fresh: number, source: DateSource<E>) =>
      Effect.gen(function* () {
        const state = yield* loaded
        const kept = keptOf(state, provider, image)
        const now = yield* Clock.currentTimeMillis
        const known = kept.tags.get(tag)
        const date = known === undefined ? undefined : kept.created.get(known.digest)
        if (known !== undefined && date !== undefined) {
          if (now - known.checked < fresh) return answer(date)
          if ((yield* source.digest) === known.digest) {
            kept.tags.set(tag, { digest: known.digest, checked: now })
            state.dirty = true
            return answer(date)
          }
        }
        const dated = yield* source.dated
        if (Option.isSome(dated.digest)) {
          kept.tags.set(tag, { digest: dated.digest.value, checked: now })
          kept.created.set(dated.digest.value, Option.getOrNull(Option.map(dated.created, (d) => d.getTime())))
          state.dirty = true
        }
        return dated.created
      })
    const freshOf = (provider: ProviderConfig, image: ImageRef, fresh: number) =>
      Effect.flatMap(Effect.zip(loaded, Clock.currentTimeMillis), ([state, now]) => {
        const kept = keptOf(state, provider, image)
        return Effect.succeed((tag: string) => {
          const known = kept.tags.get(tag)
          const date = known === undefined || now - known.checked >= fresh ? undefined : kept.created.get(known.digest)
          return date === undefined ? undefined : answer(date)
        })
      })
    const keep = writing.withPermits(1)(
      Effect.gen(function* () {
        const state = current
        if (state === undefined || !state.dirty) return
        state.dirty = false
        yield* disk.save(state, yield* Clock.currentTimeMillis)
      })
    )
    return { created, freshOf, keep }
  })

/** Dates kept for the life of the process: a daemon's without a data dir, or a test's. */
export const makeKeptDates: Effect.Effect<KeptDates> = makeWith(inMemory)

/** Dates kept in `dataDir` too, across runs. */
export const makeKeptDatesIn = (dataDir: string): Effect.Effect<KeptDates, never, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(Effect.all([FileSystem.FileSystem, Path.Path]), ([fs, path]) => makeWith(onDisk(dataDir, fs, path)))
