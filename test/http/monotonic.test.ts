/**
 * Lifetimes and pacing run on the monotonic clock: a wall clock stepped back an hour keeps no
 * listing or token longer, and makes no host wait longer, than before.
 */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Either, Layer, Option } from "effect"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { type Expiring, makeExpiringCache } from "../../src/credentials/ExpiringCache.ts"
import { type ImageRef, parseImageRef } from "../../src/domain/ImageRef.ts"
import { makeHostLimiter } from "../../src/http/RateLimiter.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { steppedClock } from "../support/steppedClock.ts"

const HOUR = 3_600_000
const provider: ProviderConfig = { name: "reg", type: "OCI", interval: Duration.minutes(5), insecure: false, source: { file: "piped.yaml", line: 3 } }
const image: ImageRef = Either.getOrThrow(parseImageRef("example.com/app:1.0.0"))

/** The wall clock steps by `step` ms (0: no step) right after the first use; the steps are the same either way. */
const steps = [
  { name: "no step", step: 0 },
  { name: "the wall clock set back an hour", step: -HOUR },
  { name: "the wall clock set forward an hour", step: HOUR }
]

describe.each(steps)("$name", ({ step }) => {
  test("a listing is kept for its provider's interval less 15 s, exactly", async () => {
    const time = steppedClock()
    let lists = 0
    const source = TagSource.layerTest(new Map([["example.com/app", [{ tag: "1.0.0" }]]]))
    const counted = Layer.effect(
      TagSource,
      Effect.map(TagSource, (s) => ({ ...s, list: (p: ProviderConfig, i: ImageRef) => Effect.suspend(() => ((lists += 1), s.list(p, i))) }))
    ).pipe(Layer.provide(source))
    const listed = await Effect.gen(function* () {
      const cache = yield* TagCache
      const seen: Array<number> = []
      yield* cache.get(provider, image)
      yield* time.stepWall(step)
      for (const after of ["284 seconds", "2 seconds"] as const) {
        yield* time.advance(after)
        yield* cache.get(provider, image)
        seen.push(lists)
      }
      return seen
    }).pipe(Effect.provide(TagCache.layer.pipe(Layer.provide(counted))), Effect.withClock(time.clock), Effect.runPromise)
    expect(listed).toEqual([1, 2])
  })

  test("a token is kept for the lifetime it had left when it was issued, exactly", async () => {
    const time = steppedClock()
    const fetched = await Effect.gen(function* () {
      const cache = yield* makeExpiringCache<Expiring<string>>()
      let count = 0
      // Issued now (by the wall clock), valid 60 s.
      const fetch = Effect.map(time.clock.currentTimeMillis, (wall) => ({ value: `token-${++count}`, expiresAt: wall + 60_000 }))
      const seen = [(yield* cache.getOrFetch("k", fetch)).value]
      yield* time.stepWall(step)
      for (const after of ["59 seconds", "2 seconds"] as const) {
        yield* time.advance(after)
        seen.push((yield* cache.getOrFetch("k", fetch)).value)
      }
      return seen
    }).pipe(Effect.withClock(time.clock), Effect.runPromise)
    expect(fetched).toEqual(["token-1", "token-1", "token-2"])
  })

  test("a paced host waits its pace, and a Retry-After its length, not an hour more or less", async () => {
    const time = steppedClock()
    await Effect.gen(function* () {
      const limiter = yield* makeHostLimiter({ rps: 1, burst: 1 }, "test")
      yield* limiter.take
      yield* time.stepWall(step)
      yield* limiter.take
      const sent = yield* limiter.take
      yield* limiter.report({ _tag: "TooMany", retryAfter: Option.some(Duration.seconds(30)) }, sent)
      yield* time.stepWall(step)
      yield* limiter.take
    }).pipe(Effect.withClock(time.clock), Effect.runPromise)
    // One second apart at one request a second, then the 30 s pause the host asked for.
    expect(time.slept.map((ms) => Math.round(ms / 100) / 10)).toEqual([1, 1, 30])
  })
})
