import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { createServer } from "node:http"
import { Duration, Effect, Fiber, Option, TestClock, TestContext } from "effect"
import { type Allowance, type Congestion, type HostLimits, periodBefore, refused, succeeded } from "../../src/http/allowance.ts"
import { documentedLimit, hostLimits } from "../../src/http/hostLimits.ts"
import { type Feedback, makeHostLimiter, makeRateLimiters, parseQuota, type RateLimit } from "../../src/http/RateLimiter.ts"
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

const ceiling: HostLimits = { rps: 10, burst: 10, concurrency: 8 }
const open: HostLimits = { rps: Infinity, burst: Infinity, concurrency: 8 }
const full = (limits: HostLimits): Allowance => ({ rps: limits.rps, concurrency: limits.concurrency, quotaLeft: Infinity, overloads: 0, congestion: Option.none() })
/** A host without a ceiling after one overload at t=0 that had let 10 requests through in a second. */
const overload: Congestion = { at: 0, successes: 10, span: 1000, before: Infinity }
const paced = (rps: number, congestion = overload): Allowance => ({ rps, concurrency: 8, quotaLeft: Infinity, overloads: 1, congestion: Option.some(congestion) })

describe("periodBefore", () => {
  const cases = [
    { name: "a first burst counts over a second, not the milliseconds it took", answered: [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], previous: Option.none(), now: 20, expected: { successes: 10, span: 1000 } },
    { name: "a first overload after a slower stretch: from the first success", answered: [1000, 2000, 3000, 4000], previous: Option.none(), now: 4000, expected: { successes: 4, span: 3000 } },
    { name: "since a recent overload: from it, the pause included", answered: [1100, 1200, 1300], previous: Option.some(overload), now: 1500, expected: { successes: 3, span: 1500 } },
    { name: "successes beyond the horizon say nothing", answered: [1000, 50_000, 60_000], previous: Option.none(), now: 60_000, expected: { successes: 2, span: 10_000 } },
    { name: "an overload beyond the horizon is not a start", answered: [40_000, 41_000], previous: Option.some(overload), now: 41_000, expected: { successes: 2, span: 1000 } },
  ]
  test.each(cases)("$name", ({ answered, previous, now, expected }) => {
    expect(periodBefore(answered, previous, now)).toEqual(expected)
  })
})

describe("refused", () => {
  const cases: ReadonlyArray<{ name: string; current: Allowance; period: { successes: number; span: number }; sentIn: number; rps: number; concurrency: number; overloads: number }> = [
    { name: "the first refusal paces a host without a ceiling a tenth under what it let through", current: full(open), period: { successes: 10, span: 1000 }, sentIn: 0, rps: 9, concurrency: 4, overloads: 1 },
    { name: "a host with a ceiling: the same, not a halving", current: full(ceiling), period: { successes: 16, span: 2000 }, sentIn: 0, rps: 7.2, concurrency: 4, overloads: 1 },
    { name: "never faster than before the refusal", current: { ...full(ceiling), rps: 5 }, period: { successes: 20, span: 1000 }, sentIn: 0, rps: 5, concurrency: 4, overloads: 1 },
    { name: "refused before anything got through: a ceiling halves (a tenth under)", current: full(ceiling), period: { successes: 0, span: 1000 }, sentIn: 0, rps: 4.5, concurrency: 4, overloads: 1 },
    { name: "refused before anything got through: no ceiling to halve, concurrency halves", current: full(open), period: { successes: 0, span: 1000 }, sentIn: 0, rps: Infinity, concurrency: 4, overloads: 1 },
    { name: "never below one request every ten seconds", current: { ...full(ceiling), rps: 0.1, concurrency: 1 }, period: { successes: 0, span: 1000 }, sentIn: 0, rps: 0.1, concurrency: 1, overloads: 1 },
    { name: "a request sent before the last overload is part of it: nothing changes", current: paced(9), period: { successes: 0, span: 1000 }, sentIn: 0, rps: 9, concurrency: 8, overloads: 1 },
    { name: "a request sent since the last overload starts another", current: paced(9), period: { successes: 8, span: 2000 }, sentIn: 1, rps: 3.6, concurrency: 4, overloads: 2 },
  ]
  test.each(cases)("$name", ({ current, period, sentIn, rps, concurrency, overloads }) => {
    const next = refused(current, period, sentIn, 100)
    expect(next.rps).toBeCloseTo(rps, 6)
    expect(next.concurrency).toBe(concurrency)
    expect(next.overloads).toBe(overloads)
  })
})

describe("succeeded", () => {
  const none = Option.none()
  const quota = (limit: number, remaining: number, windowSeconds: number) => Option.some({ limit, remaining, windowSeconds })
  const cases: ReadonlyArray<{ name: string; limits: HostLimits; current: Allowance; quota: ReturnType<typeof quota>; sentIn?: number; now?: number; expected: { rps: number; concurrency: number; quotaLeft: number } }> = [
    { name: "a host with a ceiling recovers a step of each", limits: ceiling, current: { ...full(ceiling), rps: 5, concurrency: 4 }, quota: none, expected: { rps: 5.5, concurrency: 4.4, quotaLeft: Infinity } },
    { name: "success never exceeds the limits", limits: ceiling, current: full(ceiling), quota: none, expected: { rps: 10, concurrency: 8, quotaLeft: Infinity } },
    { name: "after an overload, recovery steps towards what the host sustained", limits: open, current: paced(9), quota: none, expected: { rps: 9 + 0.05 * 9.5, concurrency: 8, quotaLeft: Infinity } },
    { name: "and stops short of it, never reaching the rate it refused at", limits: open, current: paced(9.5), quota: none, expected: { rps: 9.5, concurrency: 8, quotaLeft: Infinity } },
    { name: "quiet for longer than the hold, that ceiling grows", limits: open, current: paced(9.5), quota: none, now: 12_000, expected: { rps: 9.5 + 0.05 * 9.5 * 1.21, concurrency: 8, quotaLeft: Infinity } },
    { name: "quiet for a minute, the overload is forgotten", limits: open, current: paced(9.5), quota: none, now: 61_000, expected: { rps: Infinity, concurrency: 8, quotaLeft: Infinity } },
    { name: "a success sent before the overload counts for what the host sustained", limits: open, current: paced(9), quota: none, sentIn: 0, expected: { rps: 9.9, concurrency: 8, quotaLeft: Infinity } },
    { name: "plenty of quota left changes nothing but the cap", limits: ceiling, current: full(ceiling), quota: quota(100, 50, 60), expected: { rps: 10, concurrency: 8, quotaLeft: 50 } },
    { name: "low quota holds a ceiling host just under the quota's pace", limits: ceiling, current: full(ceiling), quota: quota(100, 6, 60), expected: { rps: (0.9 * 100) / 60, concurrency: 8, quotaLeft: 6 } },
    { name: "low quota gives a host without a ceiling just under the quota's pace", limits: open, current: full(open), quota: quota(20, 2, 1), expected: { rps: 18, concurrency: 8, quotaLeft: 2 } },
    { name: "quota no longer low: a host without a ceiling gets none again", limits: open, current: { ...full(open), rps: 20, quotaLeft: 2 }, quota: quota(20, 15, 1), expected: { rps: Infinity, concurrency: 8, quotaLeft: 15 } },
    { name: "a response without quota headers lifts the quota cap", limits: open, current: { ...full(open), quotaLeft: 0 }, quota: none, expected: { rps: Infinity, concurrency: 8, quotaLeft: Infinity } },
  ]
  test.each(cases)("$name", ({ limits, current, quota, sentIn, now, expected }) => {
    const next = succeeded(limits, current, quota, sentIn ?? current.overloads, now ?? 100)
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
          const sent = yield* limiter.take
          const at = yield* TestClock.currentTimeMillis
          yield* between(i, (feedback) => limiter.report(feedback, sent))
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

  test("Retry-After holds every next request back at least that long; then the pause's worth at the lowered rate goes at once", async () => {
    const times = await startTimes(4, (i, report) =>
      i === 0 ? report({ _tag: "TooMany", retryAfter: Option.some(Duration.seconds(3)) }) : Effect.void,
    )
    expect(times[0]).toBe(0)
    expect(times[1]).toBeGreaterThanOrEqual(3000)
    // The host refilled its bucket during the pause: a burst of two (the limiter's own) goes then.
    expect(times[2]).toBe(times[1] ?? -1)
    // Nothing got through before the refusal: the rate is halved and a tenth more, under 1/s.
    expect((times[3] ?? 0) - (times[2] ?? 0)).toBeGreaterThan(1000)
  })
})

/** A request sent `at` ms into the test clock, answered `latency` ms after it starts. */
interface Sent {
  readonly at: number
  readonly latency: number
  readonly answer: Feedback
}

const ok: Feedback = { _tag: "Ok", quota: Option.none() }
const tooMany: Feedback = { _tag: "TooMany", retryAfter: Option.some(Duration.seconds(1)) }
const sent = (count: number, at: number, latency: number, answer: Feedback): ReadonlyArray<Sent> => Array.from({ length: count }, () => ({ at, latency, answer }))

/** Each request in a fiber of its own, as RegistryHttp makes them; when each started, and the allowance `until` ms in. */
const simulate = (config: RateLimit, requests: ReadonlyArray<Sent>, until = 2000) =>
  Effect.gen(function* () {
    const limiter = yield* makeHostLimiter(config, "test")
    const one = (request: Sent) =>
      Effect.sleep(Duration.millis(request.at)).pipe(
        Effect.zipRight(
          limiter.withPermit(
            Effect.gen(function* () {
              const sent = yield* limiter.take
              const started = yield* TestClock.currentTimeMillis
              yield* Effect.sleep(Duration.millis(request.latency))
              yield* limiter.report(request.answer, sent)
              return started
            }),
          ),
        ),
      )
    const fibers = yield* Effect.forEach(requests, (request) => Effect.fork(one(request)))
    yield* TestClock.adjust(Duration.millis(until))
    const starts = yield* Effect.forEach(fibers, Fiber.join)
    return { starts, allowance: yield* limiter.allowance }
  }).pipe(Effect.provide(TestContext.TestContext), Effect.runPromise)

describe("a host without a ceiling that refuses past a burst", () => {
  const burst = sent(10, 0, 5, ok)
  // Concurrency halves once per overload and grows back 0.4 a success.
  const cases: ReadonlyArray<{ name: string; requests: ReadonlyArray<Sent>; rps: number; concurrency: number; overloads: number }> = [
    { name: "is paced a tenth under what it let through in the second before", requests: [...burst, ...sent(1, 10, 1, tooMany)], rps: 9, concurrency: 4, overloads: 1 },
    { name: "refusals of requests sent together are one overload", requests: [...burst, ...sent(3, 10, 1, tooMany)], rps: 9, concurrency: 4, overloads: 1 },
    { name: "successes answered after the refusal count for the second before it", requests: [...sent(6, 0, 5, ok), ...sent(4, 0, 50, ok), ...sent(1, 1, 1, tooMany)], rps: 9, concurrency: 5.6, overloads: 1 },
    // Nothing got through since the first: it halves (a tenth under) the rate that one set.
    { name: "a request sent after the overload and refused is another", requests: [...burst, ...sent(1, 10, 1, tooMany), ...sent(1, 500, 1, tooMany)], rps: (0.9 * 9) / 2, concurrency: 2, overloads: 2 },
  ]
  test.each(cases)("$name", async ({ requests, rps, concurrency, overloads }) => {
    const { allowance } = await simulate({}, requests)
    expect(allowance.rps).toBeCloseTo(rps, 6)
    expect(allowance.concurrency).toBeCloseTo(concurrency, 6)
    expect(allowance.overloads).toBe(overloads)
  })

  test("waits out Retry-After, sends the pause's worth at the lowered rate, then that rate", async () => {
    const { starts } = await simulate({}, [...burst, ...sent(1, 10, 1, tooMany), ...sent(12, 20, 1, ok)], 3000)
    const after = starts.slice(11).sort((a, b) => a - b)
    expect(after[0]).toBeGreaterThanOrEqual(1011)
    // Four at once (concurrency was halved), the rest as each of those is answered.
    expect((after[8] ?? Infinity) - (after[0] ?? 0)).toBeLessThanOrEqual(2)
    // Then about one every 1/9.5 s: recovery approaches, never reaches, the ten a second the host let through.
    expect((after[9] ?? 0) - (after[8] ?? 0)).toBeGreaterThanOrEqual(100)
  })

  test("a host that never pushes back is sent everything at once, eight at a time", async () => {
    const { starts, allowance } = await simulate({}, sent(40, 0, 5, ok))
    expect(allowance).toMatchObject({ rps: Infinity, concurrency: 8, overloads: 0 })
    expect(starts.filter((at) => at === 0)).toHaveLength(8)
    expect(Math.max(...starts)).toBe(20)
  })
})

describe("one limiter per registry host", () => {
  test("providers and repositories on one host get the same limiter; another host gets its own", async () => {
    const limiters = await Effect.runPromise(
      Effect.gen(function* () {
        const limiters = yield* makeRateLimiters
        return [
          limiters.forHost("registry.test", { rps: 1, burst: 1 }, "a"),
          limiters.forHost("registry.test", { rps: 50, burst: 50 }, "b"),
          limiters.forHost("other.test", { rps: 1, burst: 1 }, "a"),
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
  }, SERVER_HOOK_TIMEOUT)
  afterAll(async () => {
    await first.stop()
    await second.stop()
  }, SERVER_HOOK_TIMEOUT)

  const target = (provider: string, url: string, repository: string): Target & { readonly url: string } => ({
    provider,
    registry: new URL(url).host,
    repository,
    rateLimit,
    insecure: false,
    caCert: Option.none(),
    linkLocalHosts: [],
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
