import { describe, expect, test } from "bun:test"
import { Effect, Either, Option } from "effect"
import { isBranchName, isOid, mergeBaseWithin } from "../../src/git/otherBranches.ts"
import { DEEPEN_ROUNDS, DEEPEN_STEP } from "../../src/git/pushBranch.ts"

describe("isBranchName", () => {
  test.each([
    ["image-updates/nginx-1.27.3", true],
    ["image-updates/gcr.io_org_app-v1.2.3+build", true],
    ["main", true],
    ["", false],
    ["-f", false],
    ["--upload-pack=x", false],
    ["a..b", false],
    ["a b", false],
    ["a:b", false],
    ["a~1", false],
    ["a^", false],
    ["a?", false],
    ["a*", false],
    ["a[b", false],
    ["a\\b", false],
    ["a\nb", false],
    ["a//b", false],
    ["/a", false],
    ["a/", false],
    ["a.", false],
    ["a/.hidden", false],
    ["x.lock", false],
    ["a/x.lock/b", false],
    ["@", false],
    ["a@{1}", false],
    ["x".repeat(201), false]
  ] as const)("%j: %p", (name, expected) => {
    expect(isBranchName(name)).toBe(expected)
  })
})

describe("isOid", () => {
  test.each([
    ["a".repeat(40), true],
    ["0123456789abcdef".repeat(4), true],
    ["A".repeat(40), false],
    ["a".repeat(39), false],
    ["HEAD", false],
    [`${"a".repeat(40)}^`, false]
  ] as const)("%j: %p", (oid, expected) => {
    expect(isOid(oid)).toBe(expected)
  })
})

/** A clone whose history shows the base after `foundAfter` deepenings (never when undefined). */
const search = (options: { readonly foundAfter?: number; readonly shallow: boolean }) => {
  const deepened: Array<number> = []
  const run = mergeBaseWithin({
    find: Effect.sync(() => (options.foundAfter !== undefined && deepened.length >= options.foundAfter ? Option.some("base") : Option.none())),
    shallow: Effect.succeed(options.shallow),
    deepen: (commits) => Effect.sync(() => void deepened.push(commits)),
    none: (wasDeepened): string => (wasDeepened ? "none, deepened" : "none")
  })
  return { result: Effect.runSync(Effect.either(run)), deepened }
}

describe("mergeBaseWithin", () => {
  test.each([
    ["found at once", { foundAfter: 0, shallow: true }, Either.right("base"), 0],
    ["found after two deepenings", { foundAfter: 2, shallow: true }, Either.right("base"), 2],
    ["found at the last round", { foundAfter: DEEPEN_ROUNDS, shallow: true }, Either.right("base"), DEEPEN_ROUNDS],
    ["never found in a shallow clone: the bound", { shallow: true }, Either.left("none, deepened"), DEEPEN_ROUNDS],
    ["none in a whole clone: no deepening", { shallow: false }, Either.left("none"), 0]
  ] as const)("%s", (_, options, expected, rounds) => {
    const { deepened, result } = search(options)
    expect(result).toEqual(expected)
    expect(deepened).toEqual(Array.from({ length: rounds }, () => DEEPEN_STEP))
  })
})
