/** Quota headers are the registry's to write: however long a window they claim, a host waits at most its provider's interval. */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Either, Fiber, TestClock, TestContext } from "effect"
import { cloudTarget } from "../../src/credentials/cloud.ts"
import { parseImageRef } from "../../src/domain/ImageRef.ts"
import { hostLimits } from "../../src/http/hostLimits.ts"
import { makeHostLimiter, parseQuota, type RateLimit } from "../../src/http/RateLimiter.ts"
import { endpointFor } from "../../src/registry/endpoint.ts"
import { providerConfig } from "../support/config.ts"

const NOW = 1_700_000_000_000

/**
 * A first request answered with `headers`, then how long the host's next request waits, in ms of
 * the test clock.
 */
const nextWait = (config: RateLimit, headers: Record<string, string>) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(NOW)
    const limiter = yield* makeHostLimiter(config, "test", "registry.test")
    const sent = yield* limiter.take
    yield* limiter.report({ _tag: "Ok", quota: parseQuota(headers, NOW) }, sent)
    const next = yield* Effect.fork(Effect.zipRight(limiter.take, TestClock.currentTimeMillis))
    yield* TestClock.adjust(Duration.days(400))
    return (yield* Fiber.join(next)) - NOW
  }).pipe(Effect.provide(TestContext.TestContext), Effect.runPromise)

const absurd = { "ratelimit-limit": "1;w=100000000", "ratelimit-remaining": "0" }

describe("how long a host's next request waits after quota headers", () => {
  const cases: ReadonlyArray<{ name: string; config: RateLimit; headers: Record<string, string>; wait: number }> = [
    { name: "plenty of quota left: no wait", config: { interval: Duration.minutes(5) }, headers: { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76" }, wait: 0 },
    // 100 per 6 h, a tenth under: one request every 240 s, quicker than one per interval, so honoured.
    { name: "Docker Hub's quota running low: its own pace", config: { interval: Duration.minutes(5) }, headers: { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "10" }, wait: 240_000 },
    { name: "a window of three years: the provider's interval", config: { interval: Duration.minutes(5) }, headers: absurd, wait: 300_000 },
    { name: "the same with a one-minute interval", config: { interval: Duration.minutes(1) }, headers: absurd, wait: 60_000 },
    { name: "the same under an operator's ceiling", config: { rps: 5, burst: 1, interval: Duration.minutes(2) }, headers: absurd, wait: 120_000 },
    { name: "without an interval: the default five minutes", config: {}, headers: absurd, wait: 300_000 },
    {
      name: "a reset as an epoch time ten years away: the provider's interval",
      config: { interval: Duration.minutes(10) },
      headers: { "x-ratelimit-limit": "1", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 10 * 365 * 86_400) },
      wait: 600_000,
    },
  ]
  test.each(cases)("$name", async ({ config, headers, wait }) => {
    expect(await nextWait(config, headers)).toBeCloseTo(wait, 0)
  })
})

describe("the provider's interval travels with every request for it", () => {
  const provider = providerConfig({ name: "slow", type: "ECR", interval: Duration.minutes(7), rateLimit: { concurrency: 2 } })
  const image = Either.getOrThrow(parseImageRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app"))
  const cases = [
    { name: "a registry endpoint", rateLimit: () => Either.getOrThrow(endpointFor(provider, image)).rateLimit },
    { name: "a cloud API call", rateLimit: () => cloudTarget(provider, image).rateLimit },
  ]
  test.each(cases)("$name", ({ rateLimit }) => {
    expect(rateLimit()).toEqual({ concurrency: 2, interval: Duration.minutes(7) })
    expect(hostLimits("registry.test", rateLimit()).longestQuotaWait).toBe(420_000)
  })
})
