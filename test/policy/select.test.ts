import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import type { PolicySpec } from "../../src/domain/PolicySpec.ts"
import { DEFAULT_EXCLUDE_TAGS } from "../../src/domain/Target.ts"
import { compileSelector, type SelectorSpec } from "../../src/policy/select.ts"

interface Case {
  readonly name: string
  readonly policy?: PolicySpec
  readonly tags: ReadonlyArray<string>
  readonly current?: string
  readonly filterTags?: { pattern: string; extract: string }
  readonly excludeTags?: ReadonlyArray<string>
  readonly allowDowngrade?: boolean
  /** A chart target's versions: `+` allowed, its OCI tag's `_`. */
  readonly chart?: string
  /** `update X`, `uptodate X`, `ahead X`, `unranked X`, or `none`. */
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
  { name: "current not a version", tags: ["1.0.0"], current: "latest", allowDowngrade: true, expect: "update 1.0.0" },
  { name: "current not a version is left alone", tags: ["1.0.0"], current: "latest", expect: "unranked latest" },
  { name: "current not a version, no candidate either: left alone", tags: ["main"], current: "latest", expect: "unranked latest" },
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
  // semver: more spellings
  { name: "range without v matches v tags", policy: semver(">=1.2.0 <2"), tags: ["v1.1.0", "v1.3.0", "v2.0.0"], current: "v1.1.0", expect: "update v1.3.0" },
  { name: "tilde range", policy: semver("~1.2"), tags: ["1.2.0", "1.2.9", "1.3.0"], current: "1.2.0", expect: "update 1.2.9" },
  { name: "x range", policy: semver("1.x"), tags: ["1.0.0", "1.9.0", "2.0.0"], current: "1.0.0", expect: "update 1.9.0" },
  { name: "hyphen range", policy: semver("1.0.0 - 1.5.0"), tags: ["1.0.0", "1.5.0", "1.6.0"], current: "1.0.0", expect: "update 1.5.0" },
  { name: "or ranges", policy: semver("^1.0.0 || ^3.0.0"), tags: ["1.1.0", "2.5.0", "3.1.0"], current: "1.1.0", expect: "update 3.1.0" },
  { name: "capital V prefix", tags: ["V1.0.0", "V1.1.0"], current: "V1.0.0", expect: "update V1.1.0" },
  { name: "two-part range", policy: semver("^1.2"), tags: ["1.2", "1.3", "2.0"], current: "1.2", expect: "update 1.3" },
  { name: "precision: 1.2.0 over 1.2 when both exist", tags: ["1.2", "1.2.0", "1.1.9"], current: "1.1.9", expect: "update 1.2.0" },
  { name: "precision: current 1.2 moves to 1.2.0", tags: ["1.2", "1.2.0"], current: "1.2", expect: "update 1.2.0" },
  { name: "`+` is not allowed in tags", tags: ["1.0.0+build.1", "1.0.1+build.0"], current: "1.0.0", expect: "none" },
  { name: "a chart's versions may carry + (an OCI tag's _)", chart: "nginx", tags: ["1.0.0+build.1", "1.0.1+build.0"], current: "1.0.0", expect: "update 1.0.1+build.0" },
  { name: "a chart's versions are still valid tags but for +", chart: "nginx", tags: ["1.0.1+build/0", "1.0.0"], current: "1.0.0", expect: "uptodate 1.0.0" },
  { name: "leading zeros are not versions", tags: ["01.2.3", "1.2.4"], current: "1.2.3", expect: "update 1.2.4" },
  { name: "four parts are not semver", tags: ["1.2.3.4", "1.2.4"], current: "1.2.3", expect: "update 1.2.4" },
  { name: "date-like tags are versions only when they fit", tags: ["20240101", "1.0.0"], current: "1.0.0", expect: "update 20240101" },
  { name: "pre-release of a higher version needs opt-in", tags: ["1.0.0", "2.0.0-beta.1"], current: "1.0.0", expect: "uptodate 1.0.0" },
  { name: "alpha < beta < rc", policy: semver(">=1.0.0-0"), tags: ["1.0.0-alpha", "1.0.0-beta", "1.0.0-rc.1"], current: "1.0.0-alpha", expect: "update 1.0.0-rc.1" },
  { name: "numeric identifiers below alphanumeric", policy: semver(">=1.0.0-0"), tags: ["1.0.0-1", "1.0.0-alpha"], current: "1.0.0-1", expect: "update 1.0.0-alpha" },
  { name: "rc.2 below rc.10 with opt-in range", policy: semver(">=1.0.0-rc.0"), tags: ["1.0.0-rc.2", "1.0.0-rc.10", "1.0.0-rc.3"], current: "1.0.0-rc.2", expect: "update 1.0.0-rc.10" },
  { name: "beta2 below beta10", policy: semver(">=0.0.0-0"), tags: ["2.0.0-beta2", "2.0.0-beta10"], current: "2.0.0-beta2", expect: "update 2.0.0-beta10" },
  { name: "ahead by pre-release", policy: semver(">=1.0.0-0"), tags: ["1.0.0-rc.1"], current: "1.0.0", expect: "ahead 1.0.0" },
  { name: "current outside the range is still not downgraded", policy: semver("^1.0.0"), tags: ["1.0.0", "1.4.0"], current: "2.1.0", expect: "ahead 2.1.0" },
  { name: "current outside the range, downgrade allowed", policy: semver("^1.0.0"), tags: ["1.0.0", "1.4.0"], current: "2.1.0", allowDowngrade: true, expect: "update 1.4.0" },
  { name: "stable, dev and latest mixed", tags: ["latest", "stable", "dev", "1.0.0", "edge", "1.0.1"], current: "1.0.0", expect: "update 1.0.1" },
  { name: "sha-like tags ignored", tags: ["3f2a1bc", "1.0.0"], current: "1.0.0", expect: "uptodate 1.0.0" },
  { name: "invalid tags dropped", tags: ["1.0.0", "-1.2.0", ".1.3.0"], current: "1.0.0", expect: "uptodate 1.0.0" },
  // alphabetical
  { name: "alphabetical is byte order, not natural", policy: { _tag: "alphabetical", order: "asc" }, tags: ["v9", "v10"], current: "v9", expect: "uptodate v9" },
  { name: "alphabetical uppercase before lowercase", policy: { _tag: "alphabetical", order: "asc" }, tags: ["a", "B"], current: "B", expect: "update a" },
  { name: "alphabetical timestamps", policy: { _tag: "alphabetical", order: "asc" }, tags: ["2024-01-02T10-00", "2024-01-10T09-00", "2023-12-31T23-59"], current: "2024-01-02T10-00", expect: "update 2024-01-10T09-00" },
  { name: "alphabetical no downgrade", policy: { _tag: "alphabetical", order: "asc" }, tags: ["a", "b"], current: "c", expect: "ahead c" },
  { name: "alphabetical desc no downgrade", policy: { _tag: "alphabetical", order: "desc" }, tags: ["b", "c"], current: "a", expect: "ahead a" },
  { name: "alphabetical with extract", policy: { _tag: "alphabetical", order: "asc" }, tags: ["main-20240101", "main-20240301", "dev-20250101"], filterTags: { pattern: "^main-(\\d+)$", extract: "$1" }, current: "main-20240101", expect: "update main-20240301" },
  // numerical
  { name: "numerical desc", policy: { _tag: "numerical", order: "desc" }, tags: ["3", "1", "2"], current: "2", expect: "update 1" },
  { name: "numerical timestamps", policy: { _tag: "numerical", order: "asc" }, tags: ["1700000000", "1700000500", "999999999"], current: "1700000000", expect: "update 1700000500" },
  { name: "numerical floats exactly", policy: { _tag: "numerical", order: "asc" }, tags: ["0.1", "0.10000000000000001", "0.09"], current: "0.1", expect: "update 0.10000000000000001" },
  { name: "numerical leading zeros", policy: { _tag: "numerical", order: "asc" }, tags: ["007", "10", "0099"], current: "007", expect: "update 0099" },
  { name: "numerical 16.04 vs 9.10", policy: { _tag: "numerical", order: "asc" }, tags: ["9.10", "16.04", "xenial"], current: "9.10", expect: "update 16.04" },
  { name: "numerical no downgrade", policy: { _tag: "numerical", order: "asc" }, tags: ["1", "2"], current: "5", expect: "ahead 5" },
  { name: "numerical equal spellings are stable", policy: { _tag: "numerical", order: "asc" }, tags: ["1.0", "1"], current: "1", expect: "uptodate 1" },
  { name: "numerical only non-numbers: no candidate", policy: { _tag: "numerical", order: "asc" }, tags: ["a", "b"], current: "1", expect: "none" },
  { name: "numerical build number extracted", policy: { _tag: "numerical", order: "asc" }, tags: ["20240101-2", "20240101-10", "20231231-99"], filterTags: { pattern: "^(?P<date>\\d{8})-(?P<n>\\d+)$", extract: "$date$n" }, current: "20240101-2", expect: "update 20240101-10" },
  { name: "numerical extract with braces and literal text", policy: { _tag: "numerical", order: "asc" }, tags: ["r5-b1", "r5-b2", "r4-b9"], filterTags: { pattern: "^r(?P<r>\\d+)-b(?P<b>\\d+)$", extract: "${r}0${b}" }, current: "r5-b1", expect: "update r5-b2" },
  { name: "numerical beyond 2^64", policy: { _tag: "numerical", order: "asc" }, tags: ["18446744073709551617", "18446744073709551616"], current: "1", expect: "update 18446744073709551617" },
  // filters and exclusions
  { name: "suffix tags are pre-releases to semver", tags: ["1.0.0", "2.0.0-alpine", "1.5.0-alpine"], filterTags: { pattern: "-alpine$", extract: "" }, current: "1.5.0-alpine", expect: "none" },
  { name: "filter and extract the version before a suffix", tags: ["1.0.0", "2.0.0-alpine", "1.5.0-alpine"], filterTags: { pattern: "^(?P<v>.*)-alpine$", extract: "$v" }, current: "1.5.0-alpine", expect: "update 2.0.0-alpine" },
  { name: "filter with extract ranks the extracted version", tags: ["app-1.9.0", "app-1.10.0", "other-9.0.0"], filterTags: { pattern: "^app-(.*)$", extract: "$1" }, current: "app-1.9.0", expect: "update app-1.10.0" },
  { name: "current not matching the filter moves onto it", tags: ["1.0.0-alpine", "1.1.0-alpine"], filterTags: { pattern: "^(.*)-alpine$", extract: "$1" }, current: "1.0.0", allowDowngrade: true, expect: "update 1.1.0-alpine" },
  { name: "current not matching the filter is left alone", tags: ["1.0.0-alpine", "1.1.0-alpine"], filterTags: { pattern: "^(.*)-alpine$", extract: "$1" }, current: "1.0.0", expect: "unranked 1.0.0" },
  { name: "numerical: a current tag that is not a number is left alone", policy: { _tag: "numerical", order: "asc" }, tags: ["1", "2"], current: "stable", expect: "unranked stable" },
  { name: "RE2 case-insensitive flag", policy: { _tag: "alphabetical", order: "asc" }, tags: ["REL-a", "rel-b", "x"], filterTags: { pattern: "(?i)^rel-", extract: "" }, current: "REL-a", expect: "update rel-b" },
  { name: "RE2 POSIX class", policy: { _tag: "numerical", order: "asc" }, tags: ["b1", "b22", "bx"], filterTags: { pattern: "^b([[:digit:]]+)$", extract: "$1" }, current: "b1", expect: "update b22" },
  { name: "several exclusions", tags: ["1.0.0", "1.1.0-debug", "1.2.0", "1.3.0"], excludeTags: ["-debug$", "^1\\.3\\."], current: "1.0.0", expect: "update 1.2.0" },
  { name: "empty exclusion list keeps .sig tags", policy: { _tag: "alphabetical", order: "asc" }, tags: ["a", "b.sig"], excludeTags: [], current: "a", expect: "update b.sig" },
  { name: "given exclusions drop the default", policy: { _tag: "alphabetical", order: "asc" }, tags: ["a", "b.sig"], excludeTags: ["^z"], current: "a", expect: "update b.sig" },
  { name: "no tags at all", tags: [], current: "1.0.0", expect: "none" },
  { name: "no current tag", tags: ["1.0.0", "0.9.0"], expect: "update 1.0.0" },
  { name: "referrer tags never count", policy: { _tag: "alphabetical", order: "asc" }, tags: ["a", `sha256-${"f".repeat(64)}`], current: "a", expect: "uptodate a" }
]

const run = (c: Case): string => {
  const spec: SelectorSpec = {
    policy: c.policy ?? semver("*"),
    excludeTags: c.excludeTags ?? DEFAULT_EXCLUDE_TAGS,
    allowDowngrade: c.allowDowngrade ?? false,
    ...(c.filterTags === undefined ? {} : { filterTags: c.filterTags }),
    ...(c.chart === undefined ? {} : { chart: c.chart })
  }
  const selector = Either.getOrThrow(compileSelector(spec))
  const result = selector.select(c.tags.map((tag) => ({ tag })), c.current)
  if (Either.isLeft(result)) return "none"
  const s = result.right
  return `${s._tag.toLowerCase()} ${s.tag}`
}

describe("tag selection", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(run(c)).toBe(c.expect)
  })
})

// What the age gate asks before it lets an image's `created` date a tag: only history may be dated so.
describe("a tag newer than the current one", () => {
  const cases: ReadonlyArray<{ name: string; policy?: PolicySpec; tag: string; current?: string; newer: boolean }> = [
    { name: "a higher version", tag: "1.1.0", current: "1.0.0", newer: true },
    { name: "a lower version", tag: "0.9.0", current: "1.0.0", newer: false },
    { name: "the current tag itself", tag: "1.0.0", current: "1.0.0", newer: false },
    { name: "a higher major outside the range", policy: semver("^1.0.0"), tag: "2.0.0", current: "1.0.0", newer: true },
    { name: "no current tag", tag: "0.1.0", newer: true },
    { name: "a current tag the policy cannot read", tag: "0.1.0", current: "latest", newer: true },
    { name: "a tag the policy cannot read", tag: "nightly", current: "1.0.0", newer: true },
    { name: "alphabetical, before", policy: { _tag: "alphabetical", order: "asc" }, tag: "a", current: "b", newer: false }
  ]
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const selector = Either.getOrThrow(compileSelector({ policy: c.policy ?? semver("*"), excludeTags: DEFAULT_EXCLUDE_TAGS, allowDowngrade: false }))
    const tags = [c.tag, ...(c.current === undefined ? [] : [c.current])].map((tag) => ({ tag }))
    expect(selector.newer(tags, c.tag, c.current)).toBe(c.newer)
  })
})

describe("invalid selectors are refused before any registry call", () => {
  test.each([
    ["bad range", { policy: semver("not a range!"), excludeTags: [], allowDowngrade: false }],
    ["bad version range", { policy: { _tag: "version", range: "^^" }, excludeTags: [], allowDowngrade: false }],
    ["bad exclude regex", { policy: semver("*"), excludeTags: ["("], allowDowngrade: false }],
    ["bad filter regex", { policy: semver("*"), excludeTags: [], allowDowngrade: false, filterTags: { pattern: "[", extract: "" } }]
  ] as const)("%s", (_name, spec) => {
    expect(Either.isLeft(compileSelector(spec))).toBe(true)
  })
})
