import { Context, Duration, Effect, Layer, Option } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { makeKeptCache, notKept } from "../keptCache.ts"
import { readPlatforms } from "../registry/platforms.ts"
import { TagSource, type TagSourceError } from "../registry/TagSource.ts"
import { type KeptDates, makeKeptDates, makeKeptDatesIn } from "./keptDates.ts"

/** One listing: the same provider declaration and repository, whatever spelling the targets use. */
export const listingKey = (provider: ProviderConfig, image: ImageRef): string =>
  `${provider.source.file}:${provider.source.line}:${provider.name}\u0000${imageName(image)}`

/** The id of a provider's answer about an image and maybe a tag. */
const idOf = (provider: ProviderConfig, image: ImageRef, tag = ""): string => `${listingKey(provider, image)}\u0000${tag}`

/** Platform sets kept, by image and digest: a digest's platforms never change, so they are kept until this many push them out. */
const MAX_PLATFORM_SETS = 10_000

/** Per-tag lookups of one image at once; the registry client's rate limiter paces them per host. */
const LOOKUP_CONCURRENCY = 4

/**
 * How long an answer is kept: its provider's interval, less a twentieth (at most 30 s). An answer
 * is fetched some way into a pass, so one kept for the whole interval would still be fresh when
 * the pass that starts one interval later (the default check interval equals the provider's)
 * asks, and new tags would wait two intervals.
 */
const keptFor = (interval: Duration.Duration): number => {
  // In milliseconds: Duration's arithmetic allocates, and this runs once per image and date of every pass.
  const millis = Duration.toMillis(interval)
  return millis - Math.min(millis * 0.05, 30_000)
}

/**
 * Keeps what a provider answered for its interval; concurrent asks share one lookup, and a failure
 * (or an interrupted lookup) is not kept, so the next ask looks again. Runs once per image of every
 * pass: a kept answer costs one step.
 */
const providerCache = <A>() =>
  Effect.map(makeKeptCache<A, TagSourceError>({ keptFor: notKept }), (cache) => ({
    get: (provider: ProviderConfig, id: string, lookup: () => Effect.Effect<A, TagSourceError>) =>
      cache.get(id, lookup, () => keptFor(provider.interval)),
    invalidate: cache.invalidate,
    forget: cache.forget
  }))

/**
 * The fetch stage. Each image is listed at most once per its provider's interval (a tag store: at every ask) however many
 * targets, files and repositories watch it; concurrent requests for one image share one call.
 * Digests of pinned tags are kept the same way; creation dates by digest (keptDates.ts).
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
    /** Keeps the release dates learnt so far (in the data dir, for a cache that has one). */
    readonly keepDates: Effect.Effect<void>
    /** Forgets an image's listing so the next pass lists it again (a registry told us it changed). */
    readonly invalidate: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<void>
    /** The registry's push times of an image's tags where the provider tells them apart from the listing (Docker Hub). */
    readonly pushTimes: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyMap<string, Date>, TagSourceError>
    /** The platforms of the manifest behind a digest (see registry/platforms.ts), kept by digest for the life of the process. */
    readonly platforms: (provider: ProviderConfig, image: ImageRef, digest: string) => Effect.Effect<ReadonlySet<string>, TagSourceError>
  }
>() {
  /** Creation dates kept for the life of the process. */
  static readonly layer = Layer.effect(TagCache, Effect.flatMap(makeKeptDates, (dates) => make(dates)))

  /** Creation dates kept in `dataDir` too, across runs. */
  static readonly layerKeeping = (dataDir: string) => Layer.effect(TagCache, Effect.flatMap(makeKeptDatesIn(dataDir), (dates) => make(dates)))
}

const make = (dates: KeptDates) =>
  Effect.gen(function* () {
    const source = yield* TagSource
    const listings = yield* providerCache<ReadonlyArray<TagInfo>>()
    const digests = yield* providerCache<string>()
    const times = yield* providerCache<Option.Option<Date>>()
    const pushes = yield* providerCache<ReadonlyMap<string, Date>>()
    // A failure is not kept: the next pass asks again.
    const platformSets = yield* makeKeptCache<ReadonlySet<string>, TagSourceError>({ keptFor: () => Infinity, max: MAX_PLATFORM_SETS })
    // A tag store is a local file that `runner notify --config` may rewrite at any time, behind
    // the daemon's back: it is read at every ask (one small read), so no kept answer hides a new tag.
    const digest = (provider: ProviderConfig, image: ImageRef, tag: string) =>
      provider.type === "STORE" ? source.digest(provider, image, tag) : digests.get(provider, idOf(provider, image, tag), () => source.digest(provider, image, tag))
    const withCreated = (provider: ProviderConfig, image: ImageRef, tags: ReadonlyArray<TagInfo>, wanted: ReadonlyArray<TagInfo>) =>
      Effect.flatMap(dates.freshOf(provider, image, keptFor(provider.interval)), (fresh) => {
        // Dates kept fresh answer at once; only the others are looked up, a few at a time.
        const known = new Map<string, Date>()
        const asking: Array<TagInfo> = []
        for (const t of wanted) {
          if (t.created !== undefined) continue
          const kept = fresh(t.tag)
          if (kept === undefined) asking.push(t)
          else if (Option.isSome(kept)) known.set(t.tag, kept.value)
        }
        const dated = () => tags.map((t) => {
          const created = known.get(t.tag)
          return created === undefined ? t : { ...t, created }
        })
        if (asking.length === 0) return Effect.succeed(dated())
        return Effect.forEach(
          asking,
          (t) => {
            // A kept date is confirmed by the tag's digest, which a pinned field of the pass may have asked already.
            const from = { dated: source.created(provider, image, t.tag), digest: digest(provider, image, t.tag) }
            const created = () => dates.created(provider, image, t.tag, keptFor(provider.interval), from)
            return times.get(provider, idOf(provider, image, t.tag), created).pipe(Effect.map((c) => void (Option.isSome(c) && known.set(t.tag, c.value))))
          },
          { concurrency: LOOKUP_CONCURRENCY, discard: true }
        ).pipe(Effect.map(dated))
      })
    return {
      withCreated,
      keepDates: dates.keep,
      get: (provider, image) => (provider.type === "STORE" ? source.list(provider, image) : listings.get(provider, idOf(provider, image), () => source.list(provider, image))),
      pushTimes: (provider, image) => pushes.get(provider, idOf(provider, image), () => source.pushTimes(provider, image)),
      digest,
      platforms: (provider, image, digest) =>
        platformSets.get(`${imageName(image)}\u0000${digest}`, () => readPlatforms(source, provider, image, digest)),
      // A tag pushed again points at a new digest: forget those too.
      invalidate: (provider, image) => {
        // The listing's key ends where its tags' keys go on: `${listingKey}\u0000${tag}`.
        const id = idOf(provider, image)
        return listings.forget(id).pipe(
          Effect.zipRight(pushes.forget(id)),
          Effect.zipRight(digests.invalidate((k) => k.startsWith(id)))
        )
      }
    } satisfies Context.Tag.Service<TagCache>
  })
