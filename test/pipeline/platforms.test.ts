/**
 * The platforms gate in the walk, as a table: the digest and then the digest's platforms asked
 * for, a candidate held for a platform it lacks (the next best taken), arm64's default variant,
 * a registry error while reading the index, and a tag store refused. Pure, as decide.test.ts.
 */
import { describe, expect, test } from "bun:test"
import { Duration } from "effect"
import { canonicalPlatform, missingPlatforms, platformProblem, statedPlatform } from "../../src/domain/platform.ts"
import { checkRow, gate, HOUR, IMAGE, KEY, type Row, sha, STORE, tag } from "../support/decision.ts"

const img = (t: string) => `image: ${IMAGE}:${t}\n`
const both = gate({ platforms: ["linux/amd64", "linux/arm64"] })
const AMD = ["linux/amd64"]
const BOTH = ["linux/amd64", "linux/arm64"]

const rows: ReadonlyArray<Row> = [
  { name: "the digest asked for first", text: img("1.0.0"), gates: [both], listing: [tag("1.1.0")], expect: "Needs Digest 1.1.0" },
  { name: "then the digest's platforms", text: img("1.0.0"), gates: [both], listing: [tag("1.1.0")], facts: { digests: { "1.1.0": sha("b") } }, expect: `Needs Platforms ${sha("b")}` },
  {
    name: "every platform there: written, its digest not pinned (no signature was verified)",
    text: img("1.0.0"),
    gates: [both],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, platforms: { [sha("b")]: [...BOTH, "linux/s390x"] } },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)`,
    tally: [1, 0, 0]
  },
  {
    name: "a platform missing: held, the next best taken",
    text: img("1.0.0"),
    gates: [both],
    listing: [tag("1.0.0"), tag("1.1.0"), tag("1.2.0")],
    facts: { digests: { "1.1.0": sha("b"), "1.2.0": sha("c") }, platforms: { [sha("b")]: BOTH, [sha("c")]: AMD } },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0); held: 1.2.0 has no linux/arm64 image`,
    tally: [1, 1, 0]
  },
  {
    name: "nothing with every platform: held",
    text: img("1.0.0"),
    gates: [gate({ platforms: ["linux/arm64", "linux/arm/v7"] })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, platforms: { [sha("b")]: AMD } },
    expect: "Held: held: 1.1.0 has no linux/arm64 or linux/arm/v7 image",
    tally: [0, 1, 0]
  },
  {
    name: "linux/arm/v7 needs the variant",
    text: img("1.0.0"),
    gates: [gate({ platforms: ["linux/arm/v7"] })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, platforms: { [sha("b")]: ["linux/arm", "linux/arm/v6"] } },
    expect: "Held: held: 1.1.0 has no linux/arm/v7 image"
  },
  {
    name: "a registry error reading the index: held, the error in the note",
    text: img("1.0.0"),
    gates: [both],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, platforms: { [sha("b")]: { error: "manifest unknown" } } },
    expect: "Held: held: 1.1.0 platforms cannot be read (manifest unknown)",
    tally: [0, 1, 0]
  },
  {
    name: "no digest to read platforms by: held",
    text: img("1.0.0"),
    gates: [both],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": { error: "manifest unknown" } } },
    expect: "Held: held: 1.1.0 has no digest to read its platforms by (manifest unknown)",
    tally: [0, 1, 0]
  },
  {
    name: "too new: held before its digest is asked",
    text: img("1.0.0"),
    gates: [gate({ minAge: Duration.hours(24), platforms: BOTH })],
    listing: [tag("1.1.0", { pushed: HOUR })],
    expect: "Held: held: 1.1.0 too new (pushed 1h ago, needs 24h)"
  },
  {
    name: "platforms before signatures: a candidate without one is never verified",
    text: img("1.0.0"),
    gates: [gate({ cosign: KEY, platforms: BOTH })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, platforms: { [sha("b")]: AMD } },
    expect: "Held: held: 1.1.0 has no linux/arm64 image"
  },
  {
    name: "with platforms and signatures: the signature asked once the platforms pass",
    text: img("1.0.0"),
    gates: [gate({ cosign: KEY, platforms: BOTH })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, platforms: { [sha("b")]: BOTH } },
    expect: `Needs Signature ${sha("b")} (gate piped.yaml:30)`
  },
  {
    name: "platforms on a tag store",
    text: img("1.0.0"),
    provider: STORE,
    gates: [gate({ platforms: ["linux/arm64"], line: 44 })],
    listing: [tag("1.1.0")],
    expect: "Failed ConfigFailure: gate piped.yaml:44 asks for platforms (linux/arm64), but provider store is a tag store: there is no registry to read them from"
  },
  { name: "up to date: nothing asked", text: img("1.1.0"), gates: [both], listing: [tag("1.0.0"), tag("1.1.0")], expect: "UpToDate 1.1.0" }
]

describe("the platforms gate", () => {
  test.each(rows.map((r) => [r.name, r] as const))("%s", (_name, row) => checkRow(row))
})

describe("platforms", () => {
  test.each([
    ["linux/amd64", undefined],
    ["linux/arm/v7", undefined],
    ["windows/amd64", undefined],
    ["linux", "expected a platform"],
    ["Linux/amd64", "in lowercase"],
    ["linux/arm/v7/x", "os/arch/variant"],
    ["linux//v7", "os/arch"]
  ])("%s", (text, problem) => {
    const found = platformProblem(text)
    if (problem === undefined) expect(found).toBeUndefined()
    else expect(found).toContain(problem)
  })

  test.each([
    [{ os: "linux", architecture: "arm64", variant: "v8" }, "linux/arm64"],
    [{ os: "linux", architecture: "arm64" }, "linux/arm64"],
    [{ os: "linux", architecture: "arm", variant: "v7" }, "linux/arm/v7"],
    [{ os: "linux", architecture: "amd64", variant: "" }, "linux/amd64"],
    [{ os: "Linux", architecture: "AMD64" }, "linux/amd64"],
    [{ os: "linux" }, undefined],
    [{ architecture: "amd64" }, undefined]
  ])("stated %j is %s", (stated, platform) => {
    expect(statedPlatform(stated)).toBe(platform)
  })

  test.each([
    [["linux/arm64/v8"], ["linux/arm64"], []],
    [["linux/arm64"], ["linux/arm64"], []],
    [["linux/arm/v7"], ["linux/arm"], ["linux/arm/v7"]],
    [["linux/arm"], ["linux/arm/v7"], ["linux/arm"]],
    [["linux/amd64", "linux/arm64"], ["linux/amd64"], ["linux/arm64"]]
  ])("%j of %j lacks %j", (required, offered, missing) => {
    expect(missingPlatforms(required, new Set(offered.map(canonicalPlatform)))).toEqual(missing)
  })
})
