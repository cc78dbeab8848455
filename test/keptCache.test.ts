import { describe, expect, test } from "bun:test"
import { Duration, Effect, Either, Fiber, Option, TestClock, TestContext } from "effect"
import { type KeptCache, type KeptFor, makeKeptCache } from "../src/keptCache.ts"

/** What a lookup answers: `fail` fails it, anything else succeeds with the count of lookups so far. */
type Cache = KeptCache<string, string>

interface World {
  readonly cache: Cache
  /** Lookups started, by id. */
  readonly looked: Record<string, number>
  /** Ids whose lookup fails. */
  readonly failing: Set<string>
  /** What each ask answered, in order of asking. */
  readonly answers: Array<string>
}

type Step = (world: World) => Effect.Effect<unknown>

/** Lookups take a second on the test clock; the answer names the id and how many lookups it took. */
const lookupOf = (world: World, id: string) => () =>
  Effect.suspend(() => {
    world.looked[id] = (world.looked[id] ?? 0) + 1
    const answer = `${id}${world.looked[id]}`
    return Effect.sleep(Duration.seconds(1)).pipe(Effect.zipRight(world.failing.has(id) ? Effect.fail(`no ${id}`) : Effect.succeed(answer)))
  })

const ask = (id: string, keptFor?: KeptFor<string>): Step => (world) =>
  world.cache.get(id, lookupOf(world, id), keptFor).pipe(
    Effect.either,
    Effect.tap((answer) => Effect.sync(() => world.answers.push(Either.merge(answer))))
  )
/** Asks at once; the clock moves on by the lookups' second so they finish. */
const together = (...steps: ReadonlyArray<Step>): Step => (world) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.all(steps.map((s) => s(world)), { concurrency: "unbounded" }))
    yield* TestClock.adjust(Duration.seconds(1))
    yield* Fiber.join(fiber)
  })
/** One ask, run to its end. */
const one = (id: string, keptFor?: KeptFor<string>) => together(ask(id, keptFor))
/** An ask interrupted half way through its lookup while `others` wait for the same id; they then finish. */
const interrupted = (id: string, ...others: ReadonlyArray<Step>): Step => (world) =>
  Effect.gen(function* () {
    const first = yield* Effect.fork(ask(id)(world))
    yield* Effect.yieldNow()
    const rest = yield* Effect.fork(Effect.all(others.map((s) => s(world)), { concurrency: "unbounded" }))
    yield* TestClock.adjust(Duration.millis(500))
    yield* Fiber.interrupt(first)
    yield* TestClock.adjust(Duration.seconds(1))
    yield* Fiber.join(rest)
  })
const wait = (duration: Duration.DurationInput): Step => () => TestClock.adjust(duration)
const fail = (id: string): Step => (world) => Effect.sync(() => world.failing.add(id))
const heal = (id: string): Step => (world) => Effect.sync(() => world.failing.delete(id))
const invalidate = (prefix: string): Step => (world) => world.cache.invalidate((id) => id.startsWith(prefix))
const forget = (id: string): Step => (world) => world.cache.forget(id)
const set = (id: string, answer: string): Step => (world) => world.cache.set(id, answer)
const peek = (id: string): Step => (world) =>
  Effect.map(world.cache.peek(id), (kept) => world.answers.push(Option.getOrElse(kept, () => "-")))
const size = (): Step => (world) => Effect.sync(() => world.answers.push(`size ${world.cache.size()}`))

const MINUTE = 60_000
/** Kept a minute by default. */
const aMinute: KeptFor<string> = () => MINUTE

const run = (steps: ReadonlyArray<Step>, options: { keptFor?: KeptFor<string>; max?: number } = {}) =>
  Effect.gen(function* () {
    const cache = yield* makeKeptCache<string, string>({ keptFor: options.keptFor ?? aMinute, ...(options.max === undefined ? {} : { max: options.max }) })
    const world: World = { cache, looked: {}, failing: new Set(), answers: [] }
    for (const step of steps) yield* step(world)
    return { looked: world.looked, answers: world.answers }
  }).pipe(Effect.provide(TestContext.TestContext), Effect.runPromise)

/** Keeps answers for ids k0..k(n-1), in that order. */
const fill = (n: number): ReadonlyArray<Step> => Array.from({ length: n }, (_, i) => set(`k${i}`, `k${i}0`))

describe("makeKeptCache", () => {
  const cases: ReadonlyArray<{
    name: string
    steps: ReadonlyArray<Step>
    options?: { keptFor?: KeptFor<string>; max?: number }
    looked: Record<string, number>
    answers?: ReadonlyArray<string>
  }> = [
    { name: "asks at once share one lookup", steps: [together(ask("a"), ask("a"), ask("a"))], looked: { a: 1 }, answers: ["a1", "a1", "a1"] },
    { name: "a kept answer is answered again", steps: [one("a"), wait("30 seconds"), one("a")], looked: { a: 1 }, answers: ["a1", "a1"] },
    { name: "each id is looked up on its own", steps: [together(ask("a"), ask("b"))], looked: { a: 1, b: 1 } },
    { name: "a failure goes to everyone who asked, and is not kept", steps: [fail("a"), together(ask("a"), ask("a")), heal("a"), one("a")], looked: { a: 2 }, answers: ["no a", "no a", "a2"] },
    { name: "an interrupted lookup is not kept: a waiter looks again", steps: [interrupted("a", ask("a")), one("a")], looked: { a: 2 }, answers: ["a2", "a2"] },
    // The test clock moves both clocks: expiry is exact on the monotonic one.
    { name: "an answer expires after its lifetime, exactly", steps: [one("a"), wait("58 seconds"), one("a"), wait("1 second"), one("a")], looked: { a: 2 }, answers: ["a1", "a1", "a2"] },
    { name: "an answer kept for ever never expires", steps: [one("a"), wait("1000 days"), one("a")], options: { keptFor: () => Infinity }, looked: { a: 1 } },
    { name: "an answer kept for no time is looked up again", steps: [one("a"), one("a")], options: { keptFor: () => 0 }, looked: { a: 2 } },
    { name: "an answer with no lifetime is looked up again", steps: [one("a"), one("a")], options: { keptFor: () => undefined }, looked: { a: 2 } },
    { name: "an ask's own lifetime wins over the cache's", steps: [one("a", () => 5_000), wait("5 seconds"), one("a")], looked: { a: 2 } },
    { name: "the answer decides its own lifetime", steps: [one("a"), one("a"), one("b"), one("b")], options: { keptFor: (answer) => (answer.startsWith("a") ? MINUTE : undefined) }, looked: { a: 1, b: 2 } },
    { name: "invalidate drops the matching ids only", steps: [one("x/a"), one("y/a"), invalidate("x/"), one("x/a"), one("y/a")], looked: { "x/a": 2, "y/a": 1 } },
    { name: "forget drops one id", steps: [one("a"), one("b"), forget("a"), one("a"), one("b")], looked: { a: 2, b: 1 } },
    { name: "a lookup forgotten while it runs answers its askers but is not kept", steps: [together(ask("a"), forget("a")), one("a")], looked: { a: 2 }, answers: ["a1", "a2"] },
    { name: "peek sees a kept answer only", steps: [peek("a"), one("a"), peek("a"), wait("1 minute"), peek("a")], looked: { a: 1 }, answers: ["-", "a1", "a1", "-"] },
    { name: "set keeps an answer as a lookup would", steps: [set("a", "given"), one("a"), wait("1 minute"), one("a")], looked: { a: 1 }, answers: ["given", "a1"] },
    { name: "set with no lifetime keeps nothing", steps: [set("a", "given"), peek("a")], options: { keptFor: () => undefined }, looked: {}, answers: ["-"] },
    // 1024 kept, then they expire: the 1025th ask prunes them all.
    { name: "expired entries are pruned once the map has doubled", steps: [...fill(1024), wait("1 minute"), one("z"), size()], looked: {}, answers: ["z1", "size 1"] },
    { name: "expired entries stay until the map has doubled", steps: [...fill(1023), wait("1 minute"), one("z"), size()], looked: {}, answers: ["z1", "size 1024"] },
    { name: "live entries are not pruned", steps: [...fill(1024), one("z"), size()], looked: {}, answers: ["z1", "size 1025"] },
    { name: "past max, the oldest entry goes first", steps: [...fill(3), one("k3"), one("k1"), one("k0"), size()], options: { max: 3 }, looked: { k0: 1, k3: 1 }, answers: ["k31", "k10", "k01", "size 3"] }
  ]
  test.each(cases)("$name", async ({ steps, options, looked, answers }) => {
    const result = await run(steps, options)
    expect(Object.fromEntries(Object.entries(result.looked).filter(([id]) => id in looked))).toEqual(looked)
    if (answers !== undefined) expect(result.answers).toEqual([...answers])
  })
})
