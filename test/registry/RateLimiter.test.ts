import { describe, expect, test } from "bun:test"
import { Duration, Effect, Fiber, Option, TestClock, TestContext } from "effect"
import { type Feedback, makeHostLimiter, nextRate, parseQuota } from "../../src/registry/RateLimiter.ts"

describe("parseQuota", () => {
  const cases = [
    { name: "Docker Hub headers", headers: { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600" }, expected: Option.some({ limit: 100, remaining: 76, windowSeconds: 21600 }) },
    { name: "window only on remaining", headers: { "ratelimit-limit": "100", "ratelimit-remaining": "5;w=60" }, expected: Option.some({ limit: 100, remaining: 5, windowSeconds: 60 }) },
    { name: "no window", headers: { "ratelimit-limit": "100", "ratelimit-remaining": "5" }, expected: Option.none() },
    { name: "missing remaining", headers: { "ratelimit-limit": "100;w=60" }, expected: Option.none() },
    { name: "garbage", headers: { "ratelimit-limit": "lots", "ratelimit-remaining": "some" }, expected: Option.none() },
  ]
  test.each(cases)("$name", ({ headers, expected }) => {
    expect(parseQuota(headers)).toEqual(expected)
  })
})

describe("nextRate", () => {
  const config = { rps: 10, burst: 10 }
  const ok: Feedback = { _tag: "Ok", quota: Option.none() }
  const tooMany: Feedback = { _tag: "TooMany", retryAfter: Option.none() }
  const cases: ReadonlyArray<{ name: string; rps: number; feedback: Feedback; expected: number }> = [
    { name: "429 halves", rps: 10, feedback: tooMany, expected: 5 },
    { name: "429 never goes below the floor", rps: 0.1, feedback: tooMany, expected: 0.1 },
    { name: "success recovers a step", rps: 5, feedback: ok, expected: 5.5 },
    { name: "success never exceeds the configured rate", rps: 10, feedback: ok, expected: 10 },
    { name: "plenty of quota left changes nothing", rps: 10, feedback: { _tag: "Ok", quota: Option.some({ limit: 100, remaining: 50, windowSeconds: 60 }) }, expected: 10 },
    { name: "low quota spreads the rest over the window", rps: 10, feedback: { _tag: "Ok", quota: Option.some({ limit: 100, remaining: 6, windowSeconds: 60 }) }, expected: 0.1 },
  ]
  test.each(cases)("$name", ({ rps, feedback, expected }) => {
    expect(nextRate(config, rps, feedback)).toBeCloseTo(expected, 6)
  })
})

/** When each of `count` requests started, in ms of the test clock, with `between` run after each one. */
const startTimes = (count: number, between: (i: number, report: (f: Feedback) => Effect.Effect<void>) => Effect.Effect<void>) =>
  Effect.gen(function* () {
    const limiter = yield* makeHostLimiter({ rps: 2, burst: 2 }, "test")
    const fiber = yield* Effect.fork(
      Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
        Effect.gen(function* () {
          yield* limiter.take
          const at = yield* TestClock.currentTimeMillis
          yield* between(i, limiter.report)
          return at
        }),
      ),
    )
    for (let i = 0; i < 100; i++) yield* TestClock.adjust(Duration.millis(100))
    return yield* Fiber.join(fiber)
  }).pipe(Effect.provide(TestContext.TestContext), Effect.runPromise)

describe("host limiter", () => {
  test("a burst goes at once, then one request every 1/rps", async () => {
    expect(await startTimes(5, () => Effect.void)).toEqual([0, 0, 500, 1000, 1500])
  })

  test("Retry-After holds every next request back at least that long", async () => {
    const times = await startTimes(3, (i, report) =>
      i === 0 ? report({ _tag: "TooMany", retryAfter: Option.some(Duration.seconds(3)) }) : Effect.void,
    )
    expect(times[0]).toBe(0)
    expect(times[1]).toBeGreaterThanOrEqual(3000)
    // The rate is halved after a 429: the third waits a second, not half a second.
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBe(1000)
  })
})
