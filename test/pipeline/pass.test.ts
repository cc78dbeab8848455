/** A repository's pass in process, on the fake git remote and registry: races, refusals, dry runs, typed failures. */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { failureReason } from "../../src/domain/failures.ts"
import * as FakeGit from "../../src/git/FakeGit.ts"
import { GitRepo, type Listed, type RepoSpec } from "../../src/git/GitRepo.ts"
import { explainOutput, formatReport, type PassReport, reportLines } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { fakeWorld, pipelineOf, REMOTE, WATCHER } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"

/** A world whose repository holds `app.yaml` at `current`, and whose registry lists `tags`. */
const world = (current: string, tags: ReadonlyArray<string>) => {
  const w = fakeWorld()
  w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:${current}\n`, "other.yaml": "x: 1\n", ".pipe/w.yaml": WATCHER })
  w.images.set(IMAGE, tags.map((tag) => ({ tag })))
  return w
}

const pass = (w: ReturnType<typeof fakeWorld>, options: Partial<typeof w.options> = {}): Promise<PassReport> =>
  Effect.runPromise(runOnce([pipelineOf()], { ...w.options, ...options }).pipe(Effect.provide(w.layer)))

describe("a repository's pass, in process", () => {
  test("a pipeline without image providers clones no repository: there is nothing to compare with", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    const report = await Effect.runPromise(runOnce([pipelineOf({ providers: [] })], w.options).pipe(Effect.provide(w.layer)))
    expect(w.remotes.clones.size).toBe(0)
    expect(report).toEqual({ targets: [], failures: [], diffs: [] })
  })

  test("a pipeline with chart repositories alone passes its repositories: chart targets compare with them", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    const charts = {
      providers: [],
      chartRepositories: [{ type: "HTTP" as const, name: "charts", address: "https://charts.example.com", insecure: false, interval: Duration.minutes(5), source: { file: "piped.yaml", line: 1 } }]
    }
    await Effect.runPromise(runOnce([{ ...pipelineOf(charts), ...charts }], w.options).pipe(Effect.provide(w.layer)))
    expect(w.remotes.clones.size).toBe(1)
  })

  test("another writer pushes first: their commit stays, ours lands on top", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    w.remotes.beforeNextPush(() => w.remotes.commitAs(REMOTE, { "other.yaml": "x: 2\n" }, "Another change"))
    const report = await pass(w)
    expect(report.targets.map((t) => t.outcome._tag)).toEqual(["Updated"])
    expect(w.remotes.log(REMOTE).map((c) => c.subject)).toEqual([
      `Update ${IMAGE}:1.0.0 in app.yaml to 1.1.0`,
      "Another change",
      "Initial commit"
    ])
    expect(w.remotes.readFile(REMOTE, "other.yaml")).toBe("x: 2\n")
    expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.1.0\n`)
  })

  test("another writer already made the change: it is not made twice", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    w.remotes.beforeNextPush(() => w.remotes.commitAs(REMOTE, { "app.yaml": `image: ${IMAGE}:1.1.0\n` }, "Bump by hand"))
    const report = await pass(w)
    expect(report.targets.map((t) => t.outcome._tag)).toEqual(["UpToDate"])
    expect(w.remotes.log(REMOTE).map((c) => c.subject)).toEqual(["Bump by hand", "Initial commit"])
  })

  test("a push the server refuses fails the repository as a push failure, and nothing lands", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    w.remotes.refusePushes(REMOTE, "pre-receive hook declined")
    const report = await pass(w)
    const [failure] = report.failures
    expect(failure === undefined ? undefined : failureReason(failure.failure)).toBe("push")
    expect(formatReport(report)).toContain("repository config  failed: git push of repository \"config\" failed:")
    expect(w.remotes.log(REMOTE).length).toBe(1)
  })

  test("a refusal is never transient, whatever the server's words; a branch that keeps moving is", async () => {
    const refused = world("1.0.0", ["1.0.0", "1.1.0"])
    refused.remotes.refusePushes(REMOTE, "not today")
    const moving = world("1.0.0", ["1.0.0", "1.1.0"])
    let n = 0
    const moveOn = () => {
      moving.remotes.commitAs(REMOTE, { "other.yaml": `x: ${++n}\n` }, "Another change")
      moving.remotes.beforeNextPush(moveOn)
    }
    moving.remotes.beforeNextPush(moveOn)
    const families = async (w: ReturnType<typeof world>) => reportLines(await pass(w)).flatMap((line) => line.failure === undefined ? [] : [line.failure])
    expect(await families(refused)).toEqual([{ reason: "push", transient: false }])
    expect(await families(moving)).toEqual([{ reason: "push", transient: true }])
  })

  test("a dry run reports and diffs, and commits nothing", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    const report = await pass(w, { dryRun: true })
    expect(report.targets.map((t) => t.outcome._tag)).toEqual(["WouldUpdate"])
    expect(report.diffs.join("")).toContain(`-image: ${IMAGE}:1.0.0\n+image: ${IMAGE}:1.1.0\n`)
    expect(w.remotes.log(REMOTE).length).toBe(1)
  })

  test("failures are typed to the report: an image the registry does not know is not_found", async () => {
    const w = world("1.0.0", [])
    w.images.delete(IMAGE)
    const report = await pass(w)
    const outcome = report.targets[0]?.outcome
    expect(outcome?._tag === "Failed" ? failureReason(outcome.failure) : outcome?._tag).toBe("not_found")
    // The daemon logs the line with its family as a field.
    expect(reportLines(report)[0]?.failure).toEqual({ reason: "not_found", transient: false })
  })

  test("no candidate is its own family", async () => {
    const w = world("1.0.0", ["latest"])
    const outcome = (await pass(w)).targets[0]?.outcome
    expect(outcome?._tag === "Failed" ? [failureReason(outcome.failure), outcome.failure.message] : outcome?._tag).toEqual([
      "no_candidate",
      "no tag out of 1 listed matches version auto for 1.0.0 (no variant, 3 numbers, major 1, releases)"
    ])
  })

  test("a defect in one repository fails that repository with the defect's message; the other still runs and reports", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    const BROKEN = "https://git.test/org/broken.git"
    w.remotes.create(BROKEN, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    const base = pipelineOf()
    const pipeline = { ...base, repositories: [{ ...base.repositories[0], repoId: "broken", remote: BROKEN, branch: "main", source: { file: "piped.yaml", line: 9 } }, ...base.repositories] }
    // The runner's own bug, thrown while reading one repository's files.
    const brokenGit = Layer.effect(
      GitRepo,
      Effect.map(GitRepo, (git) => ({
        open: (spec: RepoSpec, dir: string) =>
          Effect.map(git.open(spec, dir), (checkout) =>
            spec.repoId !== "broken"
              ? checkout
              : { ...checkout, listFiles: () => Effect.sync((): ReadonlyArray<Listed> => { throw new TypeError("Cannot read properties of undefined (reading 'oid')") }) }
          )
      }))
    ).pipe(Layer.provide(FakeGit.layer(w.remotes)))
    const report = await Effect.runPromise(runOnce([pipeline], w.options).pipe(Effect.provide(brokenGit), Effect.provide(w.layer)))
    expect(report.targets.map((t) => [t.repoId, t.outcome._tag])).toEqual([["config", "Updated"]])
    expect(report.failures.map((f) => [f.scope, failureReason(f.failure), f.failure.message])).toEqual([
      ["repository broken", "internal", "internal error: Cannot read properties of undefined (reading 'oid')"]
    ])
    expect(formatReport(report)).toContain("repository broken  failed: internal error: Cannot read properties of undefined (reading 'oid')")
    expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.1.0\n`)
    expect(w.remotes.log(BROKEN).length).toBe(1)
  })

  test("explain attaches how the tags were read to the targets asked about", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0", "2.0.0"])
    const report = await pass(w, { dryRun: true, explain: (target) => target.image === IMAGE })
    const [explanation] = report.targets[0]?.explanations ?? []
    expect(explanation?.candidates.map((c) => c.tag)).toEqual(["1.1.0", "1.0.0"])
    expect(explanation?.passedOver.map((g) => g.reason)).toEqual(["another major version (auto keeps 1)"])
  })

  test("explain shows the default policy's line decision: the lines, the dates by their clock, the rule", async () => {
    const w = world("8.0.35", [])
    const day = (n: number) => new Date(Date.UTC(2026, 0, n))
    w.images.set(IMAGE, [
      { tag: "8.0.35", pushed: day(1) },
      { tag: "8.1.0", pushed: day(10) },
      { tag: "8.0.36", pushed: day(20) },
      { tag: "8.3.0", pushed: day(30) }
    ])
    const report = await pass(w, { dryRun: true, explain: (target) => target.image === IMAGE })
    const shown = explainOutput(report, (t) => t.image === IMAGE, IMAGE)
    expect(shown.out).toContain(
      [
        "  release line: 8.0; newer line 8.3 (best: 8.3.0); release dates compared:",
        "    8.1.0   2026-01-10T00:00:00.000Z (pushed)  first release above 8.0",
        "    8.0.36  2026-01-20T00:00:00.000Z (pushed)  newest of 8.0",
        "    8.0.35  2026-01-01T00:00:00.000Z (pushed)  current",
        "  line rule: kept: 8.0.36 released after 8.1.0, the first release above 8.0",
        "  result: 8.0.35 -> 8.0.36: the highest candidate on the 8.0 line",
        ""
      ].join("\n")
    )
    expect(shown.out).toContain("8.0.35 -> 8.0.36  would update (dry run) on the maintained 8.0 line (newer: 8.3.0)")
    expect([shown.err, shown.failed]).toEqual([undefined, false])
  })

  test("explain of a repository that failed to open shows that failure, not that no target watches the image", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    const base = pipelineOf()
    const missing = { ...base, repositories: [{ ...base.repositories[0], repoId: "gone", remote: "https://git.test/org/gone.git", branch: "main", source: { file: "piped.yaml", line: 9 } }] }
    const report = await Effect.runPromise(runOnce([missing], { ...w.options, dryRun: true, explain: (target) => target.image === IMAGE }).pipe(Effect.provide(w.layer)))
    const shown = explainOutput(report, (t) => t.image === IMAGE, IMAGE)
    expect(shown.out).toContain("repository gone  failed: ")
    expect(shown.err).toBe(`runner explain: no target of ${IMAGE} found in what could be read; 1 repository or watcher file failed (in the report)`)
    expect(shown.failed).toBe(true)
    // With nothing failed, the absence is what it says.
    expect(explainOutput({ ...report, failures: [] }, (t) => t.image === IMAGE, IMAGE).err).toBe(`runner explain: no target watches ${IMAGE} (0 targets read)`)
  })
})

describe("pushing to a push branch, in process", () => {
  const PUSH_BRANCH = "image-updates"
  const watched = pipelineOf({ watchedRepos: [{ repoId: "config", pushBranch: PUSH_BRANCH, includes: [], excludes: [] }] })

  test("created from main's tip, accumulates on its own tip, starts again from main once merged; main is never written", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    const passOf = () => Effect.runPromise(runOnce([watched], w.options).pipe(Effect.provide(w.layer)))
    const tipOf = (branch: string) => w.remotes.log(REMOTE, { branch })[0]?.oid ?? `no ${branch}`
    const parentsOf = (oid: string) => w.remotes.commit(oid)?.parents
    const main = tipOf("main")

    const created = await passOf()
    const first = tipOf(PUSH_BRANCH)
    expect(formatReport(created)).toContain(`1.0.0 -> 1.1.0  updated (${first.slice(0, 7)} on ${PUSH_BRANCH})`)
    expect(parentsOf(first)).toEqual([main])
    expect(w.remotes.readFile(REMOTE, "app.yaml", { branch: PUSH_BRANCH })).toBe(`image: ${IMAGE}:1.1.0\n`)

    // The push branch is read, not main: with nothing newer, nothing changes.
    expect((await passOf()).targets.map((t) => t.outcome._tag)).toEqual(["UpToDate"])
    expect(tipOf(PUSH_BRANCH)).toBe(first)

    // Another writer moves the push branch while the pass commits: the pass lands on their commit.
    w.images.set(IMAGE, [{ tag: "1.1.0" }, { tag: "1.2.0" }])
    w.remotes.beforeNextPush(() => w.remotes.commitAs(REMOTE, { "other.yaml": "x: 2\n" }, "Another change", { branch: PUSH_BRANCH }))
    const accumulated = await passOf()
    const second = tipOf(PUSH_BRANCH)
    expect(accumulated.targets.map((t) => t.outcome)).toEqual([{ _tag: "Updated", commit: second, branch: PUSH_BRANCH }])
    expect(w.remotes.log(REMOTE, { branch: PUSH_BRANCH }).map((c) => c.subject)).toEqual([
      `Update ${IMAGE}:1.1.0 in app.yaml to 1.2.0`,
      "Another change",
      `Update ${IMAGE}:1.0.0 in app.yaml to 1.1.0`,
      "Initial commit"
    ])

    const merged = w.remotes.merge(REMOTE, PUSH_BRANCH, "main")
    w.images.set(IMAGE, [{ tag: "1.2.0" }, { tag: "1.3.0" }])
    const restarted = await passOf()
    const third = tipOf(PUSH_BRANCH)
    expect(formatReport(restarted)).toContain(`1.2.0 -> 1.3.0  updated (${third.slice(0, 7)} on ${PUSH_BRANCH})`)
    expect(parentsOf(third)).toEqual([merged])
    expect(tipOf("main")).toBe(merged)
    for (const [earlier, later] of [[first, second], [second, third]] as const) {
      expect(w.remotes.isAncestor(earlier, later)).toBe(true)
    }
  })

  test("the log line of a push names the branch that received the commits", async () => {
    const pushedLines = async (pipeline: typeof watched) => {
      const w = world("1.0.0", ["1.0.0", "1.1.0"])
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => {
        lines.push(Array.isArray(message) ? message.join(" ") : String(message))
      })
      await Effect.runPromise(
        runOnce([pipeline], w.options).pipe(
          Logger.withMinimumLogLevel(LogLevel.Info),
          Effect.provide(w.layer),
          Effect.provide(Logger.replace(Logger.defaultLogger, capture))
        )
      )
      return lines.filter((line) => line.startsWith("pushed"))
    }
    expect(await pushedLines(watched)).toEqual([`pushed 1 commit(s) to ${PUSH_BRANCH}`])
    expect(await pushedLines(pipelineOf())).toEqual(["pushed 1 commit(s) to main"])
  })

  test("without a push branch, the report and main are as they always were", async () => {
    const w = world("1.0.0", ["1.0.0", "1.1.0"])
    const report = await pass(w)
    const tip = w.remotes.log(REMOTE)[0]?.oid ?? "no main"
    expect(formatReport(report)).toContain(`1.0.0 -> 1.1.0  updated (${tip.slice(0, 7)})  [`)
    expect(w.remotes.log(REMOTE, { branch: PUSH_BRANCH })).toEqual([])
  })
})
