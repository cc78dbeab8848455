import { Duration, Effect, type Option } from "effect"
import { makeKeptCache } from "../keptCache.ts"

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
export interface ExpiringCache<A extends { readonly expiresAt: number }, E = never> {
  readonly get: (key: string) => Effect.Effect<Option.Option<A>>
  /**
   * Keeps `value` until its `expiresAt`. A value without an end (keys from a file or the
   * environment) is not kept: it is cheap to read again, and a rotated file then takes effect.
   */
  readonly set: (key: string, value: A) => Effect.Effect<void>
  readonly invalidate: (key: string) => Effect.Effect<void>
  /**
   * The live value under `key`, else `fetch`'s, which is then kept; `fresh` drops the kept one
   * first. Asks for one key at once share one fetch.
   */
  readonly getOrFetch: <R>(key: string, fetch: Effect.Effect<A, E, R>, fresh?: boolean) => Effect.Effect<A, E, R>
}

/**
 * A value's `expiresAt` is wall time, read from what its issuer said (`issued_at`, `Expiration`).
 * The time it has left is turned into a deadline on the monotonic clock when it is kept, so a
 * wall clock set back an hour does not keep a token an hour past its end, nor set forward drop it.
 */
const timeLeft = (value: { readonly expiresAt: number }, wall: number): number | undefined =>
  Number.isFinite(value.expiresAt) ? value.expiresAt - wall : undefined

export const makeExpiringCache = <A extends { readonly expiresAt: number }, E = never>(): Effect.Effect<ExpiringCache<A, E>> =>
  Effect.map(makeKeptCache<A, E>({ keptFor: timeLeft }), (cache): ExpiringCache<A, E> => ({
    get: cache.peek,
    set: (key, value) => cache.set(key, value),
    invalidate: cache.forget,
    getOrFetch: (key, fetch, fresh = false) => {
      const fetched = cache.get(key, () => fetch)
      return fresh ? Effect.zipRight(cache.forget(key), fetched) : fetched
    }
  }))
