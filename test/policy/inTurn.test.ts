/** `inTurn` is `select` run again and again, each choice taken out of the listing, in one ranking. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import type { PolicySpec } from "../../src/domain/PolicySpec.ts"
import { DEFAULT_EXCLUDE_TAGS } from "../../src/domain/Target.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { compileSelector, type Selector } from "../../src/policy/select.ts"

/** What select chooses one after another when each choice is taken out: the slow way inTurn replaces. */
const selectedInTurn = (selector: Selector, listing: ReadonlyArray<TagInfo>, current: string | undefined): ReadonlyArray<string> => {
  let tags = listing
  const chosen: Array<string> = []
  for (;;) {
    const s = selector.select(tags, current)
    if (Either.isLeft(s) || s.right._tag !== "Update") return chosen
    const tag = s.right.tag
    chosen.push(tag)
    tags = tags.filter((t) => t.tag !== tag)
  }
}

const version = (range: string): PolicySpec => ({ _tag: "version", range })
const cases: ReadonlyArray<{ name: string; policy: PolicySpec; tags: ReadonlyArray<string>; current?: string; allowDowngrade?: boolean; expected: ReadonlyArray<string> }> = [
  { name: "newer releases, best first", policy: version("^"), tags: ["1.0.0", "1.2.0", "1.10.0", "2.0.0", "0.9.0"], current: "1.0.0", expected: ["1.10.0", "1.2.0"] },
  { name: "the current tag is the best: nothing", policy: version("^"), tags: ["1.0.0", "0.9.0"], current: "1.0.0", expected: [] },
  { name: "another spelling of the current tag stops it", policy: { _tag: "semver", range: "*" }, tags: ["1.3.0", "1.2", "1.2.0", "1.1.0"], current: "1.2.0", expected: ["1.3.0"] },
  { name: "a tag listed twice is chosen once", policy: version("^"), tags: ["1.1.0", "1.2.0", "1.1.0"], current: "1.0.0", expected: ["1.2.0", "1.1.0"] },
  { name: "downgrades allowed: down to the current tag", policy: version("^"), tags: ["1.3.0", "1.2.0", "1.1.0"], current: "1.2.0", allowDowngrade: true, expected: ["1.3.0"] },
  { name: "downgrades allowed, current not listed: everything", policy: version("^"), tags: ["1.3.0", "1.1.0"], current: "1.2.0", allowDowngrade: true, expected: ["1.3.0", "1.1.0"] },
  { name: "a floating current tag is left alone", policy: version("^"), tags: ["1.3.0", "latest"], current: "latest", expected: [] },
  { name: "no current tag: every candidate", policy: { _tag: "alphabetical", order: "asc" }, tags: ["b", "a", "c"], expected: ["c", "b", "a"] },
  { name: "numerical, down to the current", policy: { _tag: "numerical", order: "asc" }, tags: ["7", "10", "9", "8"], current: "8", expected: ["10", "9"] },
]

describe("inTurn", () => {
  test.each(cases)("$name", ({ policy, tags, current, allowDowngrade, expected }) => {
    const selector = Either.getOrThrow(compileSelector({ policy, excludeTags: DEFAULT_EXCLUDE_TAGS, allowDowngrade: allowDowngrade ?? false }))
    const listing = tags.map((tag) => ({ tag }))
    expect(selectedInTurn(selector, listing, current)).toEqual(expected)
    expect(selector.inTurn(listing, current).map((t) => t.tag)).toEqual([...expected])
  })
})
