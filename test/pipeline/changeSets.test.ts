/** Branch names and the marker of request bodies, as tables. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import type { PullRequestSettings } from "../../src/config/model.ts"
import { branchOf, changeSetsOf, MARKER, targetsOfBody } from "../../src/pipeline/changeSets.ts"
import type { PlannedCommit } from "../../src/pipeline/commit.ts"
import type { Update } from "../../src/pipeline/decide.ts"
import { writtenKey } from "../../src/pipeline/LastWritten.ts"
import { IMAGE, subjectOf } from "../support/decision.ts"

const SETTINGS: PullRequestSettings = { provider: "github", apiURL: "https://api.github.com", repository: "org/config", tokenFile: "/t", labels: [], autoMerge: false }

/** The update of `image` in `filePath`'s `field` from 1.0.0 to `newTag`. */
const update = (o: { readonly filePath?: string; readonly field?: string; readonly image?: string; readonly newTag?: string } = {}): Update => {
  const image = o.image ?? IMAGE
  const newTag = o.newTag ?? "1.1.0"
  const subject = subjectOf({ text: `image: ${image}:1.0.0\n`, target: { image, filePath: o.filePath ?? "app.yaml", field: o.field ?? "image" } })
  return {
    _tag: "Update",
    subject,
    origin: subject.prepared,
    current: "1.0.0",
    chosen: newTag,
    listed: 2,
    kept: 2,
    plan: {
      current: "1.0.0",
      selection: { _tag: "Update", tag: newTag, listed: 2, kept: 2 },
      edits: [],
      oldImage: `${image}:1.0.0`,
      newValue: newTag,
      image,
      oldTag: "1.0.0",
      newTag,
      newDigest: undefined
    }
  }
}

const HASH = /-[0-9a-f]{8}$/

describe("branchOf", () => {
  const rows: ReadonlyArray<{ name: string; updates: ReadonlyArray<Update>; settings?: Partial<PullRequestSettings>; shared?: boolean; branch: string | RegExp }> = [
    { name: "one change of an image with one target: its default name", updates: [update()], branch: "image-updates/gcr.io-x-app-1.1.0" },
    { name: "several changes: the name and their hash", updates: [update(), update({ field: "init" })], branch: /^image-updates\/gcr\.io-x-app-1\.1\.0-[0-9a-f]{8}$/ },
    { name: "an image with other targets: the name and the hash", updates: [update()], shared: true, branch: /^image-updates\/gcr\.io-x-app-1\.1\.0-[0-9a-f]{8}$/ },
    { name: "branchTemplate, each value slugged", updates: [update({ newTag: "1.1.0+Build_7" })], settings: { branchTemplate: "bump/{{repoId}}/{{image}}@{{tag}}" }, branch: "bump/config/gcr.io-x-app@1.1.0-build_7" },
    { name: "branchTemplate with the file", updates: [update({ filePath: "Envs/Prod App.yaml" })], settings: { branchTemplate: "bump/{{file}}-{{tag}}" }, branch: "bump/envs-prod-app.yaml-1.1.0" }
  ]
  for (const row of rows) {
    test(row.name, () => {
      const branch = Either.getOrThrow(branchOf(row.updates, { repoId: "config", settings: { ...SETTINGS, ...row.settings }, shared: () => row.shared === true, digestOf: () => undefined }))
      if (typeof row.branch === "string") expect(branch).toBe(row.branch)
      else expect(branch).toMatch(row.branch)
    })
  }

  test("the hash is the changes' own: same changes in another order, same branch; another tag or field, another", () => {
    const name = (updates: ReadonlyArray<Update>) => Either.getOrThrow(branchOf(updates, { repoId: "config", settings: SETTINGS, shared: () => true, digestOf: () => undefined }))
    const a = update()
    const b = update({ field: "init" })
    expect(name([a, b])).toBe(name([b, a]))
    expect(name([a, b])).not.toBe(name([a, update({ field: "sidecar" })]))
    expect(name([a])).not.toBe(name([update({ field: "init" })]))
    expect(name([a])).toMatch(HASH)
  })

  test.each([
    ["a template that makes a part start with a dot", "{{repoId}}/.{{tag}}", "no part may start with . or end with .lock"],
    ["a template ending in .lock", "image-updates/{{tag}}.lock", "no part may start with . or end with .lock"],
    ["a template that leaves an empty part", "image-updates//{{tag}}", "must not start or end with / or hold //"]
  ])("%s is refused, naming the branch", (_, branchTemplate, problem) => {
    const refused = branchOf([update()], { repoId: "config", settings: { ...SETTINGS, branchTemplate }, shared: () => false, digestOf: () => undefined })
    expect(Either.isLeft(refused) ? refused.left : "").toContain(problem)
  })

  test("no changes, no branch", () => {
    expect(Either.isLeft(branchOf([], { repoId: "config", settings: SETTINGS, shared: () => false, digestOf: () => undefined }))).toBe(true)
  })
})

describe("the marker of a request's body", () => {
  const setOf = (updates: ReadonlyArray<Update>) => {
    const commit: PlannedCommit = { message: "chore: bump", files: [], changes: updates.map((decision) => ({ decision, change: { path: decision.origin.target.filePath, content: "" } })) }
    const [set] = changeSetsOf([commit], { repoId: "config", settings: SETTINGS, shared: () => false, digestOf: () => undefined })
    if (set === undefined || Either.isLeft(set)) throw new Error("no change set")
    return set.right
  }

  test.each([
    ["one target", [update()]],
    ["two targets", [update(), update({ field: "init" })]],
    ["a path that would close the comment early", [update({ filePath: "a-->b<!--c.yaml" })]],
    ["a path with quotes and a backslash", [update({ filePath: 'we"ird\\path.yaml' })]]
  ])("%s: the targets read back from the body", (_, updates) => {
    const set = setOf(updates)
    expect(targetsOfBody(set.body, "config")).toEqual(updates.map((u) => writtenKey(u.origin.target)))
    // The comment closes once, at its end: nothing of a path shows on the rendered page.
    const at = set.body.lastIndexOf(MARKER)
    expect(set.body.slice(at).indexOf("-->")).toBe(set.body.length - at - 3)
  })

  test.each([
    ["no marker", "A person's request", "config"],
    ["a marker never closed", `${MARKER}{"repoId":"config","targets":[]}`, "config"],
    ["a marker of broken JSON", `${MARKER}{"repoId":"config","targets":[ -->`, "config"],
    ["a marker of another repository", `${MARKER}{"repoId":"other","targets":[]} -->`, "config"],
    ["targets that are not strings", `${MARKER}{"repoId":"config","targets":[1]} -->`, "config"],
    ["no targets", `${MARKER}{"repoId":"config"} -->`, "config"]
  ])("%s: not the runner's", (_, body, repoId) => {
    expect(targetsOfBody(body, repoId)).toBeUndefined()
  })

  test("the last marker counts: one quoted above it in the text is not read", () => {
    const body = `quoted: ${MARKER}{"repoId":"config","targets":["x"]} -->\n\n${MARKER}{"repoId":"config","targets":["y"]} -->`
    expect(targetsOfBody(body, "config")).toEqual(["y"])
  })
})
