import { describe, expect, test } from "bun:test"
import { DEFAULT_EXCLUDE_TAGS, type Target } from "../../src/config/model.ts"
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
