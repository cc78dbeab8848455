/**
 * The TagSource contract, run against the real service on the Debian `docker-registry` and
 * against its in-memory fake, so that pipeline tests on the fake see what a registry would say.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either, Layer, Option } from "effect"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { imageName, parseImageRef } from "../../src/domain/ImageRef.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { providerConfig } from "../support/config.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { tempDir } from "../support/runner.ts"
import { tagSourcesLayer } from "../support/layers.ts"

/** What a contract run needs: a way to seed an image, and the layer under test. */
interface Subject {
  readonly host: () => string
  readonly provider: () => ProviderConfig
  readonly push: (repository: string, tag: string, created: string) => Promise<string>
  readonly layer: () => Layer.Layer<TagSource>
}

const contract = (name: string, subject: Subject) =>
  describe(`TagSource contract: ${name}`, () => {
    const run = <A, E>(f: (source: TagSource["Type"]) => Effect.Effect<A, E>) =>
      Effect.runPromise(Effect.either(Effect.flatMap(TagSource, f)).pipe(Effect.provide(subject.layer())))
    const image = (repository: string) => Either.getOrThrow(parseImageRef(`${subject.host()}/${repository}`))

    test("lists every tag of an image", async () => {
      for (const tag of ["1.0.0", "1.1.0", "latest"]) await subject.push("contract/list", tag, "2024-01-01T00:00:00Z")
      const listed = await run((s) => s.list(subject.provider(), image("contract/list")))
      expect(Either.map(listed, (tags) => tags.map((t) => t.tag).sort())).toEqual(Either.right(["1.0.0", "1.1.0", "latest"]))
    })

    test("a tag pushed later is listed by the next call", async () => {
      await subject.push("contract/later", "1.0.0", "2024-01-01T00:00:00Z")
      await run((s) => s.list(subject.provider(), image("contract/later")))
      await subject.push("contract/later", "1.1.0", "2024-02-01T00:00:00Z")
      const listed = await run((s) => s.list(subject.provider(), image("contract/later")))
      expect(Either.map(listed, (tags) => tags.map((t) => t.tag).sort())).toEqual(Either.right(["1.0.0", "1.1.0"]))
    })

    test("a tag's digest is the digest it was pushed with", async () => {
      const digest = await subject.push("contract/digest", "1.0.0", "2024-01-01T00:00:00Z")
      expect(await run((s) => s.digest(subject.provider(), image("contract/digest"), "1.0.0"))).toEqual(Either.right(digest))
    })

    test("a tag's creation time", async () => {
      await subject.push("contract/created", "1.0.0", "2024-03-01T12:00:00Z")
      const created = await run((s) => s.created(subject.provider(), image("contract/created"), "1.0.0"))
      expect(Either.map(created, (d) => d.created)).toEqual(Either.right(Option.some(new Date("2024-03-01T12:00:00Z"))))
    })

    test("more tags than the provider's maxTags fail the listing, naming the setting", async () => {
      for (const tag of ["1.0.0", "1.1.0", "1.2.0"]) await subject.push("contract/many", tag, "2024-01-01T00:00:00Z")
      const provider = { ...subject.provider(), maxTags: 2 }
      const listed = await run((s) => s.list(provider, image("contract/many")))
      expect(Either.isLeft(listed) && listed.left._tag === "RegistryError" ? [listed.left.reason, listed.left.detail] : listed).toEqual([
        "Limit",
        `more than 2 tags listed; raise maxTags of provider ${provider.name}`,
      ])
      expect(Either.map(await run((s) => s.list({ ...provider, maxTags: 3 }, image("contract/many"))), (tags) => tags.length)).toEqual(Either.right(3))
    })

    test("an unknown image is not found", async () => {
      const listed = await run((s) => s.list(subject.provider(), image("contract/nothing-here")))
      expect(Either.isLeft(listed) && listed.left._tag === "RegistryError" ? listed.left.reason : listed).toBe("NotFound")
    })

    test("a chart's tags (chartTags) are read as versions: _ listed as +, a version looked up by its tag", async () => {
      const digest = await subject.push("contract/chart", "1.0.0_build.1", "2024-04-01T00:00:00Z")
      await subject.push("contract/chart", "1.0.0", "2024-01-01T00:00:00Z")
      const chart = { ...subject.provider(), chartTags: true as const }
      const listed = await run((s) => s.list(chart, image("contract/chart")))
      expect(Either.map(listed, (tags) => tags.map((t) => t.tag).sort())).toEqual(Either.right(["1.0.0", "1.0.0+build.1"]))
      expect(await run((s) => s.digest(chart, image("contract/chart"), "1.0.0+build.1"))).toEqual(Either.right(digest))
      const created = await run((s) => s.created(chart, image("contract/chart"), "1.0.0+build.1"))
      expect(Either.map(created, (d) => d.created)).toEqual(Either.right(Option.some(new Date("2024-04-01T00:00:00Z"))))
      // An image provider's tags are names: nothing is read into them.
      const plain = await run((s) => s.list(subject.provider(), image("contract/chart")))
      expect(Either.map(plain, (tags) => tags.map((t) => t.tag).sort())).toEqual(Either.right(["1.0.0", "1.0.0_build.1"]))
    })

    test("an unknown tag has no digest", async () => {
      await subject.push("contract/notag", "1.0.0", "2024-01-01T00:00:00Z")
      const digest = await run((s) => s.digest(subject.provider(), image("contract/notag"), "9.9.9"))
      expect(Either.isLeft(digest) && digest.left._tag === "RegistryError" ? digest.left.reason : digest).toBe("NotFound")
    })
  })

let registry: TestRegistry
beforeAll(async () => {
  registry = await startRegistry()
}, 60_000)
afterAll(async () => {
  await registry?.stop()
}, SERVER_HOOK_TIMEOUT)

contract("the real service on docker-registry", {
  host: () => registry.host,
  provider: () => providerConfig({ name: "local", address: registry.url }),
  push: (repository, tag, created) => registry.pushImage(repository, tag, { created }),
  layer: () =>
    tagSourcesLayer(tempDir("runner-tagsource-")).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(NodeContext.layer)
    )
})

const fakeImages = new Map<string, ReadonlyArray<TagInfo>>()
let pushes = 0
contract("the in-memory fake", {
  host: () => "registry.test",
  provider: () => providerConfig({ name: "fake" }),
  push: async (repository, tag, created) => {
    const name = imageName(Either.getOrThrow(parseImageRef(`registry.test/${repository}`)))
    const digest = `sha256:${(++pushes).toString(16).padStart(64, "0")}`
    fakeImages.set(name, [...(fakeImages.get(name) ?? []).filter((t) => t.tag !== tag), { tag, digest, created: new Date(created) }])
    return digest
  },
  layer: () => TagSource.layerTest(fakeImages)
})
