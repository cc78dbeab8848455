import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { DEFAULT_EXCLUDE_TAGS, type PolicySpec } from "../../src/config/model.ts"
import { compileSelector, type SelectorSpec } from "../../src/policy/select.ts"

interface Case {
  readonly name: string
  readonly policy?: PolicySpec
  readonly tags: ReadonlyArray<string>
  readonly current?: string
  readonly filterTags?: { pattern: string; extract: string }
  readonly excludeTags?: ReadonlyArray<string>
  readonly allowDowngrade?: boolean
  /** `update X`, `uptodate X`, `ahead X`, or `none`. */
  readonly expect: string
}

const semver = (range: string): PolicySpec => ({ _tag: "semver", range })

const cases: ReadonlyArray<Case> = [
  { name: "highest release", tags: ["1.0.0", "1.2.0", "1.10.0", "1.9.9"], current: "1.0.0", expect: "update 1.10.0" },
  { name: "v prefix on tags", tags: ["v1.0.0", "v1.2.0", "v0.9.0"], current: "v1.0.0", expect: "update v1.2.0" },
  { name: "range with v", policy: semver("v1.x"), tags: ["v1.0.0", "v1.2.0", "v2.0.0"], current: "v1.0.0", expect: "update v1.2.0" },
  { name: "range bounds major", policy: semver("^1.0.0"), tags: ["1.0.0", "1.5.0", "2.0.0"], current: "1.0.0", expect: "update 1.5.0" },
  { name: "two-part tags", tags: ["1.2", "1.10", "1.9"], current: "1.2", expect: "update 1.10" },
  { name: "one-part tags", tags: ["1", "2", "10"], current: "2", expect: "update 10" },
  { name: "more precise spelling wins", tags: ["1.2", "1.2.0"], current: "1.1.0", expect: "update 1.2.0" },
  { name: "pre-releases ignored by default", tags: ["1.0.0", "1.1.0-rc.1"], current: "1.0.0", expect: "uptodate 1.0.0" },
  { name: "pre-release opt-in", policy: semver(">=1.0.0-0"), tags: ["1.0.0", "1.1.0-rc.1"], current: "1.0.0", expect: "update 1.1.0-rc.1" },
  { name: "rc.10 above rc.9", policy: semver(">=1.0.0-0"), tags: ["1.0.0-rc.9", "1.0.0-rc.10"], current: "1.0.0-rc.9", expect: "update 1.0.0-rc.10" },
  { name: "rc10 above rc9", policy: semver(">=1.0.0-0"), tags: ["1.0.0-rc9", "1.0.0-rc10"], current: "1.0.0-rc9", expect: "update 1.0.0-rc10" },
  { name: "release above its rc", policy: semver(">=1.0.0-0"), tags: ["1.0.0-rc.1", "1.0.0"], current: "1.0.0-rc.1", expect: "update 1.0.0" },
  { name: "latest ignored", tags: ["latest", "1.0.0", "main"], current: "1.0.0", expect: "uptodate 1.0.0" },
  { name: "no downgrade", tags: ["1.0.0", "1.1.0"], current: "2.0.0", expect: "ahead 2.0.0" },
  { name: "downgrade allowed", tags: ["1.0.0", "1.1.0"], current: "2.0.0", allowDowngrade: true, expect: "update 1.1.0" },
  { name: "no candidate", tags: ["latest", "main"], current: "1.0.0", expect: "none" },
  { name: "current not a version", tags: ["1.0.0"], current: "latest", expect: "update 1.0.0" },
  { name: "signature tags excluded by default", tags: ["1.0.0", "2.0.0.sig"], current: "1.0.0", expect: "uptodate 1.0.0" },
  { name: "exclusion list replaces default", tags: ["1.0.0", "1.1.0", "2.0.0"], excludeTags: ["^2\\."], current: "1.0.0", expect: "update 1.1.0" },
  { name: "huge numbers", tags: ["9007199254740993.0.0", "9007199254740992.0.0"], current: "1.0.0", expect: "update 9007199254740993.0.0" },
  { name: "alphabetical asc", policy: { _tag: "alphabetical", order: "asc" }, tags: ["a", "c", "b"], current: "a", expect: "update c" },
  { name: "alphabetical desc", policy: { _tag: "alphabetical", order: "desc" }, tags: ["b", "a", "c"], current: "b", expect: "update a" },
  { name: "numerical exact beyond 2^53", policy: { _tag: "numerical", order: "asc" }, tags: ["9007199254740993", "9007199254740992"], current: "1", expect: "update 9007199254740993" },
  { name: "numerical skips non-numbers", policy: { _tag: "numerical", order: "asc" }, tags: ["1", "x", "20", "3"], current: "1", expect: "update 20" },
  { name: "numerical decimals", policy: { _tag: "numerical", order: "asc" }, tags: ["1.10", "1.9"], current: "1.9", expect: "uptodate 1.9" },
  {
    name: "extract timestamp from branch tag",
    policy: { _tag: "numerical", order: "asc" },
    tags: ["main-3f2a1bc-1700000000", "main-aa11bb2-1700000500", "dev-ffff000-1800000000"],
    filterTags: { pattern: "^main-(?P<sha>[a-f0-9]+)-(?P<ts>\\d+)$", extract: "$ts" },
    current: "main-3f2a1bc-1700000000",
    expect: "update main-aa11bb2-1700000500"
  },
  { name: "referrer tags never count", policy: { _tag: "alphabetical", order: "asc" }, tags: ["a", `sha256-${"f".repeat(64)}`], current: "a", expect: "uptodate a" }
]

const run = (c: Case): string => {
  const spec: SelectorSpec = {
    policy: c.policy ?? semver("*"),
    excludeTags: c.excludeTags ?? DEFAULT_EXCLUDE_TAGS,
    allowDowngrade: c.allowDowngrade ?? false,
    ...(c.filterTags === undefined ? {} : { filterTags: c.filterTags })
  }
  const selector = Either.getOrThrow(compileSelector(spec))
  const result = selector.select(c.tags.map((tag) => ({ tag })), c.current)
  if (Either.isLeft(result)) return "none"
  const s = result.right
  return `${s._tag === "Update" ? "update" : s._tag === "UpToDate" ? "uptodate" : "ahead"} ${s.tag}`
}

describe("tag selection", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(run(c)).toBe(c.expect)
  })
})

describe("invalid selectors are refused before any registry call", () => {
  test.each([
    ["bad range", { policy: semver("not a range!"), excludeTags: [], allowDowngrade: false }],
    ["bad exclude regex", { policy: semver("*"), excludeTags: ["("], allowDowngrade: false }],
    ["bad filter regex", { policy: semver("*"), excludeTags: [], allowDowngrade: false, filterTags: { pattern: "[", extract: "" } }]
  ] as const)("%s", (_name, spec) => {
    expect(Either.isLeft(compileSelector(spec))).toBe(true)
  })
})
