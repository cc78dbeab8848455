import { describe, expect, test } from "bun:test"
import { Duration, Effect, Fiber, Option, Ref, TestClock, TestContext } from "effect"
import { type Expiring, makeExpiringCache, renewalTime } from "../../src/credentials/ExpiringCache.ts"

describe("renewalTime", () => {
  const cases = [
    { name: "the margin, for a long life", renewal: { margin: Duration.hours(1), lifetimeDivisor: 4 }, issued: 0, ends: 12 * 3_600_000, expected: 11 * 3_600_000 },
    { name: "a share of a short life", renewal: { margin: Duration.hours(1), lifetimeDivisor: 4 }, issued: 0, ends: 2000, expected: 1500 },
    { name: "no share: the whole margin", renewal: { margin: Duration.minutes(5), lifetimeDivisor: 1 }, issued: 0, ends: 3_600_000, expected: 3_300_000 },
    { name: "no end, never renewed", renewal: { margin: Duration.minutes(5), lifetimeDivisor: 1 }, issued: 0, ends: Infinity, expected: Infinity },
  ]
  test.each(cases)("$name", ({ renewal, issued, ends, expected }) => {
    expect(renewalTime(renewal, issued, ends)).toBe(expected)
  })
})

describe("getOrFetch", () => {
  const run = <A>(program: Effect.Effect<A>) => Effect.runPromise(Effect.provide(program, TestContext.TestContext))

  test("fetches once while the value lives, again once it expired or when asked for a fresh one", async () => {
    const fetched = await run(
      Effect.gen(function* () {
        const cache = yield* makeExpiringCache<Expiring<number>>()
        const count = yield* Ref.make(0)
        const fetch = Effect.map(Ref.updateAndGet(count, (n) => n + 1), (n) => ({ value: n, expiresAt: 10_000 }))
        const values = [(yield* cache.getOrFetch("k", fetch)).value, (yield* cache.getOrFetch("k", fetch)).value]
        values.push((yield* cache.getOrFetch("k", fetch, true)).value)
        yield* TestClock.adjust("10 seconds")
        values.push((yield* cache.getOrFetch("k", fetch)).value)
        return values
      }),
    )
    expect(fetched).toEqual([1, 1, 2, 3])
  })

  test("two asks at once share one fetch", async () => {
    const result = await run(
      Effect.gen(function* () {
        const cache = yield* makeExpiringCache<Expiring<number>>()
        const count = yield* Ref.make(0)
        const fetch = Effect.zipRight(Effect.sleep("1 second"), Effect.map(Ref.updateAndGet(count, (n) => n + 1), (n) => ({ value: n, expiresAt: 10_000 })))
        const both = yield* Effect.fork(Effect.all([cache.getOrFetch("k", fetch), cache.getOrFetch("k", fetch)], { concurrency: 2 }))
        yield* TestClock.adjust("1 second")
        const values = (yield* Fiber.join(both)).map((kept) => kept.value)
        return { values, fetched: yield* Ref.get(count) }
      }),
    )
    expect(result).toEqual({ values: [1, 1], fetched: 1 })
  })

  test("a value without an end is not kept, so it is read again every time", async () => {
    const kept = await run(
      Effect.gen(function* () {
        const cache = yield* makeExpiringCache<Expiring<string>>()
        yield* cache.getOrFetch("k", Effect.succeed({ value: "from a file", expiresAt: Infinity }))
        return yield* cache.get("k")
      }),
    )
    expect(kept).toEqual(Option.none())
  })
})
