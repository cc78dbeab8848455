import { Clock, Duration, Effect, HashMap, Option, Ref } from "effect"
import { currentMonotonicMillis } from "../monotonic.ts"

/**
 * How long before its end a token or key is replaced: `margin`, but never more than a
 * `1/lifetimeDivisor` of its lifetime, so that a short-lived token still serves most of its life.
 */
export interface Renewal {
  readonly margin: Duration.Duration
  readonly lifetimeDivisor: number
}

/** When a value issued at `issuedAt` that ends at `endsAt` stops being used (epoch milliseconds). */
export const renewalTime = (renewal: Renewal, issuedAt: number, endsAt: number): number =>
  endsAt - Math.min(Duration.toMillis(renewal.margin), (endsAt - issuedAt) / renewal.lifetimeDivisor)

/** A value with the moment it stops being used, for values that do not carry one of their own. */
export interface Expiring<A> {
  readonly value: A
  readonly expiresAt: number
}

/** Values kept until their `expiresAt` (wall time): registry tokens, cloud access tokens, temporary keys. */
export interface ExpiringCache<A extends { readonly expiresAt: number }> {
  readonly get: (key: string) => Effect.Effect<Option.Option<A>>
  /**
   * Keeps `value` until its `expiresAt`. A value without an end (keys from a file or the
   * environment) is not kept: it is cheap to read again, and a rotated file then takes effect.
   */
  readonly set: (key: string, value: A) => Effect.Effect<void>
  readonly invalidate: (key: string) => Effect.Effect<void>
  /** The live value under `key`, else `fetch`'s, which is then kept; `fresh` drops the kept one first. */
  readonly getOrFetch: <E, R>(key: string, fetch: Effect.Effect<A, E, R>, fresh?: boolean) => Effect.Effect<A, E, R>
}

/** A kept value and when it stops being used, on the monotonic clock. */
interface Kept<A> {
  readonly value: A
  readonly until: number
}

/**
 * A value's `expiresAt` is wall time, read from what its issuer said (`issued_at`, `Expiration`).
 * The time it has left is turned into a deadline on the monotonic clock when it is kept, so a
 * wall clock set back an hour does not keep a token an hour past its end, nor set forward drop it.
 */
export const makeExpiringCache = <A extends { readonly expiresAt: number }>(): Effect.Effect<ExpiringCache<A>> =>
  Effect.map(Ref.make(HashMap.empty<string, Kept<A>>()), (ref): ExpiringCache<A> => {
    const get = (key: string) =>
      Effect.flatMap(currentMonotonicMillis, (now) =>
        Effect.map(Ref.get(ref), (map) =>
          Option.map(
            Option.filter(HashMap.get(map, key), (kept) => kept.until > now),
            (kept) => kept.value,
          ),
        ),
      )
    const set = (key: string, value: A) =>
      Number.isFinite(value.expiresAt)
        ? Effect.flatMap(Effect.all([Clock.currentTimeMillis, currentMonotonicMillis]), ([wall, now]) =>
            // Expired entries are pruned on write so the map stays as small as the set of live keys.
            Ref.update(ref, (map) =>
              HashMap.set(
                HashMap.filter(map, (kept) => kept.until > now),
                key,
                { value, until: now + (value.expiresAt - wall) },
              ),
            ),
          )
        : Effect.void
    const invalidate = (key: string) => Ref.update(ref, HashMap.remove(key))
    const getOrFetch = <E, R>(key: string, fetch: Effect.Effect<A, E, R>, fresh = false) =>
      Effect.gen(function* () {
        if (fresh) yield* invalidate(key)
        const cached = yield* get(key)
        if (Option.isSome(cached)) return cached.value
        const value = yield* fetch
        yield* set(key, value)
        return value
      })
    return { get, set, invalidate, getOrFetch }
  })
