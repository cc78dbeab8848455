/**
 * Write-back by request, scenario by scenario, on GitHub and on GitLab: the real pipeline over the
 * real git server, the host a loopback fake whose branches are that server's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { reportLines } from "../../src/pipeline/report.ts"
import { metricsText } from "../../src/server/Http.ts"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { IMAGE, type Provider, requestName, requestRef, requestWorld, type WorldOptions } from "../support/requestWorld.ts"

let server: TestGitServer
beforeAll(async () => {
  server = await startGitServer()
}, SERVER_HOOK_TIMEOUT)
afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

const TIMEOUT = 60_000

/** A series' value in the metrics now; 0 when it has none yet. */
const series = async (name: string) => {
  const line = (await Effect.runPromise(metricsText)).split("\n").find((l) => l.startsWith(`${name} `))
  return line === undefined ? 0 : Number(line.slice(name.length + 1))
}
const BRANCH = "image-updates/gcr.io-org-app-1.1.0"

describe.each(["github", "gitlab"] as const)("requests on %s", (provider: Provider) => {
  const world = (scenario: string, options?: WorldOptions) => requestWorld(server, provider, `${provider}-${scenario}`, options)

  test("one target moves: one request against main on its branch, main unchanged; a second pass opens nothing", async () => {
    const w = await world("open")
    try {
      const mainBefore = await w.tip("main")
      const opened = 'runner_pull_request_operations_total{operation="open",outcome="ok"}'
      const openedBefore = await series(opened)
      const report = await w.pass()
      expect(await series(opened)).toBe(openedBefore + 1)
      expect(await series('runner_pull_requests{repo="config",state="open"}')).toBe(1)
      const [request, ...others] = w.host.requests()
      expect(others).toEqual([])
      expect(request).toMatchObject({ number: 1, state: "open", branch: BRANCH, base: "main", labels: ["image-update"] })
      expect(request?.body).toContain(`| ${IMAGE} | 1.0.0 | 1.1.0 | app.yaml | image |`)
      expect(request?.body).toContain("<!-- image-watcher-runner ")
      expect(await w.readFile("app.yaml", BRANCH)).toBe(`image: ${IMAGE}:1.1.0\n`)
      expect(await w.tip("main")).toBe(mainBefore)
      expect(w.lines(report).join("\n")).toContain(`${requestName(provider, 1)} opened (${BRANCH})`)

      const branchTip = await w.tip(BRANCH)
      const pushes = server.stats.receivePacks
      const again = await w.pass()
      expect(w.host.requests().length).toBe(1)
      expect(server.stats.receivePacks).toBe(pushes)
      expect(await w.tip(BRANCH)).toBe(branchTip)
      expect(w.lines(again).join("\n")).toContain(`${requestName(provider, 1)} open (${BRANCH})`)
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("the base moved: main merged into the request's branch, same request; then a conflict replaces it on <branch>-2", async () => {
    const w = await world("base-moved")
    try {
      await w.pass()
      const first = await w.tip(BRANCH)
      const moved = await w.commitAs({ "other.yaml": "x: 1\n" }, "Another change")
      const report = await w.pass()
      const merge = await w.tip(BRANCH)
      expect([...(await server.parents(w.name, merge ?? ""))]).toEqual([first ?? "", moved])
      expect(w.host.requests().map((r) => [r.number, r.state])).toEqual([[1, "open"]])
      expect(w.lines(report).join("\n")).toContain(`${requestName(provider, 1)} open (${BRANCH})`)

      await w.commitAs({ "app.yaml": `image: ${IMAGE}:1.0.0 # pinned by hand\n` }, "Same line, another change")
      const replaced = await w.pass()
      expect(w.host.requests().map((r) => [r.number, r.state, r.branch])).toEqual([
        [1, "closed", BRANCH],
        [2, "open", `${BRANCH}-2`]
      ])
      expect(w.host.requests()[0]?.comments).toEqual([expect.stringContaining("now conflicts with this change (app.yaml)")])
      expect(await w.readFile("app.yaml", `${BRANCH}-2`)).toBe(`image: ${IMAGE}:1.1.0 # pinned by hand\n`)
      expect(w.lines(replaced).join("\n")).toContain(`${requestName(provider, 2)} opened (${BRANCH}-2)`)

      const after = await w.pass()
      expect(w.host.requests().length).toBe(2)
      expect(w.lines(after).join("\n")).toContain(`${requestName(provider, 2)} open (${BRANCH}-2)`)
      expect(w.lines(after).join("\n")).not.toContain("declined")
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("declined: a request a person closed is not reopened; a newer tag opens a new one", async () => {
    const w = await world("declined")
    try {
      await w.pass()
      w.host.setState(1, "closed")
      for (let i = 0; i < 2; i++) {
        const report = await w.pass()
        expect(w.host.requests().length).toBe(1)
        expect(w.lines(report).join("\n")).toContain(`declined in ${requestRef(provider, 1)}`)
      }
      w.setTags("1.0.0", "1.1.0", "1.2.0")
      const report = await w.pass()
      expect(w.host.requests().map((r) => [r.number, r.state, r.branch])).toEqual([
        [1, "closed", BRANCH],
        [2, "open", "image-updates/gcr.io-org-app-1.2.0"]
      ])
      expect(w.lines(report).join("\n")).toContain(`${requestName(provider, 2)} opened`)
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test.each([
    ["the runner's own commit: the branch is deleted", false],
    ["a person's commit: the branch is kept", true]
  ] as const)("superseded, the older branch's tip %s", async (_, personCommitted) => {
    const w = await world(`superseded-${personCommitted ? "person" : "own"}`)
    try {
      await w.pass()
      if (personCommitted) await w.commitAs({ "notes.txt": "a reviewer's fix\n" }, "A reviewer's fix", BRANCH)
      w.setTags("1.0.0", "1.1.0", "1.2.0")
      await w.pass()
      const [older, newer] = w.host.requests()
      expect(newer).toMatchObject({ number: 2, state: "open", branch: "image-updates/gcr.io-org-app-1.2.0" })
      expect(older).toMatchObject({ number: 1, state: "closed", comments: [`Superseded by ${requestRef(provider, 2)}.`] })
      expect((await w.tip(BRANCH)) !== undefined).toBe(personCommitted)
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("merged then rolled back by a person: held, nothing opened; a newer tag opens a request", async () => {
    const w = await world("rollback")
    try {
      await w.pass()
      await server.merge(w.name, BRANCH, "main", { fastForward: true })
      w.host.setState(1, "merged")
      const merged = await w.pass()
      expect(w.lines(merged).join("\n")).toContain("up to date")
      await w.commitAs({ "app.yaml": `image: ${IMAGE}:1.0.0\n` }, "Roll back app")
      const held = await w.pass()
      expect(w.lines(held).join("\n")).toContain("rolled back below 1.1.0: held until a newer tag")
      expect(w.host.requests().length).toBe(1)
      w.setTags("1.0.0", "1.1.0", "1.2.0")
      await w.pass()
      expect(w.host.requests().map((r) => [r.number, r.state, r.branch])).toEqual([
        [1, "merged", BRANCH],
        [2, "open", "image-updates/gcr.io-org-app-1.2.0"]
      ])
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("suspended repository, and a target paused through the store: nothing opened, the host not asked", async () => {
    const suspended = await world("suspended", { watched: { suspend: true } })
    const paused = await world("paused")
    try {
      await paused.pause({ _tag: "Target", repoId: "config", filePath: "app.yaml", field: "image" })
      for (const [w, said] of [[suspended, "suspended (repository)"], [paused, "paused (API)"]] as const) {
        const report = await w.pass()
        expect(w.lines(report).join("\n")).toContain(said)
        expect(w.host.requests()).toEqual([])
        expect(w.host.asked()).toEqual([])
        expect(await w.tip(BRANCH)).toBeUndefined()
      }
    } finally {
      await suspended.stop()
      await paused.stop()
    }
  }, TIMEOUT)

  test("autoMerge asks the host to merge once its checks pass", async () => {
    const w = await world("auto-merge", { pullRequest: { autoMerge: true } })
    try {
      const report = await w.pass()
      expect(w.host.requests().map((r) => [r.number, r.autoMerge])).toEqual([[1, true]])
      expect(w.lines(report).join("\n")).not.toContain("auto-merge")
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("a refused token fails the target as forge_auth, naming the host, and pushes nothing", async () => {
    const w = await world("token")
    try {
      w.host.refuseToken()
      const pushes = server.stats.receivePacks
      const report = await w.pass()
      const failed = report.targets.flatMap((t) => (t.outcome._tag === "Failed" ? [t.outcome.failure] : []))
      expect(failed.map((f) => f.message)).toEqual([expect.stringMatching(new RegExp(`^${provider} .*Auth \\(401\\)`))])
      expect(reportLines(report).flatMap((l) => (l.failure === undefined ? [] : [l.failure.reason]))).toEqual(["forge_auth"])
      expect(server.stats.receivePacks).toBe(pushes)
      expect(await w.tip(BRANCH)).toBeUndefined()
      expect(w.host.requests()).toEqual([])
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("rate-limited once, the pass waits and still opens the request", async () => {
    const w = await world("rate-limited")
    try {
      w.host.rateLimitOnce()
      const report = await w.pass()
      const [limited, retried] = w.host.asked()
      expect(retried).toBe(limited)
      expect(w.host.requests().map((r) => [r.number, r.state])).toEqual([[1, "open"]])
      expect(w.lines(report).join("\n")).toContain(`${requestName(provider, 1)} opened`)
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("--dry-run says which request it would open, and pushes and opens nothing", async () => {
    const w = await world("dry-run")
    try {
      const pushes = server.stats.receivePacks
      const report = await w.pass({ dryRun: true })
      const kind = provider === "gitlab" ? "merge request" : "pull request"
      expect(w.lines(report).join("\n")).toContain(`config  would open a ${kind} on ${BRANCH}`)
      expect(server.stats.receivePacks).toBe(pushes)
      expect(await w.tip(BRANCH)).toBeUndefined()
      expect(w.host.requests()).toEqual([])
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("group file: two targets of one file in one request, on a branch with the changes' hash", async () => {
    const watcher = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: image}
    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: init}
`
    const w = await world("group", { files: { "app.yaml": `image: ${IMAGE}:1.0.0\ninit: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": watcher }, watched: { group: "file" } })
    try {
      await w.pass()
      const [request, ...others] = w.host.requests()
      expect(others).toEqual([])
      expect(request?.branch).toMatch(new RegExp(`^${BRANCH.replace(/\./g, "\\.")}-[0-9a-f]{8}$`))
      expect(request?.body).toContain("| app.yaml | image |")
      expect(request?.body).toContain("| app.yaml | init |")
      expect(await w.readFile("app.yaml", request?.branch)).toBe(`image: ${IMAGE}:1.1.0\ninit: ${IMAGE}:1.1.0\n`)
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("merged and rolled back before the next pass: held, the merged request not opened again", async () => {
    const w = await world("rollback-between")
    try {
      await w.pass()
      await server.merge(w.name, BRANCH, "main", { fastForward: true })
      w.host.setState(1, "merged")
      await w.commitAs({ "app.yaml": `image: ${IMAGE}:1.0.0\n` }, "Roll back app")
      for (let i = 0; i < 2; i++) {
        const held = await w.pass()
        expect(w.lines(held).join("\n")).toContain("rolled back below 1.1.0: held until a newer tag")
        expect(w.host.requests().length).toBe(1)
      }
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("the host did not see the pushed branch yet: the target fails, and the next pass opens the request on the branch as it is", async () => {
    const w = await world("lagging")
    try {
      w.hostLags()
      const failed = await w.pass()
      expect(failed.targets.map((t) => t.outcome._tag)).toEqual(["Failed"])
      const pushed = await w.tip(BRANCH)
      expect(pushed).toBeDefined()
      const pushes = server.stats.receivePacks
      const report = await w.pass()
      expect(w.host.requests().map((r) => [r.number, r.state, r.branch])).toEqual([[1, "open", BRANCH]])
      expect(await w.tip(BRANCH)).toBe(pushed)
      expect(server.stats.receivePacks).toBe(pushes)
      expect(w.lines(report).join("\n")).toContain(`${requestName(provider, 1)} opened (${BRANCH})`)
    } finally {
      await w.stop()
    }
  }, TIMEOUT)

  test("a person's branch of the runner's name is left alone: the target fails and says why", async () => {
    const w = await world("person-branch")
    try {
      await w.branchAsPerson(BRANCH)
      const tip = await w.tip(BRANCH)
      const report = await w.pass()
      const failed = report.targets.flatMap((t) => (t.outcome._tag === "Failed" ? [t.outcome.failure.message] : []))
      expect(failed).toEqual([expect.stringContaining(`branch ${BRANCH} exists and its tip is not the runner's commit`)])
      expect(await w.tip(BRANCH)).toBe(tip)
      expect(w.host.requests()).toEqual([])
    } finally {
      await w.stop()
    }
  }, TIMEOUT)
})
