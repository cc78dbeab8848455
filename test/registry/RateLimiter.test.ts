import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { createServer } from "node:http"
import { Duration, Effect, Fiber, Option, TestClock, TestContext } from "effect"
import { type Feedback, makeHostLimiter, makeRateLimiters, nextRate, parseQuota } from "../../src/http/RateLimiter.ts"
import { RegistryHttp, type Target } from "../../src/http/RegistryHttp.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"

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

describe("one limiter per registry host", () => {
  test("providers and repositories on one host get the same limiter; another host gets its own", async () => {
    const limiters = await Effect.runPromise(
      Effect.gen(function* () {
        const limiters = yield* makeRateLimiters
        return [
          yield* limiters.forHost("registry.test", { rps: 1, burst: 1 }, "a"),
          yield* limiters.forHost("registry.test", { rps: 50, burst: 50 }, "b"),
          yield* limiters.forHost("other.test", { rps: 1, burst: 1 }, "a"),
        ]
      }),
    )
    expect(limiters[0]).toBe(limiters[1])
    expect(limiters[0]).not.toBe(limiters[2])
  })

  /** Four requests at 4 per second with no burst: one host spaces them 250 ms apart, whoever sends them. */
  const rateLimit = { rps: 4, burst: 1 }
  const arrivals: Array<{ readonly at: number; readonly host: string; readonly path: string }> = []
  let first: Listening
  let second: Listening
  beforeAll(async () => {
    const recorder = () =>
      createServer((req, res) => {
        arrivals.push({ at: performance.now(), host: req.headers.host ?? "", path: req.url ?? "" })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    first = await listenOnLoopback(recorder())
    second = await listenOnLoopback(recorder())
  })
  afterAll(async () => {
    await first.stop()
    await second.stop()
  })

  const target = (provider: string, url: string, repository: string): Target & { readonly url: string } => ({
    provider,
    registry: new URL(url).host,
    repository,
    rateLimit,
    insecure: false,
    caCert: Option.none(),
    url: `${url}/v2/${repository}/tags/list`,
  })

  /** Sends all requests at once through one RegistryHttp, and returns when each reached its server (ms after the first). */
  const sendAll = async (targets: ReadonlyArray<Target & { readonly url: string }>) => {
    arrivals.length = 0
    await Effect.runPromise(
      RegistryHttp.pipe(
        Effect.flatMap((http) =>
          Effect.forEach(targets, (t) => http.send(t, { method: "GET", url: t.url, headers: {} }), { concurrency: "unbounded" }),
        ),
        Effect.provide(RegistryHttp.layer),
        Effect.provide(FetchHttpClient.layer),
      ),
    )
    const start = Math.min(...arrivals.map((a) => a.at))
    return arrivals.map((a) => ({ ...a, at: a.at - start })).sort((x, y) => x.at - y.at)
  }

  test("two providers with different repositories on one host are paced together", async () => {
    const seen = await sendAll([
      target("alpha", first.url, "team/one"),
      target("beta", first.url, "team/two"),
      target("alpha", first.url, "team/one"),
      target("beta", first.url, "team/two"),
    ])
    expect(new Set(seen.map((a) => a.path)).size).toBe(2)
    // Separate limiters would let each provider's first request go at once, and finish in 250 ms.
    expect(seen[3]?.at ?? 0).toBeGreaterThanOrEqual(700)
    for (let i = 1; i < seen.length; i++) expect((seen[i]?.at ?? 0) - (seen[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(200)
  })

  test("two hosts are paced apart", async () => {
    const seen = await sendAll([
      target("alpha", first.url, "team/one"),
      target("alpha", second.url, "team/one"),
      target("alpha", first.url, "team/one"),
      target("alpha", second.url, "team/one"),
    ])
    expect(new Set(seen.map((a) => a.host)).size).toBe(2)
    // Each host's bucket lets its first request go at once and the second 250 ms later.
    expect(seen[1]?.at ?? Infinity).toBeLessThan(150)
    expect(seen[3]?.at ?? Infinity).toBeLessThan(600)
  })
})
