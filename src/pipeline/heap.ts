import { Clock, Duration, Effect, Schedule } from "effect"

/**
 * How often the young generation is collected while a pass runs. JavaScriptCore lets it grow well
 * past what a pass keeps before collecting it, so a pass's short-lived garbage (answers, parsed
 * tags, effect's fibers) sets the process's peak RSS. Collected every 50 ms, the warm quiet pass of
 * 1,000 targets peaks at 96 MB instead of 104, in no more time (20 ms gained 2 MB more, 100 ms less).
 */
const YOUNG_COLLECTION = Duration.millis(50)

/** A collection of the young generation where the runtime offers one (Bun); elsewhere nothing. */
const collectYoung = Effect.sync(() => {
  if (typeof Bun !== "undefined") Bun.gc(false)
})

/**
 * Collections on the live clock, whatever clock the pass runs on: garbage piles up in real time,
 * and a test clock moved by hours would run one collection per 50 ms of it.
 */
const collector = Effect.repeat(collectYoung, Schedule.spaced(YOUNG_COLLECTION)).pipe(Effect.withClock(Clock.make()))

/** `pass`, with the young generation collected on a schedule until it ends. */
export const withYoungCollected = <A, E, R>(pass: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.scoped(Effect.zipRight(Effect.forkScoped(collector), pass))

/**
 * A full collection where the runtime offers one, for a service after each pass: what the pass
 * left is garbage, and the service idles until the next (idle RSS 10 s after a warm pass of 1,000
 * targets: 92 -> 88 MB). A `--once` pass ends with the process and needs none.
 */
export const collectAll = Effect.sync(() => {
  if (typeof Bun !== "undefined") Bun.gc(true)
})
