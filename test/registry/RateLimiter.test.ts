import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { FetchHttpClient } from "@effect/platform"
import { createServer } from "node:http"
import { Duration, Effect, Fiber, Option, TestClock, TestContext } from "effect"
import { adjust, type Allowance, type HostLimits } from "../../src/http/allowance.ts"
import { documentedLimit, hostLimits } from "../../src/http/hostLimits.ts"
import { type Feedback, makeHostLimiter, makeRateLimiters, parseQuota } from "../../src/http/RateLimiter.ts"
import { RegistryHttp, type Target } from "../../src/http/RegistryHttp.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"

describe("parseQuota", () => {
  const cases = [
    { name: "Docker Hub headers", headers: { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600" }, expected: Option.some({ limit: 100, remaining: 76, windowSeconds: 21600 }) },
    { name: "window only on remaining", headers: { "ratelimit-limit": "100", "ratelimit-remaining": "5;w=60" }, expected: Option.some({ limit: 100, remaining: 5, windowSeconds: 60 }) },
    { name: "no window", headers: { "ratelimit-limit": "100", "ratelimit-remaining": "5" }, expected: Option.none() },
    { name: "missing remaining", headers: { "ratelimit-limit": "100;w=60" }, expected: Option.none() },
    { name: "garbage", headers: { "ratelimit-limit": "lots", "ratelimit-remaining": "some" }, expected: Option.none() },
    { name: "IETF draft: window from RateLimit-Reset", headers: { "ratelimit-limit": "10", "ratelimit-remaining": "2", "ratelimit-reset": "1" }, expected: Option.some({ limit: 10, remaining: 2, windowSeconds: 1 }) },
    { name: "X-RateLimit-* with reset in seconds", headers: { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "3", "x-ratelimit-reset": "30" }, expected: Option.some({ limit: 60, remaining: 3, windowSeconds: 30 }) },
    { name: "X-RateLimit-* with reset as an epoch time", headers: { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "10", "x-ratelimit-reset": "1700003600" }, expected: Option.some({ limit: 5000, remaining: 10, windowSeconds: 3600 }) },
  ]
  test.each(cases)("$name", ({ headers, expected }) => {
    expect(parseQuota(headers, 1_700_000_000_000)).toEqual(expected)
  })
})

describe("adjust", () => {
  const ceiling: HostLimits = { rps: 10, burst: 10, concurrency: 8 }
  const open: HostLimits = { rps: Infinity, burst: Infinity, concurrency: 8 }
  const full = (limits: HostLimits): Allowance => ({ rps: limits.rps, concurrency: limits.concurrency, quotaLeft: Infinity })
  const ok: Feedback = { _tag: "Ok", quota: Option.none() }
  const quota = (limit: number, remaining: number, windowSeconds: number): Feedback => ({ _tag: "Ok", quota: Option.some({ limit, remaining, windowSeconds }) })
  const refused: Feedback = { _tag: "TooMany", retryAfter: Option.none() }
  const refusedFor3s: Feedback = { _tag: "TooMany", retryAfter: Option.some(Duration.seconds(3)) }
  const cases: ReadonlyArray<{ name: string; limits: HostLimits; current: Allowance; feedback: Feedback; expected: Allowance }> = [
    { name: "429 or 503 halves rate and concurrency", limits: ceiling, current: full(ceiling), feedback: refused, expected: { rps: 5, concurrency: 4, quotaLeft: Infinity } },
    { name: "Retry-After halves the same way (the pause is the limiter's)", limits: ceiling, current: full(ceiling), feedback: refusedFor3s, expected: { rps: 5, concurrency: 4, quotaLeft: Infinity } },
    { name: "a refusal never goes below the floors", limits: ceiling, current: { rps: 0.1, concurrency: 1, quotaLeft: Infinity }, feedback: refused, expected: { rps: 0.1, concurrency: 1, quotaLeft: Infinity } },
    { name: "a host without a ceiling keeps none, but its concurrency halves", limits: open, current: full(open), feedback: refused, expected: { rps: Infinity, concurrency: 4, quotaLeft: Infinity } },
    { name: "success recovers a step of each", limits: ceiling, current: { rps: 5, concurrency: 4, quotaLeft: Infinity }, feedback: ok, expected: { rps: 5.5, concurrency: 4.4, quotaLeft: Infinity } },
    { name: "success never exceeds the limits", limits: ceiling, current: full(ceiling), feedback: ok, expected: full(ceiling) },
    { name: "plenty of quota left changes nothing but the cap", limits: ceiling, current: full(ceiling), feedback: quota(100, 50, 60), expected: { rps: 10, concurrency: 8, quotaLeft: 50 } },
    { name: "low quota holds a ceiling host just under the quota's pace", limits: ceiling, current: full(ceiling), feedback: quota(100, 6, 60), expected: { rps: (0.9 * 100) / 60, concurrency: 8, quotaLeft: 6 } },
    { name: "low quota gives a host without a ceiling just under the quota's pace", limits: open, current: full(open), feedback: quota(20, 2, 1), expected: { rps: 18, concurrency: 8, quotaLeft: 2 } },
    { name: "quota no longer low: a host without a ceiling gets none again", limits: open, current: { rps: 20, concurrency: 8, quotaLeft: 2 }, feedback: quota(20, 15, 1), expected: { rps: Infinity, concurrency: 8, quotaLeft: 15 } },
    { name: "a response without quota headers lifts the quota cap", limits: open, current: { rps: Infinity, concurrency: 8, quotaLeft: 0 }, feedback: ok, expected: full(open) },
  ]
  test.each(cases)("$name", ({ limits, current, feedback, expected }) => {
    const next = adjust(limits, current, feedback)
    expect(next.rps).toBeCloseTo(expected.rps, 6)
    expect(next.concurrency).toBeCloseTo(expected.concurrency, 6)
    expect(next.quotaLeft).toBe(expected.quotaLeft)
  })
})

describe("hostLimits", () => {
  const cases = [
    { name: "unknown host: concurrency only", host: "registry.example.com", config: {}, expected: { rps: Infinity, burst: Infinity, concurrency: 8 } },
    { name: "operator's concurrency", host: "registry.example.com:5000", config: { concurrency: 3 }, expected: { rps: Infinity, burst: Infinity, concurrency: 3 } },
    { name: "operator's ceiling", host: "registry.example.com", config: { rps: 5, burst: 10 }, expected: { rps: 5, burst: 10, concurrency: 8 } },
    { name: "operator's rps alone: a second's burst", host: "registry.example.com", config: { rps: 2.5 }, expected: { rps: 2.5, burst: 3, concurrency: 8 } },
    { name: "Docker Hub's documented limit", host: "registry-1.docker.io", config: {}, expected: { rps: 16, burst: 16, concurrency: 8 } },
    { name: "Docker Hub's token service", host: "auth.docker.io", config: {}, expected: { rps: 16, burst: 16, concurrency: 8 } },
    { name: "GCR's documented limit", host: "eu.gcr.io", config: {}, expected: { rps: 80, burst: 80, concurrency: 8 } },
    { name: "Artifact Registry's documented quota", host: "europe-west1-docker.pkg.dev", config: {}, expected: { rps: 1000, burst: 1000, concurrency: 8 } },
    { name: "the operator's ceiling wins over the documented one", host: "gcr.io", config: { rps: 1 }, expected: { rps: 1, burst: 1, concurrency: 8 } },
    { name: "GHCR publishes none", host: "ghcr.io", config: {}, expected: { rps: Infinity, burst: Infinity, concurrency: 8 } },
  ]
  test.each(cases)("$name", ({ host, config, expected }) => {
    expect(hostLimits(host, config)).toEqual(expected)
  })

  test("a look-alike host gets no documented limit", () => {
    expect(documentedLimit("gcr.io.example.com")).toBeUndefined()
    expect(documentedLimit("notgcr.io")).toBeUndefined()
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
