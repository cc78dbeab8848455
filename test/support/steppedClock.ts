/**
 * A clock whose wall time can be stepped (an NTP correction, an operator, a VM resumed) while its
 * monotonic time only moves forward. Sleeping records the wait and moves both on at once.
 */
import { Clock, Duration, Effect } from "effect"

export const WALL_START = Date.UTC(2026, 10, 1, 12)

export const steppedClock = () => {
  let wall = WALL_START
  // Like effect's default clock: monotonic, from an origin near the wall time at start-up.
  let monotonic = WALL_START
  const slept: Array<number> = []
  const advance = (millis: number) => {
    wall += millis
    monotonic += millis
  }
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => wall,
    unsafeCurrentTimeNanos: () => BigInt(monotonic) * 1_000_000n,
    currentTimeMillis: Effect.sync(() => wall),
    currentTimeNanos: Effect.sync(() => BigInt(monotonic) * 1_000_000n),
    sleep: (duration) =>
      Effect.sync(() => {
        const millis = Duration.toMillis(duration)
        slept.push(millis)
        advance(millis)
      })
  }
  return {
    clock,
    slept,
    advance: (duration: Duration.DurationInput) => Effect.sync(() => advance(Duration.toMillis(duration))),
    /** The wall clock alone jumps (back, for a negative duration); monotonic time does not. */
    stepWall: (millis: number) => Effect.sync(() => (wall += millis))
  }
}
