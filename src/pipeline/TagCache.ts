import { Cache, Context, Duration, Effect, Equal, Exit, Hash, Layer, Option } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { TagSource, type TagSourceError } from "../registry/TagSource.ts"

/** One listing: the same provider declaration and repository, whatever spelling the targets use. */
export const listingKey = (provider: ProviderConfig, image: ImageRef): string =>
  `${provider.source.file}:${provider.source.line}:${provider.name}\u0000${imageName(image)}`

/** A provider, an image and maybe a tag; equal when they name the same provider declaration, repository and tag. */
class Key implements Equal.Equal {
  readonly id: string
  constructor(
    readonly provider: ProviderConfig,
    readonly image: ImageRef,
    readonly tag = ""
  ) {
    this.id = `${listingKey(provider, image)}\u0000${tag}`
  }
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof Key && that.id === this.id
  }
  [Hash.symbol](): number {
    return Hash.string(this.id)
  }
}

/** Per-tag lookups of one image at once; the registry client's rate limiter paces them per host. */
const LOOKUP_CONCURRENCY = 4

interface Timed<A> {
  readonly value: A
  readonly interval: Duration.Duration
}

/**
 * How long an answer is kept: its provider's interval, less a twentieth (at most 30 s). An answer
 * is fetched some way into a pass, so one kept for the whole interval would still be fresh when
 * the pass that starts one interval later (the default check interval equals the provider's)
 * asks, and new tags would wait two intervals.
 */
const keptFor = (interval: Duration.Duration): Duration.Duration =>
  Duration.subtract(interval, Duration.min(Duration.times(interval, 0.05), Duration.seconds(30)))

/** Keeps what a provider answered for its interval; a failure is not kept, so the next pass asks again. */
const providerCache = <A>(lookup: (key: Key) => Effect.Effect<A, TagSourceError>) =>
  Cache.makeWith({
    capacity: 100_000,
    lookup: (key: Key) => lookup(key).pipe(Effect.map((value): Timed<A> => ({ value, interval: key.provider.interval }))),
    timeToLive: (exit) => (Exit.isSuccess(exit) ? keptFor(exit.value.interval) : Duration.zero)
  })

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
      const listings = yield* providerCache((key) => source.list(key.provider, key.image))
      const digests = yield* providerCache((key) => source.digest(key.provider, key.image, key.tag))
      const times = yield* providerCache((key) => source.created(key.provider, key.image, key.tag))
      const pushes = yield* providerCache((key) => source.pushTimes(key.provider, key.image))
      const withCreated = (provider: ProviderConfig, image: ImageRef, tags: ReadonlyArray<TagInfo>, wanted: ReadonlyArray<TagInfo>) =>
        Effect.forEach(
          wanted.filter((t) => t.created === undefined),
          (t) => times.get(new Key(provider, image, t.tag)).pipe(Effect.map((c) => [t.tag, c.value] as const)),
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
        get: (provider, image) => listings.get(new Key(provider, image)).pipe(Effect.map((t) => t.value)),
        pushTimes: (provider, image) => pushes.get(new Key(provider, image)).pipe(Effect.map((t) => t.value)),
        digest: (provider, image, tag) => digests.get(new Key(provider, image, tag)).pipe(Effect.map((t) => t.value)),
        // A tag pushed again points at a new digest: forget those too.
        invalidate: (provider, image) =>
          listings.invalidate(new Key(provider, image)).pipe(
            Effect.zipRight(pushes.invalidate(new Key(provider, image))),
            Effect.zipRight(
              digests.keys.pipe(
                Effect.flatMap((keys) =>
                  Effect.forEach(
                    keys.filter((k) => k.tag !== "" && k.id.startsWith(new Key(provider, image).id)),
                    (k) => digests.invalidate(k),
                    { discard: true }
                  )
                )
              )
            )
          )
      }
    })
  )
}
