import { Context, Deferred, Duration, Effect, Exit, FiberId, Layer, Option } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { monotonicMillis } from "../monotonic.ts"
import { TagSource, type TagSourceError } from "../registry/TagSource.ts"

/** One listing: the same provider declaration and repository, whatever spelling the targets use. */
export const listingKey = (provider: ProviderConfig, image: ImageRef): string =>
  `${provider.source.file}:${provider.source.line}:${provider.name}\u0000${imageName(image)}`

/** A provider, an image and maybe a tag: one entry of a provider's cache. */
interface Key {
  readonly provider: ProviderConfig
  readonly image: ImageRef
  readonly tag: string
  readonly id: string
}

const keyOf = (provider: ProviderConfig, image: ImageRef, tag = ""): Key => ({ provider, image, tag, id: `${listingKey(provider, image)}\u0000${tag}` })

/** Per-tag lookups of one image at once; the registry client's rate limiter paces them per host. */
const LOOKUP_CONCURRENCY = 4

/**
 * How long an answer is kept: its provider's interval, less a twentieth (at most 30 s). An answer
 * is fetched some way into a pass, so one kept for the whole interval would still be fresh when
 * the pass that starts one interval later (the default check interval equals the provider's)
 * asks, and new tags would wait two intervals.
 */
const keptFor = (interval: Duration.Duration): number =>
  Duration.toMillis(Duration.subtract(interval, Duration.min(Duration.times(interval, 0.05), Duration.seconds(30))))

interface Entry<A> {
  readonly answer: Deferred.Deferred<A, TagSourceError>
  /** Until when the answer is kept, on the monotonic clock; Infinity while the lookup runs. */
  readonly until: number
  /** The answer, once there is one to keep. */
  readonly kept?: Exit.Exit<A, TagSourceError>
}

/**
 * Keeps what a provider answered for its interval; concurrent asks share one lookup, and a failure
 * (or an interrupted lookup) is not kept, so the next ask looks again. A map and a Deferred per
 * entry: effect's Cache costs four times the steps, and this runs once per image of every pass.
 */
const providerCache = <A>(lookup: (key: Key) => Effect.Effect<A, TagSourceError>) => {
  const entries = new Map<string, Entry<A>>()
  // Answers nobody asks for again (images no longer watched) are dropped once the map has doubled.
  let pruneAt = 1024
  const prune = (now: number) => {
    for (const [id, entry] of entries) if (entry.until <= now) entries.delete(id)
    pruneAt = Math.max(1024, 2 * entries.size)
  }
  const get = (key: Key): Effect.Effect<A, TagSourceError> =>
    Effect.clockWith((clock) =>
      Effect.suspend(() => {
        const now = monotonicMillis(clock)
        const kept = entries.get(key.id)
        if (kept !== undefined && kept.until > now) return kept.kept ?? Deferred.await(kept.answer)
        if (entries.size >= pruneAt) prune(now)
        const entry: Entry<A> = { answer: Deferred.unsafeMake<A, TagSourceError>(FiberId.none), until: Infinity }
        entries.set(key.id, entry)
        return lookup(key).pipe(
          Effect.onExit((exit) =>
            Effect.sync(() => {
              // Unless it was invalidated meanwhile: then the answer goes to those who asked, and no further.
              if (entries.get(key.id) === entry) {
                if (Exit.isSuccess(exit)) entries.set(key.id, { ...entry, until: monotonicMillis(clock) + keptFor(key.provider.interval), kept: exit })
                else entries.delete(key.id)
              }
              Deferred.unsafeDone(entry.answer, exit)
            })
          )
        )
      })
    )
  const invalidate = (matches: (id: string) => boolean) =>
    Effect.sync(() => {
      for (const id of [...entries.keys()]) if (matches(id)) entries.delete(id)
    })
  return { get, invalidate }
}

/**
 * The fetch stage. Each image is listed at most once per its provider's interval however many
 * targets, files and repositories watch it; concurrent requests for one image share one call.
 * Digests of pinned tags are kept the same way.
 */
export class TagCache extends Context.Tag("TagCache")<
  TagCache,
  {
    readonly get: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, TagSourceError>
    readonly digest: (provider: ProviderConfig, image: ImageRef, tag: string) => Effect.Effect<string, TagSourceError>
    /** The tags with their creation times filled in, looked up only for `wanted` tags that lack one. */
    readonly withCreated: (
      provider: ProviderConfig,
      image: ImageRef,
      tags: ReadonlyArray<TagInfo>,
      wanted: ReadonlyArray<TagInfo>
    ) => Effect.Effect<ReadonlyArray<TagInfo>, TagSourceError>
    /** Forgets an image's listing so the next pass lists it again (a registry told us it changed). */
    readonly invalidate: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<void>
    /** The registry's push times of an image's tags where the provider tells them apart from the listing (Docker Hub). */
    readonly pushTimes: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyMap<string, Date>, TagSourceError>
  }
>() {
  static readonly layer = Layer.effect(
    TagCache,
    Effect.gen(function* () {
      const source = yield* TagSource
      const listings = providerCache((key) => source.list(key.provider, key.image))
      const digests = providerCache((key) => source.digest(key.provider, key.image, key.tag))
      const times = providerCache((key) => source.created(key.provider, key.image, key.tag))
      const pushes = providerCache((key) => source.pushTimes(key.provider, key.image))
      const withCreated = (provider: ProviderConfig, image: ImageRef, tags: ReadonlyArray<TagInfo>, wanted: ReadonlyArray<TagInfo>) =>
        Effect.forEach(
          wanted.filter((t) => t.created === undefined),
          (t) => times.get(keyOf(provider, image, t.tag)).pipe(Effect.map((c) => [t.tag, c] as const)),
          { concurrency: LOOKUP_CONCURRENCY }
        ).pipe(
          Effect.map((found) => {
            const known = new Map(found.flatMap(([tag, created]) => (Option.isSome(created) ? [[tag, created.value] as const] : [])))
            return tags.map((t) => {
              const created = known.get(t.tag)
              return created === undefined ? t : { ...t, created }
            })
          })
        )
      return {
        withCreated,
        get: (provider, image) => listings.get(keyOf(provider, image)),
        pushTimes: (provider, image) => pushes.get(keyOf(provider, image)),
        digest: (provider, image, tag) => digests.get(keyOf(provider, image, tag)),
        // A tag pushed again points at a new digest: forget those too.
        invalidate: (provider, image) => {
          // The listing's key ends where its tags' keys go on: `${listingKey}\u0000${tag}`.
          const id = keyOf(provider, image).id
          return listings.invalidate((k) => k === id).pipe(
            Effect.zipRight(pushes.invalidate((k) => k === id)),
            Effect.zipRight(digests.invalidate((k) => k.startsWith(id)))
          )
        }
      }
    })
  )
}
