/**
 * A commit message's values are one line each: a target whose field, file or tag would carry a
 * line break into the message fails, and its neighbours still commit. In process, fake layers.
 */
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import type { Target } from "../../src/domain/Target.ts"
import type { WatchedRepo } from "../../src/config/model.ts"
import { messageProblem, type TargetPlan } from "../../src/pipeline/plan.ts"
import { formatReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { targetConfig } from "../support/config.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"

/** `app.yaml` holds a good `image` field and a `tag` field whose current value is `current`. */
const pass = async (current: string, template?: string) => {
  const w = fakeWorld()
  const watcher = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: tag, format: tag, policy: {alphabetical: asc}}
    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: image}
    - {image: ${IMAGE}, provider: registry, filePath: other.yaml, field: image}
`
  w.remotes.create(REMOTE, {
    "app.yaml": `tag: ${JSON.stringify(current)}\nimage: ${IMAGE}:1.0.0\n`,
    "other.yaml": `image: ${IMAGE}:1.0.0\n`,
    ".pipe/w.yaml": watcher
  })
  w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
  const watchedRepos: ReadonlyArray<WatchedRepo> =
    template === undefined ? [] : [{ repoId: "config", commitMessage: template, includes: [], excludes: [] }]
  const report = await Effect.runPromise(runOnce([pipelineOf({ watchedRepos })], w.options).pipe(Effect.provide(w.layer)))
  return { w, text: formatReport(report) }
}

describe("line breaks in a commit message's values", () => {
  test.each([
    ["a line feed", "1.0.0\nSigned-off-by: Mallory <m@example.com>", undefined],
    ["a carriage return", "1.0.0\rCo-authored-by: Mallory <m@example.com>", undefined],
    ["a line separator", "1.0.0\u2028Signed-off-by: Mallory", "bump {{old}} to {{tag}}"],
    ["a paragraph separator", "1.0.0\u2029Signed-off-by: Mallory", "bump {{old}} to {{tag}}"],
    ["a next line", "1.0.0\u0085Signed-off-by: Mallory", "bump {{old}} to {{tag}}"]
  ])("the current tag holding %s fails its target; the others commit", async (_name, current, template) => {
    const { w, text } = await pass(current, template)
    const lines = text.split("\n")
    expect(lines.find((l) => l.includes("app.yaml  tag  "))).toContain("failed: {{old}} \"1.0.0")
    expect(lines.find((l) => l.includes("app.yaml  tag  "))).toContain("holds a line break: a commit message takes one-line values only")
    expect(lines.find((l) => l.includes("app.yaml  image  "))).toContain("1.0.0 -> 1.1.0  updated")
    expect(lines.find((l) => l.includes("other.yaml  image  "))).toContain("1.0.0 -> 1.1.0  updated")
    // The refused target's field is as it was; no commit message carries a second line.
    expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`tag: ${JSON.stringify(current)}\nimage: ${IMAGE}:1.1.0\n`)
    const log = w.remotes.log(REMOTE)
    expect(log.length).toBe(3)
    for (const commit of log) expect(commit.subject).not.toMatch(/[\n\r\u2028\u2029\u0085]|Mallory/)
  })
})

describe("messageProblem", () => {
  const target: Target = targetConfig({ image: IMAGE })
  const plan: TargetPlan = {
    current: "1.0.0",
    selection: { _tag: "Update", tag: "1.1.0", listed: 2, kept: 2 },
    edits: [],
    oldImage: `${IMAGE}:1.0.0`,
    newValue: "1.1.0",
    image: IMAGE,
    oldTag: "1.0.0",
    newTag: "1.1.0",
    newDigest: undefined
  }
  test.each([
    ["one-line values", plan, target, undefined],
    ["a field path with a line feed", plan, { ...target, field: "$['a\nb']" }, "{{field}}"],
    ["a file path with a line separator", plan, { ...target, filePath: "a\u2028b.yaml" }, "{{file}}"],
    ["an image as written with a next line", { ...plan, image: "a\u0085b" }, target, "{{image}}"],
    ["an old tag with a carriage return", { ...plan, oldTag: "1\r2" }, target, "{{old}}"],
    ["a digest with a paragraph separator", { ...plan, newDigest: "sha256:\u2029" }, target, "{{digest}}"],
    // The default message (`Update <current value> in <file> to <new value>`) names these.
    ["a current value with a trailing line feed", { ...plan, oldImage: `${IMAGE}:1.0.0\n` }, target, "the current value"],
    ["a new value with a line feed", { ...plan, newValue: "1.1.0\n" }, target, "the new value"]
  ] as const)("%s", (_name, p, t, expected) => {
    const problem = messageProblem(p, t)
    expect(problem === undefined ? undefined : problem.detail.slice(0, expected?.length)).toBe(expected)
    if (problem !== undefined) expect(problem.detail).toContain("holds a line break")
  })
})

describe("{{digest}} in a commit message", () => {
  test.each([
    ["looked up for a field that pins none", "sha256:" + "b".repeat(64), "bump {{image}} to {{tag}} ({{digest}})", `bump ${IMAGE} to 1.1.0 (sha256:${"b".repeat(64)})`],
    ["empty when the registry gives none", undefined, "bump {{image}} to {{tag}} ({{digest}})", `bump ${IMAGE} to 1.1.0 ()`],
    ["not looked up when no template asks", "sha256:" + "b".repeat(64), "bump {{image}} to {{tag}}", `bump ${IMAGE} to 1.1.0`]
  ])("%s", async (_name, digest, template, subject) => {
    const w = fakeWorld()
    w.remotes.create(REMOTE, {
      "app.yaml": `image: ${IMAGE}:1.0.0\n`,
      ".pipe/w.yaml": `apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  targets:\n    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: image}\n`
    })
    w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0", ...(digest === undefined ? {} : { digest }) }])
    const watchedRepos: ReadonlyArray<WatchedRepo> = [{ repoId: "config", commitMessage: template, includes: [], excludes: [] }]
    await Effect.runPromise(runOnce([pipelineOf({ watchedRepos })], w.options).pipe(Effect.provide(w.layer)))
    // The field pins no digest: only the message carries it.
    expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.1.0\n`)
    expect(w.remotes.log(REMOTE)[0]?.subject).toBe(subject)
  })
})
