/** Rollbacks and suspensions over whole passes, in process: what is written, what is held, what the report says. */
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import type { WatchedRepo } from "../../src/config/model.ts"
import { formatReport, type PassReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { fakeWorld, pipelineOf, REMOTE, WATCHER } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"

const world = (current: string, tags: ReadonlyArray<string>, watcher = WATCHER) => {
  const w = fakeWorld()
  w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:${current}\n`, ".pipe/w.yaml": watcher })
  w.images.set(IMAGE, tags.map((tag) => ({ tag })))
  return w
}

const pass = (w: ReturnType<typeof fakeWorld>, watchedRepos: ReadonlyArray<WatchedRepo> = [], dryRun = false): Promise<PassReport> =>
  Effect.runPromise(runOnce([pipelineOf({ watchedRepos })], { ...w.options, dryRun }).pipe(Effect.provide(w.layer)))

describe("rollbacks over passes", () => {
  test("a person's rollback is held over passes, then a newer tag is written", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    expect((await pass(w)).targets.map((t) => t.outcome._tag)).toEqual(["Updated"])
    w.remotes.commitAs(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n` }, "Roll back app to 1.0.0")
    for (let i = 0; i < 2; i++) {
      const report = await pass(w)
      expect(formatReport(report)).toContain(`config  app.yaml  image  ${IMAGE}  1.0.0  rolled back below 1.1.0: held until a newer tag`)
      expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.0.0\n`)
    }
    w.images.set(IMAGE, ["1.0.0", "1.1.0", "1.2.0"].map((tag) => ({ tag })))
    expect((await pass(w)).targets.map((t) => [t.outcome._tag, t.chosen])).toEqual([["Updated", "1.2.0"]])
    expect(w.remotes.log(REMOTE).map((c) => c.subject)[0]).toBe(`Update ${IMAGE}:1.0.0 in app.yaml to 1.2.0`)
  })

  test("a dry run records nothing: a later rollback is not known as one", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    expect((await pass(w, [], true)).targets.map((t) => t.outcome._tag)).toEqual(["WouldUpdate"])
    expect((await pass(w)).targets.map((t) => t.outcome._tag)).toEqual(["Updated"])
  })
})

describe("suspend", () => {
  const suspendedTarget = WATCHER.replace("field: image}", "field: image, suspend: true}")
  const suspendedFile = WATCHER.replace("spec:\n", "spec:\n  suspend: true\n")
  const repo: WatchedRepo = { repoId: "config", includes: [], excludes: [], suspend: true }
  test.each([
    ["target", suspendedTarget, []],
    ["watcher file", suspendedFile, []],
    ["repository", WATCHER, [repo]]
  ] as const)("on the %s: nothing written, no image listed, the report says so", async (by, watcher, repos) => {
    // The registry lists nothing of the image: listing it would fail the target.
    const w = world("1.0.0", [], watcher)
    w.images.delete(IMAGE)
    const report = await pass(w, repos)
    expect(formatReport(report)).toContain(`config  app.yaml  image  ${IMAGE}  1.0.0  suspended (${by})`)
    expect(report.targets.map((t) => t.outcome._tag)).toEqual(["Held"])
    expect(w.remotes.log(REMOTE).length).toBe(1)
  })
})
