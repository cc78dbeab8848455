import { Effect, Either } from "effect"
import { RegistryFailure, type TargetFailure } from "../domain/failures.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import type { Prepared } from "./prepare.ts"
import { listingKey, TagCache } from "./TagCache.ts"

/** Registry requests in flight for one repository's fetch stage; each host's limiter paces them further. */
const MAX_REGISTRY_CONCURRENCY = 8

/** A target's tags, or why they could not be had. */
export type Listing = Either.Either<ReadonlyArray<TagInfo>, TargetFailure>

const failed = (p: Prepared) => (cause: RegistryFailure["cause"]) => new RegistryFailure({ provider: p.provider.name, cause })

/**
 * The fetch stage: every (provider, image) listed once, whatever the number of targets; then, for
 * policies that rank by creation time, the times of the tags their filters keep.
 */
export const fetchListings = (prepared: ReadonlyArray<Prepared>): Effect.Effect<(p: Prepared) => Listing, never, TagCache> =>
  Effect.gen(function* () {
    const cache = yield* TagCache
    const keyOf = (p: Prepared) => listingKey(p.provider, p.image)
    const images = new Map(prepared.map((p) => [keyOf(p), p] as const))
    const listed = new Map<string, Listing>()
    yield* Effect.forEach(
      images,
      ([key, p]) =>
        cache.get(p.provider, p.image).pipe(
          Effect.mapError(failed(p)),
          Effect.either,
          Effect.map((r) => listed.set(key, r))
        ),
      { concurrency: MAX_REGISTRY_CONCURRENCY, discard: true }
    )
    const listingOf = (p: Prepared): Listing => listed.get(keyOf(p)) ?? Either.right([])
    // By listing and selector: targets that share both share one lookup and one array, which the
    // selector then reads and ranks once.
    const dated = new Map<string, Map<Prepared["selector"], Listing>>()
    const datedOf = (p: Prepared) => dated.get(keyOf(p))?.get(p.selector)
    const needing = prepared.filter((p) => p.selector.needsCreated && Either.isRight(listingOf(p)))
    const seen = new Map<string, Set<Prepared["selector"]>>()
    const first = needing.filter((p) => {
      const selectors = seen.get(keyOf(p)) ?? new Set<Prepared["selector"]>()
      if (selectors.has(p.selector)) return false
      seen.set(keyOf(p), selectors.add(p.selector))
      return true
    })
    yield* Effect.forEach(
      first,
      (p) => {
        const tags = Either.getOrElse(listingOf(p), () => [])
        return cache.withCreated(p.provider, p.image, tags, p.selector.candidates(tags)).pipe(
          Effect.mapError(failed(p)),
          Effect.either,
          Effect.map((r) => {
            const bySelector = dated.get(keyOf(p)) ?? new Map<Prepared["selector"], Listing>()
            dated.set(keyOf(p), bySelector.set(p.selector, r))
          })
        )
      },
      { concurrency: MAX_REGISTRY_CONCURRENCY, discard: true }
    )
    return (p) => datedOf(p) ?? listingOf(p)
  })
