/** The events a pass tells, from its report and what earlier passes told: one table of passes in a row. */
import { describe, expect, test } from "bun:test"
import { ConfigFailure, GitFailure, NoCandidateFailure } from "../../src/domain/failures.ts"
import { commitURL, type Notice, noticesOf, type PassScope, routesOf, type Subject } from "../../src/notifications/events.ts"
import { slackText, webhookBody } from "../../src/notifications/deliver.ts"
import type { NotificationRoute } from "../../src/config/model.ts"
import { type Outcome, type PassReport, repositoryScope, type TargetReport } from "../../src/pipeline/report.ts"

const target = (outcome: Outcome, more: Partial<TargetReport> = {}): TargetReport => ({
  pipeline: "p",
  repoId: "config",
  watcherFile: ".pipe/w.yaml",
  line: 3,
  filePath: "app.yaml",
  field: "image",
  image: "ghcr.io/acme/app",
  current: "1.0.0",
  chosen: "1.0.0",
  listed: 3,
  kept: 3,
  outcome,
  ...more
})

const failedTarget = target({ _tag: "Failed", failure: new NoCandidateFailure({ detail: "no tag matches" }) })
const upToDate = target({ _tag: "UpToDate" })
/** Held by a minimum age: the note's age moves on from pass to pass, the tag held is what counts. */
const gated = (tag: string, age: string) => target({ _tag: "Held" }, { gateNotes: [`held: ${tag} too new (first seen ${age} ago, needs 24h)`] })
const repoDown = { pipeline: "p", repoId: "config", scope: repositoryScope("config"), failure: new GitFailure({ operation: "fetch", kind: "network", detail: "no route" }) }
const fileBad = { pipeline: "p", repoId: "config", scope: "config/.pipe/w.yaml", failure: new ConfigFailure({ detail: "line 3: unknown key" }) }

const report = (targets: ReadonlyArray<TargetReport>, failures: PassReport["failures"] = []): PassReport => ({ targets, failures, diffs: [] })
const all: PassScope = { pipeline: "p", remoteOf: () => "https://github.com/acme/config.git" }
const only = (...repoIds: Array<string>): PassScope => ({ ...all, repoIds: new Set(repoIds) })

/** What each notice says in short: `event subject [to] [reason]`. */
const brief = (n: Notice): string =>
  [n.event, n.scope ?? `${n.repo}/${n.file}:${n.field}`, n.to, n.commit, n.url, n.reason].filter((p) => p !== undefined).join(" ")

type Step = readonly [PassReport, PassScope, ReadonlyArray<string>]

const cases: ReadonlyArray<readonly [string, ReadonlyArray<Step>]> = [
  ["an update pushed is told with its commit page", [
    [report([target({ _tag: "Updated", commit: "abc123" }, { chosen: "1.1.0" })]), all, [
      "updated config/app.yaml:image 1.1.0 abc123 https://github.com/acme/config/commit/abc123"
    ]]
  ]],
  ["a request opened is told, one open since an earlier pass is not", [
    [report([target({ _tag: "Proposed", request: "pull request #7", url: "https://github.com/acme/config/pull/7", branch: "b", opened: true }, { chosen: "1.1.0" })]), all, [
      "updated config/app.yaml:image 1.1.0 https://github.com/acme/config/pull/7 pull request #7 opened"
    ]],
    [report([target({ _tag: "Proposed", request: "pull request #7", url: "u", branch: "b", opened: false }, { chosen: "1.1.0" })]), all, []]
  ]],
  ["a failure is told the first time only, then its recovery once", [
    [report([failedTarget]), all, ["failed config/app.yaml:image no tag matches"]],
    [report([failedTarget]), all, []],
    [report([upToDate]), all, ["recovered config/app.yaml:image 1.0.0"]],
    [report([upToDate]), all, []]
  ]],
  ["a tag held is told once; another tag held later is new", [
    [report([gated("1.1.0", "3m")]), all, ["held config/app.yaml:image 1.1.0 held: 1.1.0 too new (first seen 3m ago, needs 24h)"]],
    [report([gated("1.1.0", "8m")]), all, []],
    [report([gated("1.2.0", "1m")]), all, ["held config/app.yaml:image 1.2.0 held: 1.2.0 too new (first seen 1m ago, needs 24h)"]]
  ]],
  ["a hold with a reason is told once", [
    [report([target({ _tag: "Held", reason: { _tag: "Paused" } })]), all, ["held config/app.yaml:image paused (API)"]],
    [report([target({ _tag: "Held", reason: { _tag: "Paused" } })]), all, []]
  ]],
  ["a failing target that is held recovers and is held", [
    [report([failedTarget]), all, ["failed config/app.yaml:image no tag matches"]],
    [report([target({ _tag: "Held", reason: { _tag: "Paused" } })]), all, ["recovered config/app.yaml:image 1.0.0", "held config/app.yaml:image paused (API)"]]
  ]],
  ["a repository that fails is told once and recovers when read again", [
    [report([], [repoDown]), all, ["failed repository config no route"]],
    [report([], [repoDown]), all, []],
    [report([upToDate]), all, ["recovered repository config"]]
  ]],
  ["a pass over other repositories recovers nothing of this one", [
    [report([], [fileBad]), all, ["failed config/.pipe/w.yaml line 3: unknown key"]],
    [report([]), only("other"), []],
    [report([]), only("config"), ["recovered config/.pipe/w.yaml"]]
  ]],
  ["a watcher file of a repository that cannot be read does not recover", [
    [report([], [fileBad]), all, ["failed config/.pipe/w.yaml line 3: unknown key"]],
    [report([], [repoDown]), all, ["failed repository config no route"]],
    [report([upToDate]), all, ["recovered config/.pipe/w.yaml", "recovered repository config"]]
  ]]
]

describe("noticesOf", () => {
  test.each(cases)("%s", (_name, steps) => {
    let kept: ReadonlyMap<string, Subject> = new Map()
    steps.forEach(([passReport, scope, expected], i) => {
      const result = noticesOf(passReport, scope, kept, 1_000 + i)
      kept = result.kept
      expect(result.notices.map(brief)).toEqual([...expected])
    })
  })

  test("past the bound, the subjects seen longest ago go first", () => {
    const failing = (field: string) => target({ _tag: "Failed", failure: new NoCandidateFailure({ detail: "x" }) }, { field })
    const first = noticesOf(report([failing("a")]), all, new Map(), 1, 2)
    const second = noticesOf(report([failing("b"), failing("c")]), all, first.kept, 2, 2)
    expect(second.kept.size).toBe(2)
    // `a` was forgotten: it is told again.
    expect(noticesOf(report([failing("a")]), all, second.kept, 3, 2).notices.map((n) => n.field)).toEqual(["a"])
  })
})

describe("commitURL", () => {
  test.each([
    ["https://github.com/acme/config.git", "https://github.com/acme/config/commit/abc"],
    ["git@github.com:acme/config.git", "https://github.com/acme/config/commit/abc"],
    ["https://x:token@gitlab.com/g/sub/p.git", "https://gitlab.com/g/sub/p/-/commit/abc"],
    ["https://git.example.com/acme/config.git", undefined],
    ["/srv/git/config.git", undefined]
  ])("%s", (remote, url) => expect(commitURL(remote, "abc")).toBe(url))
})

describe("routesOf", () => {
  const receiver = { _tag: "Webhook", name: "w", url: undefined as never, signatureKey: "k" } as const
  const route = (name: string, more: Partial<NotificationRoute>): NotificationRoute => ({
    receiver: { ...receiver, name },
    events: ["updated", "held", "failed", "recovered"],
    source: { file: "piped.yaml", line: 1 },
    ...more
  })
  const routes = [
    route("everything", {}),
    route("failures", { events: ["failed"] }),
    route("foo", { repos: ["foo"] }),
    route("acme", { images: ["ghcr.io/acme/*"] }),
    route("library", { images: ["docker.io/library/*"] })
  ]
  const notice = (more: Partial<Notice>): Notice => ({ event: "updated", pipeline: "p", repo: "config", ...more })
  test.each([
    ["an update of an acme image", notice({ image: "ghcr.io/acme/app" }), ["everything", "acme"]],
    ["a failure in foo", notice({ event: "failed", repo: "foo", image: "nginx" }), ["everything", "failures", "foo", "library"]],
    ["a repository's failure: no image to match", notice({ event: "failed", scope: "repository config" }), ["everything", "failures"]]
  ])("%s", (_name, n, names) => expect(routesOf(n, routes).map((r) => r.receiver.name)).toEqual(names))
})

describe("a chart target is told by its chart, not the image name its versions are listed under", () => {
  const chart = target(
    { _tag: "Updated", commit: "0123456789abcdef" },
    { image: "charts.example.com/bitnami/nginx", chart: "chart nginx (bitnami)", filePath: "Chart.yaml", field: "dependencies[0].version", chosen: "1.1.0" }
  )
  const scope: PassScope = { pipeline: "p", remoteOf: () => undefined }
  const [notice] = noticesOf({ targets: [chart], failures: [], diffs: [] }, scope, new Map(), 0).notices

  test("in Slack's text", () => {
    expect(notice === undefined ? "" : slackText(notice, [])).toBe("*Updated* chart nginx (bitnami) 1.0.0 → 1.1.0 in config/Chart.yaml (dependencies[0].version) (0123456)")
  })

  test("in a webhook's body, beside the image name that gates and routes match", () => {
    expect(notice === undefined ? {} : webhookBody({ ...notice, time: "t" })).toMatchObject({ image: "charts.example.com/bitnami/nginx", chart: "chart nginx (bitnami)" })
  })
})
