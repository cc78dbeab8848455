import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"
import { decodeWatcherFile } from "../../src/config/WatcherFile.ts"
import type { PolicySpec } from "../../src/domain/PolicySpec.ts"
import { DEFAULT_POLICY, resolveTarget } from "../../src/domain/Target.ts"

/** A Piped config whose `spec.imageWatcher` holds `lines` from line 5 on. */
const piped = (lines: string) => `apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n  imageWatcher:\n${lines}`
const pipedDefault = (policy: string) => piped(`    defaultPolicy: ${policy}\n`)

/** A watcher file: `spec.defaultPolicy` on line 4 when given, then one target with and one without a policy. */
const watcher = (defaultPolicy: string | undefined, ownPolicy = "{ alphabetical: asc }") =>
  [
    "apiVersion: pipecd.dev/v1beta1",
    "kind: ImageWatcher",
    "spec:",
    ...(defaultPolicy === undefined ? [] : [`  defaultPolicy: ${defaultPolicy}`]),
    "  targets:",
    "    - { image: a/own, provider: p, filePath: a.yaml, field: image, policy: " + ownPolicy + " }",
    "    - { image: a/none, provider: p, filePath: a.yaml, field: image }",
    ""
  ].join("\n")

const pipelineDefault = (text: string): PolicySpec | undefined => {
  const decoded = decodePipedConfigs("piped.yaml", text)
  if (Either.isLeft(decoded)) throw new Error(decoded.left.map((e) => e.display).join("\n"))
  return decoded.right[0]?.defaultPolicy
}

const watcherTargets = (text: string) => {
  const decoded = decodeWatcherFile(".pipe/w.yaml", text)
  if (Either.isLeft(decoded)) throw new Error(decoded.left.map((e) => e.display).join("\n"))
  return decoded.right.targets
}

const forms: ReadonlyArray<readonly [string, PolicySpec]> = [
  [`{ version: "auto" }`, { _tag: "version", range: "auto" }],
  [`{ version: "~" }`, { _tag: "version", range: "~" }],
  [`{ version: "*" }`, { _tag: "version", range: "*" }],
  [`{ version: ">=1.2 <3" }`, { _tag: "version", range: ">=1.2 <3" }],
  [`{ semver: ">=1.0.0-0" }`, { _tag: "semver", range: ">=1.0.0-0" }],
  ["{ alphabetical: desc }", { _tag: "alphabetical", order: "desc" }],
  ["{ numerical: asc }", { _tag: "numerical", order: "asc" }],
  ["{ newest: true }", { _tag: "newest" }]
]

describe("defaultPolicy takes every form of a target's policy", () => {
  test.each(forms)("spec.imageWatcher.defaultPolicy: %s", (written, expected) => {
    expect(pipelineDefault(pipedDefault(written))).toEqual(expected)
  })

  test.each(forms)("a watcher file's spec.defaultPolicy: %s", (written, expected) => {
    expect(watcherTargets(watcher(written)).map((t) => [t.image, t.policy])).toEqual([
      ["a/own", { _tag: "alphabetical", order: "asc" }],
      ["a/none", expected]
    ])
  })

  test("neither written: no default", () => {
    expect(pipelineDefault(piped("    checkInterval: 5m\n"))).toBeUndefined()
    expect(watcherTargets(watcher(undefined)).map((t) => t.policy)).toEqual([{ _tag: "alphabetical", order: "asc" }, undefined])
  })
})

const refused: ReadonlyArray<readonly [string, string, number, string, string]> = [
  ["newest: false", "{ newest: false }", 5, "defaultPolicy.newest", "only `newest: true` is allowed"],
  ["two policies", "{ semver: '*', numerical: asc }", 5, "defaultPolicy", "give exactly one of version, semver, alphabetical, numerical, newest, got semver and numerical"],
  ["no policy", "{}", 5, "defaultPolicy", "give exactly one of"],
  ["an unknown policy", "{ latest: true }", 5, "defaultPolicy.latest", "unknown key"],
  ["a bad order", "{ numerical: up }", 5, "defaultPolicy.numerical", `expected one of asc, desc, got "up"`],
  ["an invalid version range", "{ version: latest }", 5, "defaultPolicy.version", `invalid version range "latest": use "auto", "~", "^", "*" or a semver range`]
]

describe("a bad defaultPolicy is refused on its own line", () => {
  test.each(refused)("spec.imageWatcher.defaultPolicy: %s", (_, written, line, path, reason) => {
    const decoded = decodePipedConfigs("piped.yaml", pipedDefault(written))
    if (Either.isRight(decoded)) throw new Error("expected errors")
    expect(decoded.left.map((e) => [e.file, e.line, e.path])).toEqual([["piped.yaml", line, `spec.imageWatcher.${path}`]])
    expect(decoded.left[0]?.reason).toContain(reason)
  })

  // The whole document: its targets without a policy would otherwise run under one nobody wrote.
  test.each(refused)("a watcher file's spec.defaultPolicy: %s", (_, written, line, path, reason) => {
    const decoded = decodeWatcherFile(".pipe/w.yaml", watcher(written))
    if (Either.isRight(decoded)) throw new Error("expected errors")
    expect(decoded.left.map((e) => [e.file, e.line, e.path])).toEqual([[".pipe/w.yaml", line - 1, `spec.${path}`]])
    expect(decoded.left[0]?.reason).toContain(reason)
  })
})

const OWN: PolicySpec = { _tag: "alphabetical", order: "asc" }
const FILE: PolicySpec = { _tag: "numerical", order: "desc" }
const PIPELINE: PolicySpec = { _tag: "semver", range: "*" }

// A target's own policy, then its file's default, then its pipeline's, then the built-in one.
const precedence: ReadonlyArray<readonly [string, boolean, boolean, boolean, PolicySpec]> = [
  ["own, file and pipeline: own", true, true, true, OWN],
  ["own and pipeline: own", true, false, true, OWN],
  ["own and file: own", true, true, false, OWN],
  ["own alone: own", true, false, false, OWN],
  ["file and pipeline: file", false, true, true, FILE],
  ["file alone: file", false, true, false, FILE],
  ["pipeline alone: pipeline", false, false, true, PIPELINE],
  ["none: the built-in default", false, false, false, DEFAULT_POLICY]
]

describe("which policy a target runs under", () => {
  test.each(precedence)("%s", (_, own, file, pipeline, expected) => {
    const text = watcher(file ? "{ numerical: desc }" : undefined)
    const [withOwn, without] = watcherTargets(text)
    const target = own ? withOwn : without
    if (target === undefined) throw new Error("no target")
    const defaultPolicy = pipeline ? pipelineDefault(pipedDefault(`{ semver: "*" }`)) : pipelineDefault(piped("    checkInterval: 5m\n"))
    expect(resolveTarget(target, defaultPolicy).policy).toEqual(expected)
  })
})
