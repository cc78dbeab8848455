import { describe, expect, test } from "bun:test"
import { Duration, Effect, Either, Fiber, Layer, Option, TestClock, TestContext } from "effect"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { type ImageRef, parseImageRef } from "../../src/domain/ImageRef.ts"
import { providerError } from "../../src/domain/RegistryError.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { TagSource } from "../../src/registry/TagSource.ts"

const provider: ProviderConfig = { name: "reg", type: "OCI", interval: Duration.minutes(5), insecure: false, source: { file: "piped.yaml", line: 3 } }
const image = (name: string): ImageRef => Either.getOrThrow(parseImageRef(`example.com/${name}:1.0.0`))

/** A registry that counts what it is asked, answers after `latency`, and fails the images in `failing`. */
const countingSource = (latency: Duration.Duration, failing: ReadonlySet<string>) => {
  const asked = { list: 0, digest: 0 }
  const answer = <A>(img: ImageRef, value: A) =>
    Effect.sleep(latency).pipe(
      Effect.zipRight(failing.has(img.repository) ? providerError(provider, img)("Transport", "connection reset") : Effect.succeed(value))
    )
  const layer = Layer.succeed(
    TagSource,
    TagSource.of({
      list: (_, img) => Effect.suspend(() => ((asked.list += 1), answer(img, [{ tag: "1.0.0" }]))),
      digest: (_, img, tag) => Effect.suspend(() => ((asked.digest += 1), answer(img, `sha256:${img.repository}-${tag}`))),
      created: () => Effect.succeed({ digest: Option.none(), created: Option.none() }),
      manifest: () => Effect.succeed(Option.none()),
      blob: (_, img) => providerError(provider, img)("NotFound", "none"),
      referrers: () => Effect.succeed(Option.none()),
      pushTimes: () => Effect.succeed(new Map())
    })
  )
  return { asked, layer }
}

type Step = (cache: TagCache["Type"]) => Effect.Effect<unknown, unknown>

const list = (name: string): Step => (cache) => Effect.either(cache.get(provider, image(name)))
const digest = (name: string): Step => (cache) => Effect.either(cache.digest(provider, image(name), "1.0.0"))
const together = (...steps: ReadonlyArray<Step>): Step => (cache) => Effect.all(steps.map((s) => s(cache)), { concurrency: "unbounded" })
const wait = (duration: Duration.DurationInput): Step => () => TestClock.adjust(duration)
const forget = (name: string): Step => (cache) => cache.invalidate(provider, image(name))

/** Runs `steps` in order with the test clock; a registry answering after 1 s. */
const run = (steps: ReadonlyArray<Step>, failing: ReadonlySet<string> = new Set()) => {
  const source = countingSource(Duration.seconds(1), failing)
  return Effect.gen(function* () {
    const cache = yield* TagCache
    for (const step of steps) {
      // Each step runs while the clock moves on by the registry's latency, so lookups can finish.
      const fiber = yield* Effect.fork(step(cache))
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(fiber)
    }
    return source.asked
  }).pipe(Effect.provide(TagCache.layer.pipe(Layer.provide(source.layer))), Effect.provide(TestContext.TestContext), Effect.runPromise)
}

describe("TagCache", () => {
  const cases: ReadonlyArray<{ name: string; steps: ReadonlyArray<Step>; failing?: ReadonlyArray<string>; lists: number; digests?: number }> = [
    { name: "an image is listed once within its provider's interval", steps: [list("a"), wait("2 minutes"), list("a")], lists: 1 },
    { name: "asks at the same time share one listing", steps: [together(list("a"), list("a"), list("a"))], lists: 1 },
    { name: "each image is listed on its own", steps: [together(list("a"), list("b")), list("a")], lists: 2 },
    // Kept for the interval less a twentieth (15 s of 5 minutes): the pass one interval later lists again.
    { name: "past its interval, less a twentieth, an image is listed again", steps: [list("a"), wait("4 minutes"), wait("50 seconds"), list("a")], lists: 2 },
    { name: "a failure is not kept", steps: [list("a"), list("a")], failing: ["a"], lists: 2 },
    { name: "invalidate lists the image again", steps: [list("a"), forget("a"), list("a")], lists: 2 },
    { name: "invalidate leaves other images alone", steps: [list("a"), forget("b"), list("a")], lists: 1 },
    { name: "invalidate forgets the image's digests", steps: [digest("a"), forget("a"), digest("a")], lists: 0, digests: 2 },
    // img-1's keys are a prefix of img-10's but for the separator.
    { name: "invalidate forgets no digest of an image whose name extends it", steps: [digest("img-10"), forget("img-1"), digest("img-10")], lists: 0, digests: 1 }
  ]
  test.each(cases)("$name", async ({ steps, failing, lists, digests }) => {
    const asked = await run(steps, new Set(failing ?? []))
    expect(asked.list).toBe(lists)
    if (digests !== undefined) expect(asked.digest).toBe(digests)
  })

  test("every asker of a shared listing gets its failure", async () => {
    const source = countingSource(Duration.seconds(1), new Set(["a"]))
    const results = await Effect.gen(function* () {
      const cache = yield* TagCache
      const fiber = yield* Effect.fork(Effect.all([cache.get(provider, image("a")), cache.get(provider, image("a"))].map(Effect.either), { concurrency: 2 }))
      yield* TestClock.adjust(Duration.seconds(1))
      return yield* Fiber.join(fiber)
    }).pipe(Effect.provide(TagCache.layer.pipe(Layer.provide(source.layer))), Effect.provide(TestContext.TestContext), Effect.runPromise)
    expect(results.map(Either.isLeft)).toEqual([true, true])
    expect(source.asked.list).toBe(1)
  })
})
