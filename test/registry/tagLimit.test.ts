/** A provider's maxTags: listings of any size are collected without the stack, and one past the cap fails its image alone. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { failureReason } from "../../src/domain/failures.ts"
import { formatReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { appendPage, DEFAULT_MAX_TAGS, maxTagsOf } from "../../src/registry/tagLimit.ts"
import { providerConfig } from "../support/config.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"
import { type PagingProxy, startPagingProxy, startRegistry, type TestRegistry } from "../support/registry.ts"
import { tempDir } from "../support/tempDirs.ts"
import { tagSourcesLayer } from "../support/layers.ts"

const tags = (count: number, from = 0): ReadonlyArray<TagInfo> => Array.from({ length: count }, (_, i) => ({ tag: `t${from + i}` }))

describe("appendPage", () => {
  const cases: ReadonlyArray<{ name: string; pages: ReadonlyArray<number>; max: number; kept: number; accepted: ReadonlyArray<boolean> }> = [
    { name: "pages under the cap", pages: [3, 3], max: 10, kept: 6, accepted: [true, true] },
    { name: "exactly the cap", pages: [5, 5], max: 10, kept: 10, accepted: [true, true] },
    { name: "one tag past the cap: the page is refused whole", pages: [5, 6], max: 10, kept: 5, accepted: [true, false] },
    // A registry that ignores `n` (distribution 2.8 does) sends everything in one page; spread into
    // push(), Bun's stack gives out at about 640,000 tags.
    { name: "a million tags in one page and more in small ones", pages: [1_000_000, 1000, 1000], max: 2_000_000, kept: 1_002_000, accepted: [true, true, true] },
    { name: "600,000 tags in pages of 1000", pages: Array.from({ length: 600 }, () => 1000), max: 1_000_000, kept: 600_000, accepted: Array.from({ length: 600 }, () => true) },
  ]
  test.each(cases)("$name", ({ pages, max, kept, accepted }) => {
    const listing: Array<TagInfo> = []
    let from = 0
    const results = pages.map((size) => {
      const page = tags(size, from)
      from += size
      return appendPage(listing, page, max)
    })
    expect(results).toEqual([...accepted])
    expect(listing.length).toBe(kept)
    expect(listing[kept - 1]?.tag).toBe(`t${kept - 1}`)
  })

  test("the default cap is 100,000 tags", () => {
    expect([maxTagsOf({}), maxTagsOf({ maxTags: 7 })]).toEqual([DEFAULT_MAX_TAGS, 7])
    expect(DEFAULT_MAX_TAGS).toBe(100_000)
  })
})

describe("a listing past its provider's maxTags, through a paging proxy", () => {
  let registry: TestRegistry
  let proxy: PagingProxy
  beforeAll(async () => {
    registry = await startRegistry()
    for (const tag of ["1.0.0", "1.1.0"]) await registry.pushImage("team/small", tag)
    for (const tag of Array.from({ length: 8 }, (_, i) => `2.${i}.0`)) await registry.pushImage("team/big", tag)
    proxy = await startPagingProxy(registry, 3)
  }, 60_000)
  afterAll(async () => {
    await proxy?.stop()
    await registry?.stop()
  }, SERVER_HOOK_TIMEOUT)

  test("fails that image alone, clearly, without asking for the pages after; the other image of the pass is updated", async () => {
    const host = new URL(proxy.url).host
    const provider = providerConfig({ name: "paged", address: proxy.url, maxTags: 5 })
    const registryLayer = tagSourcesLayer(tempDir("runner-maxtags-")).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(NodeContext.layer),
    )
    const w = fakeWorld(registryLayer)
    w.remotes.create(REMOTE, {
      "big.yaml": `image: ${host}/team/big:2.0.0\n`,
      "small.yaml": `image: ${host}/team/small:1.0.0\n`,
      ".pipe/w.yaml": `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: ${host}/team/big, provider: paged, filePath: big.yaml, field: image}
    - {image: ${host}/team/small, provider: paged, filePath: small.yaml, field: image}
`,
    })
    const report = await Effect.runPromise(runOnce([pipelineOf({ providers: [provider] })], w.options).pipe(Effect.provide(w.layer)))

    const [big, small] = report.targets
    expect(big?.outcome._tag === "Failed" ? [failureReason(big.outcome.failure), big.outcome.failure.message] : big?.outcome._tag).toEqual([
      "registry",
      `provider paged, registry ${host}, repository team/big: over the operator's limit: more than 5 tags listed; raise maxTags of provider paged`,
    ])
    expect(small?.outcome._tag).toBe("Updated")
    expect(w.remotes.readFile(REMOTE, "small.yaml")).toBe(`image: ${host}/team/small:1.1.0\n`)
    expect(w.remotes.readFile(REMOTE, "big.yaml")).toBe(`image: ${host}/team/big:2.0.0\n`)
    expect(formatReport(report)).toContain("raise maxTags of provider paged")
    // Two pages of three, and the third never asked for.
    expect(proxy.requests.filter((r) => r.startsWith("GET /v2/team/big/tags/list"))).toEqual([
      "GET /v2/team/big/tags/list?n=1000",
      "GET /v2/team/big/tags/list?last=2.2.0&n=3",
    ])
  }, 30_000)
})
