/** The GitLab forge against a GitLab on loopback: the cases every forge passes, then what is GitLab's own. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Option, Redacted } from "effect"
import type { Forge, ForgeError, ForgeErrorReason } from "../../src/forge/Forge.ts"
import { makeGitlabForge } from "../../src/forge/gitlab.ts"
import { nextPage, reasonOfStatus } from "../../src/forge/gitlabApi.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { MAX_BODY_BYTES } from "../../src/http/body.ts"
import { type CannedAnswer, type FakeGitlab, startFakeGitlab } from "../support/fakeGitlab.ts"
import { forgeContract, type ForgeHarness, type Hostile } from "../support/forgeContract.ts"
import { gzipBomb } from "../support/gzipBomb.ts"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"

const TOKEN = "glpat-Fake0Token1For2Tests"
let fake: FakeGitlab

beforeAll(async () => {
  fake = await startFakeGitlab({ token: TOKEN })
}, SERVER_HOOK_TIMEOUT)
afterAll(() => fake.stop(), SERVER_HOOK_TIMEOUT)

const run = <A>(use: (forge: Forge) => Effect.Effect<A, ForgeError>, token = TOKEN, apiURL = fake.apiURL) =>
  Effect.runPromise(
    Effect.either(Effect.flatMap(makeGitlabForge({ apiURL, repository: fake.path, token: Redacted.make(token) }), use)).pipe(
      // A fresh HTTP stack per run: the host's limiter slows down after a 429, which is not the next case's concern.
      Effect.provide(RegistryHttp.layer),
    ),
  )

const requestState = { opened: "open", locked: "open", closed: "closed", merged: "merged" } as const

/** A GitLab of its own for each case of the contract. */
const gitlabHarness = async (): Promise<ForgeHarness> => {
  const own = await startFakeGitlab({ token: TOKEN })
  const mr = (iid: number) => {
    const found = own.mergeRequests.find((m) => m.iid === iid)
    if (found === undefined) throw new Error(`no merge request !${iid}`)
    return found
  }
  return {
    run: (use, token) => run(use, token, own.apiURL),
    token: TOKEN,
    addBranch: (branch) => own.addBranch(branch),
    hasBranch: own.hasBranch,
    openAsPerson: ({ body, ...request }) => own.openAsPerson({ ...request, ...(body === undefined ? {} : { description: body }) }).iid,
    setState: own.setState,
    inspect: (iid) => {
      const found = mr(iid)
      return { state: requestState[found.state], labels: found.labels, comments: found.notes, autoMerge: found.merge_when_pipeline_succeeds }
    },
    rateLimits: ["429"],
    rateLimitNext: (_kind, times) => own.refuseNext(times),
    hostileNext: (kind) => own.answerNext(hostile[kind]()),
    refuseMerges: (refuse) => own.refuseMerges(refuse ? 405 : undefined),
    stop: own.stop,
  }
}

const hostile: Record<Hostile, () => CannedAnswer> = {
  "not-json": () => ({ status: 200, body: "<html>sign in</html>" }),
  "wrong-shape": () => ({ status: 200, body: JSON.stringify([{ iid: "one" }]) }),
  // Valid JSON (an empty list), only bigger than any answer is read.
  huge: () => ({ status: 200, body: `[${" ".repeat(MAX_BODY_BYTES + 1024 * 1024)}]` }),
  "gzip-bomb": () => ({ status: 200, body: gzipBomb(80), headers: { "content-encoding": "gzip" } }),
}

forgeContract("gitlab", gitlabHarness)

const MARKER = "<!-- image-updates:config -->"

describe("the GitLab forge, on the wire", () => {
  test("the token goes as a Bearer header, the project as its URL-encoded path, labels comma-separated", async () => {
    fake.reset()
    await run((forge) => forge.open({ branch: "b/1", base: "main", title: "t", body: MARKER, labels: ["a", "b"] }))
    const [sent] = fake.requests
    expect(sent?.method).toBe("POST")
    expect(sent?.url).toBe("/api/v4/projects/group%2Fsub%2Fproject/merge_requests")
    expect(sent?.headers["authorization"]).toBe(`Bearer ${TOKEN}`)
    expect(sent?.headers["private-token"]).toBeUndefined()
    expect(JSON.parse(sent?.body ?? "")).toEqual({
      source_branch: "b/1",
      target_branch: "main",
      title: "t",
      description: MARKER,
      labels: "a,b",
      remove_source_branch: false,
    })
  })

  test("a redirect to another host does not carry the token there", async () => {
    fake.reset()
    const elsewhere = await startFakeGitlab({ token: "another-token-entirely" })
    try {
      fake.answerNext({ status: 307, body: "", headers: { location: `${elsewhere.apiURL}/projects/group%2Fsub%2Fproject/merge_requests` } })
      const result = await run((forge) => forge.openRequests("main", MARKER))
      expect(Either.isLeft(result) && result.left.reason).toBe("Auth")
      expect(elsewhere.requests).toHaveLength(1)
      expect(JSON.stringify(elsewhere.requests[0]?.headers)).not.toContain(TOKEN)
    } finally {
      await elsewhere.stop()
    }
  })

  test("listings ask for 100 a page and filter on the server too", async () => {
    fake.reset()
    await run((forge) => forge.openRequests("main", MARKER))
    await run((forge) => forge.requestsFor("image-updates/x y"))
    expect(fake.requests.map((r) => r.url)).toEqual([
      "/api/v4/projects/group%2Fsub%2Fproject/merge_requests?state=opened&target_branch=main&per_page=100&page=1",
      "/api/v4/projects/group%2Fsub%2Fproject/merge_requests?state=all&source_branch=image-updates%2Fx+y&order_by=created_at&sort=desc&per_page=100&page=1",
    ])
  })

  test("auto-merge asks both ways GitLab has known, pinned to the head it read", async () => {
    fake.reset()
    const opened = await run((forge) => forge.open({ branch: "b/2", base: "main", title: "t", body: MARKER, labels: [] }))
    const request = Either.getOrThrow(opened)
    await run((forge) => forge.autoMerge(request))
    const sent = fake.requests.find((r) => r.url.endsWith("/merge"))
    expect(sent?.method).toBe("PUT")
    expect(JSON.parse(sent?.body ?? "")).toEqual({ merge_when_pipeline_succeeds: true, auto_merge: true, sha: request.headSha })
  })

  test("deleting a branch of a project the token cannot see is a failure, not a branch already gone", async () => {
    fake.reset()
    fake.answerNext({ status: 404, body: JSON.stringify({ message: "404 Project Not Found" }) })
    const result = await run((forge) => forge.deleteBranch("image-updates/x"))
    expect(Either.isLeft(result) && result.left.reason).toBe("NotFound")
  })

  test("a token echoed back by the server is scrubbed from the failure", async () => {
    fake.reset()
    fake.answerNext({ status: 403, body: JSON.stringify({ message: `403 Forbidden for ${TOKEN}` }) })
    const result = await run((forge) => forge.close(1, "bye"))
    expect(Either.isLeft(result) && result.left.reason).toBe("Auth")
    expect(Either.isLeft(result) && result.left.message).not.toContain(TOKEN)
  })

  test("more pages than the bound is a failure, not a listing that runs on", async () => {
    fake.reset()
    for (let page = 1; page <= 21; page++) fake.answerNext({ status: 200, body: "[]", headers: { "x-next-page": String(page + 1) } })
    const result = await run((forge) => forge.openRequests("main", MARKER))
    expect(Either.isLeft(result) && result.left.message).toContain("more than 2000 merge requests")
  })

})

describe("the GitLab forge's settings: wrong ones fail as Config before anything is sent", () => {
  const rows: ReadonlyArray<[string, string | undefined, string]> = [
    ["an apiURL that is not http(s)", "ftp://gitlab.example/api/v4", "group/project"],
    ["an apiURL that is not a URL", "gitlab example", "group/project"],
    ["a repository without its group", undefined, "project"],
    ["a repository with an empty part", undefined, "group//project"],
    ["an empty repository", undefined, ""],
  ]
  for (const [name, apiURL, repository] of rows) {
    test(name, async () => {
      fake.reset()
      const result = await Effect.runPromise(
        Effect.either(Effect.flatMap(makeGitlabForge({ apiURL: apiURL ?? fake.apiURL, repository, token: Redacted.make(TOKEN) }), (f) => f.openRequests("main", MARKER))).pipe(
          Effect.provide(RegistryHttp.layer),
        ),
      )
      if (Either.isRight(result)) throw new Error("wrong settings were taken")
      expect([result.left.reason, result.left.operation]).toEqual(["Config", "configure"])
      expect(fake.requests).toHaveLength(0)
    })
  }
})

describe("GitLab's pages and statuses", () => {
  test.each([
    [{ "x-next-page": "2" }, 1, Option.some(2)],
    [{ "x-next-page": "" }, 3, Option.none()],
    [{ "x-next-page": "1" }, 1, Option.none()],
    [{ "x-next-page": "1e9" }, 1, Option.none()],
    [{ link: '<https://gitlab.example/api/v4/projects/7/merge_requests?page=3&per_page=100>; rel="next"' }, 2, Option.some(3)],
    [{ link: '<https://gitlab.example/x?page=1>; rel="first"' }, 2, Option.none()],
    [{}, 1, Option.none()],
  ])("%j on page %d: next %o", (headers: Record<string, string>, current, expected) => {
    expect(nextPage(headers, current)).toEqual(expected)
  })

  test.each<[number, ForgeErrorReason]>([
    [401, "Auth"],
    [403, "Auth"],
    [404, "NotFound"],
    [405, "Refused"],
    [409, "Refused"],
    [422, "Refused"],
    [400, "Protocol"],
    [502, "Server"],
  ])("%d is %s", (status, reason) => {
    expect(reasonOfStatus(status)).toBe(reason)
  })
})
