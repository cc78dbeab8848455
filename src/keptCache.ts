import { Cause, Deferred, Effect, Exit, FiberId, Option } from "effect"
import { monotonicMillis } from "./monotonic.ts"

/**
 * How long an answer is kept, in milliseconds: `Infinity` for ever, `undefined` (or 0 or less) not
 * at all. `wall` is the wall clock's time now, for answers that end at a wall time (a token's
 * `expiresAt`): the time they have left becomes a deadline on the monotonic clock.
 */
export type KeptFor<A> = (answer: A, wall: number) => number | undefined

/** An answer is kept only when something says for how long. */
export const notKept: KeptFor<unknown> = () => undefined

export interface KeptCacheOptions<A> {
  /** The lifetime of an answer, unless the ask gives its own. */
  readonly keptFor: KeptFor<A>
  /** Entries at most; past it the oldest kept go first. */
  readonly max?: number
}

/**
 * Answers by id, kept for a time on the monotonic clock. Concurrent asks share one lookup; a
 * failure is not kept (those who asked meanwhile get it, the next ask looks again), nor an
 * interrupted lookup (those who waited for it look again themselves).
 */
export interface KeptCache<A, E> {
  /**
   * The answer kept under `id`, else `lookup`'s, kept for `keptFor` (the cache's by default).
   * A kept answer is returned as the kept Exit: no step of its own.
   */
  readonly get: <R>(id: string, lookup: () => Effect.Effect<A, E, R>, keptFor?: KeptFor<A>) => Effect.Effect<A, E, R>
  /** The answer kept under `id`, if any; a lookup under way is none. */
  readonly peek: (id: string) => Effect.Effect<Option.Option<A>>
  /** Keeps `answer` under `id` as if a lookup had given it. */
  readonly set: (id: string, answer: A, keptFor?: KeptFor<A>) => Effect.Effect<void>
  /** Drops the entry under `id`; a lookup under way still answers those who asked. */
  readonly forget: (id: string) => Effect.Effect<void>
  /** Drops every entry whose id matches. */
  readonly invalidate: (matches: (id: string) => boolean) => Effect.Effect<void>
  /** Entries in the map, kept or under way (for tests and metrics). */
  readonly size: () => number
}

interface Entry<A, E> {
  readonly answer: Deferred.Deferred<A, E>
  /** Until when the answer is kept, on the monotonic clock; Infinity while the lookup runs. */
  until: number
  /** The answer, once there is one to keep. */
  kept: Exit.Exit<A, E> | undefined
}

/** Expired entries are pruned once the map has doubled since the last prune, and not below this size. */
const PRUNE_FLOOR = 1024

/**
 * A map and a Deferred per entry: effect's Cache costs four times the steps, and the tag cache
 * asks once per image of every pass. Past `max`, the entries kept longest ago are dropped one by
 * one (the map's insertion order), not the whole map: a valid signature or a listing kept a
 * moment ago stays.
 */
export const makeKeptCache = <A, E>(options: KeptCacheOptions<A>): Effect.Effect<KeptCache<A, E>> =>
  Effect.sync(() => unsafeMakeKeptCache<A, E>(options))

const unsafeMakeKeptCache = <A, E>({ keptFor: keptByDefault, max = Infinity }: KeptCacheOptions<A>): KeptCache<A, E> => {
  const entries = new Map<string, Entry<A, E>>()
  let pruneAt = PRUNE_FLOOR
  const prune = (now: number) => {
    for (const [id, entry] of entries) if (entry.until <= now) entries.delete(id)
    pruneAt = Math.max(PRUNE_FLOOR, 2 * entries.size)
  }
  /** A new entry goes last in the map's order, after room is made for it. */
  const insert = (id: string, entry: Entry<A, E>, now: number) => {
    entries.delete(id)
    if (entries.size >= pruneAt) prune(now)
    for (const oldest of entries.keys()) {
      if (entries.size < max) break
      entries.delete(oldest)
    }
    entries.set(id, entry)
  }
  const deadline = (answer: A, keptFor: KeptFor<A>, wall: number, now: number): number => {
    const lifetime = keptFor(answer, wall)
    return lifetime === undefined || !(lifetime > 0) ? -Infinity : now + lifetime
  }

  const get = <R>(id: string, lookup: () => Effect.Effect<A, E, R>, keptFor: KeptFor<A> = keptByDefault): Effect.Effect<A, E, R> =>
    // clockWith runs its function each time the effect runs: no suspend needed on top.
    Effect.clockWith((clock) => {
      const now = monotonicMillis(clock)
      const known = entries.get(id)
      if (known !== undefined && known.until > now) return known.kept ?? awaitShared(known, id, lookup, keptFor)
      const entry: Entry<A, E> = { answer: Deferred.unsafeMake<A, E>(FiberId.none), until: Infinity, kept: undefined }
      insert(id, entry, now)
      return Effect.onExit(lookup(), (exit) =>
        Effect.sync(() => {
          // Unless it was dropped meanwhile: then the answer goes to those who asked, and no further.
          if (entries.get(id) === entry) {
            const until = Exit.isSuccess(exit) ? deadline(exit.value, keptFor, clock.unsafeCurrentTimeMillis(), monotonicMillis(clock)) : -Infinity
            if (until === -Infinity) entries.delete(id)
            else {
              entry.until = until
              entry.kept = exit
            }
          }
          Deferred.unsafeDone(entry.answer, exit)
        })
      )
    })

  // A lookup interrupted with the fiber that ran it is no answer: a waiter that is itself still running looks again.
  const awaitShared = <R>(entry: Entry<A, E>, id: string, lookup: () => Effect.Effect<A, E, R>, keptFor: KeptFor<A>): Effect.Effect<A, E, R> =>
    Effect.catchAllCause(Deferred.await(entry.answer), (cause) => (Cause.isInterruptedOnly(cause) ? get(id, lookup, keptFor) : Effect.failCause(cause)))

  const peek = (id: string) =>
    Effect.clockWith((clock) => {
      const known = entries.get(id)
      return Effect.succeed(
        known !== undefined && known.kept !== undefined && Exit.isSuccess(known.kept) && known.until > monotonicMillis(clock) ? Option.some(known.kept.value) : Option.none<A>()
      )
    })

  const set = (id: string, answer: A, keptFor: KeptFor<A> = keptByDefault) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        const now = monotonicMillis(clock)
        const until = deadline(answer, keptFor, clock.unsafeCurrentTimeMillis(), now)
        if (until === -Infinity) return
        const answered = Deferred.unsafeMake<A, E>(FiberId.none)
        const kept = Exit.succeed(answer)
        Deferred.unsafeDone(answered, kept)
        insert(id, { answer: answered, until, kept }, now)
      })
    )

  const forget = (id: string) => Effect.sync(() => void entries.delete(id))
  const invalidate = (matches: (id: string) => boolean) =>
    Effect.sync(() => {
      for (const id of [...entries.keys()]) if (matches(id)) entries.delete(id)
    })
  return { get, peek, set, forget, invalidate, size: () => entries.size }
}
