import { type Clock, Effect } from "effect"

/**
 * Milliseconds on the monotonic clock, for lifetimes and pacing: how long something has been kept
 * or waited. effect's `currentTimeMillis` is the wall clock, which NTP, an operator or a VM resume
 * may set back or forward by hours; `currentTimeNanos` only moves forward (process.hrtime from a
 * start-up origin), and TestClock drives both. Wall time stays for what is a date: a tag's age
 * against the registry's push time, a token's `issued_at`, a `Retry-After` date.
 */
export const monotonicMillis = (clock: Clock.Clock): number => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n)

export const currentMonotonicMillis: Effect.Effect<number> = Effect.clockWith((clock) => Effect.sync(() => monotonicMillis(clock)))
