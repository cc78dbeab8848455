/**
 * Write-back by request, scenario by scenario, on GitHub and on GitLab: the real pipeline over the
 * real git server, the host a loopback fake whose branches are that server's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { IMAGE, type Provider, requestName, requestRef, requestWorld, type WorldOptions } from "../support/requestWorld.ts"

let server: TestGitServer
beforeAll(async () => {
  server = await startGitServer()
}, SERVER_HOOK_TIMEOUT)
afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

const TIMEOUT = 60_000
const BRANCH = "image-updates/gcr.io-org-app-1.1.0"

describe.each(["github", "gitlab"] as const)("requests on %s", (provider: Provider) => {
  const world = (scenario: string, options?: WorldOptions) => requestWorld(server, provider, `${provider}-${scenario}`, options)

  test("one target moves: one request against main on its branch, main unchanged; a second pass opens nothing", async () => {
    const w = await world("open")
    try {
      const mainBefore = await w.tip("main")
      const report = await w.pass()
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
})
