import { describe, expect, test } from "bun:test"
import { Duration } from "effect"
import { DEFAULT_EXCLUDE_TAGS, type Target } from "../../src/domain/Target.ts"
import type { ScalarHit } from "../../src/manifest/patch.ts"
import { parseCache } from "../../src/pipeline/ParseCache.ts"

const target: Target = {
  image: "gcr.io/pipecd/foo",
  provider: "gcr",
  filePath: "apps/foo/deployment.yaml",
  field: "$.spec.image",
  policy: { _tag: "semver", range: "*" },
  excludeTags: DEFAULT_EXCLUDE_TAGS,
  allowDowngrade: false,
  format: "image",
  source: { file: ".pipe/watch.yaml", line: 4 }
}

const hit: ScalarHit = { document: 0, line: 2, value: "gcr.io/pipecd/foo:1.0.0", source: "gcr.io/pipecd/foo:1.0.0", start: 15, end: 38, style: "PLAIN" }

/** A cache that went through a save and a load, as the next pass sees it. */
const reloaded = (fill: (c: ReturnType<typeof parseCache>) => void) => {
  const first = parseCache(undefined)
  fill(first)
  return parseCache(first.save())
}

describe("ParseCache", () => {
  test("what a pass keeps, the next pass finds, by path and blob or by blob and field", () => {
    const next = reloaded((c) => {
      c.keepWatcherTargets(".pipe/watch.yaml", "b1", [target])
      c.keepHits("b2", "$.spec.image", [hit])
    })
    expect(next.watcherTargets(".pipe/watch.yaml", "b1")).toEqual([target])
    expect(next.hits("b2", "$.spec.image")).toEqual([hit])
    // Another blob, path or field is another parse.
    expect(next.watcherTargets(".pipe/watch.yaml", "b9")).toBeUndefined()
    expect(next.watcherTargets(".pipe/other.yaml", "b1")).toBeUndefined()
    expect(next.hits("b2", "$.spec.other")).toBeUndefined()
    expect(next.hits("b1", "$.spec.image")).toBeUndefined()
  })

  test("a map format's targets and hits, a missing key's place included, are read back as kept", () => {
    const kustomize: Target = { ...target, field: "images[nginx].newTag", format: "kustomize" }
    const hits: ReadonlyArray<ScalarHit> = [
      { document: 0, line: 2, value: "nginx", source: "nginx", start: 17, end: 22, style: "PLAIN", key: "name", map: 11 },
      { document: 0, line: 3, value: "", source: "", start: 22, end: 22, style: "PLAIN", key: "newTag", map: 11, missing: true }
    ]
    const next = reloaded((c) => {
      c.keepWatcherTargets(".pipe/watch.yaml", "b1", [kustomize])
      c.keepHits("b2", "kustomize\u0000images[nginx].newTag", hits)
    })
    expect(next.watcherTargets(".pipe/watch.yaml", "b1")).toEqual([kustomize])
    expect(next.hits("b2", "kustomize\u0000images[nginx].newTag")).toEqual(hits)
  })

  // Its pipeline's default fills it at prepare: a cache that wrote the default in would miss a change of it.
  test("a target without a policy is kept without one", () => {
    const { policy: _, ...declared } = target
    const next = reloaded((c) => c.keepWatcherTargets(".pipe/watch.yaml", "b1", [declared, target]))
    expect(next.watcherTargets(".pipe/watch.yaml", "b1")).toEqual([declared, target])
  })

  test("what failed in a watcher file is kept by path and blob, beside its targets", () => {
    const next = reloaded((c) => {
      c.keepWatcherFailures(".pipe/broken.yaml", "b1", [".pipe/broken.yaml:1: invalid YAML"])
      c.keepWatcherTargets(".pipe/partial.yaml", "b2", [target])
      c.keepWatcherFailures(".pipe/partial.yaml", "b2", [".pipe/partial.yaml:6: filePath must stay inside the repository"])
    })
    expect(next.watcherFailures(".pipe/broken.yaml", "b1")).toEqual([".pipe/broken.yaml:1: invalid YAML"])
    expect(next.watcherTargets(".pipe/broken.yaml", "b1")).toBeUndefined()
    expect(next.watcherTargets(".pipe/partial.yaml", "b2")).toEqual([target])
    expect(next.watcherFailures(".pipe/partial.yaml", "b2")).toEqual([".pipe/partial.yaml:6: filePath must stay inside the repository"])
    expect(next.watcherFailures(".pipe/broken.yaml", "b9")).toBeUndefined()
    // A file that failed, used again and nothing learned: nothing to save.
    next.watcherTargets(".pipe/partial.yaml", "b2")
    expect(next.save()).toBeUndefined()
  })

  test("an empty list of hits is an answer too", () => {
    expect(reloaded((c) => c.keepHits("b2", "$.x", [])).hits("b2", "$.x")).toEqual([])
  })

  test("only what a pass used or learned is saved again", () => {
    const second = reloaded((c) => {
      c.keepHits("old", "$.a", [hit])
      c.keepHits("kept", "$.a", [hit])
    })
    second.hits("kept", "$.a")
    const third = parseCache(second.save())
    expect(third.hits("kept", "$.a")).toEqual([hit])
    expect(third.hits("old", "$.a")).toBeUndefined()
  })

  test("a pass that used all it found and learned nothing has nothing to save", () => {
    const second = reloaded((c) => c.keepHits("b", "$.a", [hit]))
    expect(second.hits("b", "$.a")).toEqual([hit])
    expect(second.save()).toBeUndefined()
    const first = parseCache(undefined)
    expect(first.save()).toBeDefined()
  })

  test.each<[string, Partial<Target>]>([
    ["version policy", { policy: { _tag: "version", range: "^" } }],
    ["alphabetical policy", { policy: { _tag: "alphabetical", order: "desc" } }],
    ["numerical policy", { policy: { _tag: "numerical", order: "asc" } }],
    ["newest policy", { policy: { _tag: "newest" } }],
    ["a tag filter", { filterTags: { pattern: "^v(?P<v>.*)$", extract: "$v" } }],
    ["a minimum age", { minAge: Duration.hours(36) }],
    ["a tag field", { format: "tag" }]
  ])("a target with %s comes back as it was kept", (_name, change) => {
    const kept = { ...target, ...change }
    expect(reloaded((c) => c.keepWatcherTargets("w.yaml", "b", [kept])).watcherTargets("w.yaml", "b")).toEqual([kept])
  })

  /** A saved cache of this version whose one target or hit is `entry`. */
  const savedWith = (entry: { target?: unknown; hit?: unknown; failure?: unknown }) => {
    const text = parseCache(undefined)
    text.keepWatcherTargets("w.yaml", "b", [target])
    text.keepHits("b", "$.a", [hit])
    const saved = JSON.parse(text.save() as string)
    if (entry.target !== undefined) saved.watchers["w.yaml\u0000b"] = [entry.target]
    if (entry.hit !== undefined) saved.hits["b\u0000$.a"] = [entry.hit]
    if (entry.failure !== undefined) saved.failed["x.yaml\u0000c"] = [entry.failure]
    return JSON.stringify(saved)
  }

  test.each<[string, { target?: unknown; hit?: unknown; failure?: unknown }]>([
    ["a target without its image", { target: { ...target, image: undefined } }],
    ["a watcher file's failure that is not words", { failure: { reason: "x" } }],
    ["a target with an unknown policy", { target: { ...target, policy: { _tag: "latest" } } }],
    ["a target whose excluded tags are not strings", { target: { ...target, excludeTags: [1] } }],
    ["a target with a minimum age in words", { target: { ...target, minAge: "1d" } }],
    ["a target with a broken filter", { target: { ...target, filterTags: { pattern: "x" } } }],
    ["a target with an unknown format", { target: { ...target, format: "yaml" } }],
    ["a hit with an unknown style", { hit: { ...hit, style: "FLOW" } }],
    ["a hit without its offsets", { hit: { ...hit, start: "15" } }],
    ["a hit that is a string", { hit: "x" }]
  ])("%s makes the whole cache unusable", (_name, entry) => {
    const cache = parseCache(savedWith(entry))
    expect(cache.hits("b", "$.a")).toBeUndefined()
    expect(cache.watcherTargets("w.yaml", "b")).toBeUndefined()
  })

  test("the cache as saved is read back whole", () => {
    const cache = parseCache(savedWith({}))
    expect(cache.hits("b", "$.a")).toEqual([hit])
    expect(cache.watcherTargets("w.yaml", "b")).toEqual([target])
  })

  test.each([
    ["no file", undefined],
    ["not JSON", "{\"version\": "],
    ["another version", JSON.stringify({ version: "0.0.1/1", watchers: {}, hits: { "b\u0000$.a": [hit] } })],
    ["another shape", JSON.stringify({ version: "x", entries: [] })],
    ["a list", "[]"]
  ])("%s: an empty cache", (_name, text) => {
    expect(parseCache(text).hits("b", "$.a")).toBeUndefined()
  })
})
