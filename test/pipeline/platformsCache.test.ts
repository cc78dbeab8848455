/**
 * Platforms read through TagCache: from an index's entries or a single image's config, kept by
 * digest for the life of the process (a digest's platforms never change), a failure not kept, and
 * a manifest that does not hash to its digest refused.
 */
import { describe, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { Duration, Effect, Either, Layer, Option, TestClock, TestContext } from "effect"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { type ImageRef, parseImageRef } from "../../src/domain/ImageRef.ts"
import { providerError } from "../../src/domain/RegistryError.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { TagSource } from "../../src/registry/TagSource.ts"

const provider: ProviderConfig = { name: "reg", type: "OCI", interval: Duration.minutes(5), insecure: false, source: { file: "piped.yaml", line: 3 } }
const image: ImageRef = Either.getOrThrow(parseImageRef("example.com/app:1.0.0"))
const bytes = (text: string) => new TextEncoder().encode(text)
const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`

const config = JSON.stringify({ os: "linux", architecture: "arm", variant: "v7", created: "2024-01-01T00:00:00Z" })
const single = JSON.stringify({ schemaVersion: 2, config: { digest: sha(config) }, layers: [] })
const index = JSON.stringify({
  schemaVersion: 2,
  manifests: [
    { digest: sha("a"), platform: { os: "linux", architecture: "amd64" } },
    { digest: sha("b"), platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { digest: sha("c"), platform: { os: "unknown", architecture: "unknown" } },
    { digest: sha("d") }
  ]
})
const FORGED = `sha256:${"f".repeat(64)}`

/** A registry holding the documents above (and `FORGED`, whose bytes are the index's), failing the first `failures` manifest reads. */
const servedBy = (failures: number) => {
  const asked = { manifest: 0, blob: 0 }
  let failing = failures
  const documents = new Map([[sha(index), index], [sha(single), single], [FORGED, index]])
  const layer = Layer.succeed(
    TagSource,
    TagSource.of({
      list: () => Effect.succeed([]),
      digest: () => Effect.succeed(sha(index)),
      created: () => Effect.succeed({ digest: Option.none(), created: Option.none() }),
      manifest: (_, img, reference) =>
        Effect.suspend(() => {
          asked.manifest += 1
          if (failing-- > 0) return providerError(provider, img)("Server", "injected 503", 503)
          return Effect.succeed(Option.map(Option.fromNullable(documents.get(reference)), bytes))
        }),
      blob: (_, img, digest) =>
        Effect.suspend(() => {
          asked.blob += 1
          return digest === sha(config) ? Effect.succeed(bytes(config)) : providerError(provider, img)("NotFound", "blob unknown", 404)
        }),
      referrers: () => Effect.succeed(Option.none()),
      pushTimes: () => Effect.succeed(new Map())
    })
  )
  return { asked, layer }
}

const shown = (result: Either.Either<ReadonlySet<string>, { readonly message: string }>) =>
  Either.match(result, { onLeft: (e) => `error: ${e.message}`, onRight: (set) => [...set].join(" ") })

/** Reads each digest in turn, a provider interval apart, and what the registry was asked. */
const readAll = (digests: ReadonlyArray<string>, failures = 0) => {
  const source = servedBy(failures)
  return Effect.gen(function* () {
    const cache = yield* TagCache
    const results: Array<string> = []
    for (const digest of digests) {
      results.push(shown(yield* Effect.either(cache.platforms(provider, image, digest))))
      yield* TestClock.adjust(Duration.minutes(10))
    }
    return { results, asked: { ...source.asked } }
  }).pipe(Effect.provide(TagCache.layer.pipe(Layer.provide(source.layer))), Effect.provide(TestContext.TestContext), Effect.runPromise)
}

describe("platforms through TagCache", () => {
  test("an index: its entries' platforms, arm64/v8 as arm64, entries without a platform offering none", async () => {
    expect(await readAll([sha(index)])).toEqual({ results: ["linux/amd64 linux/arm64 unknown/unknown"], asked: { manifest: 1, blob: 0 } })
  })

  test("a single image: its config's os, architecture and variant", async () => {
    expect(await readAll([sha(single)])).toEqual({ results: ["linux/arm/v7"], asked: { manifest: 1, blob: 1 } })
  })

  test("kept by digest: asked again past the provider's interval, the registry is not", async () => {
    expect(await readAll([sha(index), sha(single), sha(index), sha(single)])).toEqual({
      results: ["linux/amd64 linux/arm64 unknown/unknown", "linux/arm/v7", "linux/amd64 linux/arm64 unknown/unknown", "linux/arm/v7"],
      asked: { manifest: 2, blob: 1 }
    })
  })

  test("a failure is not kept: the next ask reads again", async () => {
    const { results, asked } = await readAll([sha(index), sha(index), sha(index)], 1)
    expect(results[0]).toContain("server error (503): injected 503")
    expect(results.slice(1)).toEqual(["linux/amd64 linux/arm64 unknown/unknown", "linux/amd64 linux/arm64 unknown/unknown"])
    expect(asked.manifest).toBe(2)
  })

  test("a manifest that does not hash to its digest is refused, and a missing one is not found", async () => {
    const { results } = await readAll([FORGED, sha("missing")])
    expect(results[0]).toContain(`manifest ${FORGED} does not match its digest`)
    expect(results[1]).toContain("not found (404)")
  })
})
