/**
 * The fake of GitHub and the client, held to GitHub's OpenAPI description: every request the
 * client sends exists there with the body it declares, and every answer the fake gives has a
 * declared status and the declared shape. GraphQL is outside the REST description: its mutation
 * is checked against GitHub's documented `enablePullRequestAutoMerge`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Redacted } from "effect"
import { githubForge } from "../../src/forge/github.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { type FakeGithub, startFakeGithub } from "../support/fakeGithub.ts"
import { checkRequest, checkResponse, githubDescription } from "../support/openapiCheck.ts"

const MARKER = "<!-- runner -->"
let fake: FakeGithub

beforeAll(async () => {
  fake = await startFakeGithub()
  fake.addBranch("image-updates/nginx-1.27.3")
  for (let i = 0; i < 3; i++) fake.openAsPerson({ branch: `person/${i}`, base: "main", title: `t${i}`, body: i === 0 ? null : MARKER })
  const merged = fake.openAsPerson({ branch: "image-updates/old", base: "main", title: "old", body: MARKER })
  fake.setState(merged, "merged")
  // Every operation the client has, through the fake.
  await Effect.runPromise(
    Effect.gen(function* () {
      const forge = yield* githubForge({ apiURL: fake.url, repository: fake.repository, token: Redacted.make(fake.token) })
      const opened = yield* forge.open({ branch: "image-updates/nginx-1.27.3", base: "main", title: "Update nginx", body: MARKER, labels: ["image-update"] })
      yield* forge.openRequests("main", MARKER)
      yield* forge.requestsFor("image-updates/old")
      yield* forge.autoMerge(opened)
      yield* forge.close(opened.number, "superseded by #9")
      yield* forge.deleteBranch("image-updates/nginx-1.27.3")
      yield* forge.deleteBranch("image-updates/nginx-1.27.3")
    }).pipe(Effect.provide(RegistryHttp.layer)),
  )
})
afterAll(() => fake.stop())

const rest = () => fake.exchanges.filter((e) => e.path !== "/graphql")

describe("every exchange of the client with the fake, against GitHub's OpenAPI description", () => {
  test("the client used each operation, and the fake answered each", () => {
    expect(rest().map((e) => `${e.method} ${e.status}`).sort()).toEqual(
      ["DELETE 204", "DELETE 422", "GET 200", "GET 200", "GET 200", "PATCH 200", "POST 200", "POST 201", "POST 201"].sort(),
    )
  })

  test("requests: the operation exists and its body has the declared shape", () => {
    expect(rest().flatMap((e) => checkRequest(githubDescription(), e.method, e.path, e.body))).toEqual([])
  })

  test("answers: the status is declared and the body has the declared shape", () => {
    expect(rest().flatMap((e) => checkResponse(githubDescription(), e.method, e.path, e.status, e.answer))).toEqual([])
  })

  test("headers: a bearer token, GitHub's media type and API version, a user agent", () => {
    for (const e of fake.exchanges) {
      expect(e.headers["authorization"]).toBe(`Bearer ${fake.token}`)
      expect(e.headers["accept"]).toBe("application/vnd.github+json")
      expect(e.headers["x-github-api-version"]).toBe("2022-11-28")
      expect(String(e.headers["user-agent"])).toMatch(/^runner\//)
    }
  })

  test("GraphQL: the documented mutation, with the pull's node id as an ID! variable", () => {
    const calls = fake.exchanges.filter((e) => e.path === "/graphql")
    expect(calls.length).toBe(1)
    const body = calls[0]?.body as { query: string; variables: Record<string, unknown> }
    expect(body.query.replace(/\s+/g, " ")).toMatch(
      /^mutation\(\$pullRequestId: ID!, \$expectedHeadOid: GitObjectID\) \{ enablePullRequestAutoMerge\(input: \{pullRequestId: \$pullRequestId, expectedHeadOid: \$expectedHeadOid\}\) \{ pullRequest \{ number \} \} \}$/
    )
    const pull = fake.pulls.find((p) => p.head === "image-updates/nginx-1.27.3")
    expect(body.variables).toEqual({ pullRequestId: pull?.node_id, expectedHeadOid: pull?.sha })
    expect(calls[0]?.answer).toEqual({ data: { enablePullRequestAutoMerge: { pullRequest: { number: 5 } } } })
  })
})

describe("the checker catches what is wrong", () => {
  const spec = githubDescription()
  const pull = () => structuredClone(rest().find((e) => e.method === "POST" && e.status === 201 && e.path.endsWith("/pulls"))?.answer) as Record<string, unknown>
  const cases: ReadonlyArray<{ name: string; errors: () => ReadonlyArray<string>; expected: RegExp }> = [
    { name: "an operation GitHub does not have", errors: () => checkRequest(spec, "PUT", "/repos/o/r/pulls", {}), expected: /no such operation/ },
    { name: "a request body without a required field", errors: () => checkRequest(spec, "POST", "/repos/o/r/issues/1/comments", { text: "x" }), expected: /\.body: missing/ },
    { name: "a request field of the wrong type", errors: () => checkRequest(spec, "PATCH", "/repos/o/r/pulls/1", { state: 1 }), expected: /\.state: integer where string/ },
    { name: "a state outside the enum", errors: () => checkRequest(spec, "PATCH", "/repos/o/r/pulls/1", { state: "merged" }), expected: /not one of/ },
    { name: "an undeclared status", errors: () => checkResponse(spec, "DELETE", "/repos/o/r/git/refs/heads/a/b", 404, {}), expected: /status 404 is not declared/ },
    { name: "a pull without its number", errors: () => { const p = pull(); delete p["number"]; return checkResponse(spec, "POST", "/repos/o/r/pulls", 201, p) }, expected: /\$\.number: missing/ },
    { name: "a pull whose head is a string", errors: () => checkResponse(spec, "POST", "/repos/o/r/pulls", 201, { ...pull(), head: "main" }), expected: /\$\.head: string where object/ },
    { name: "a nested repository missing a field", errors: () => { const p = pull(); delete (p["base"] as { repo: Record<string, unknown> }).repo["full_name"]; return checkResponse(spec, "POST", "/repos/o/r/pulls", 201, p) }, expected: /\$\.base\.repo\.full_name: missing/ },
    { name: "null where nothing is nullable", errors: () => checkResponse(spec, "POST", "/repos/o/r/pulls", 201, { ...pull(), title: null }), expected: /\$\.title: null/ },
    // GitHub's null head.repo (a deleted fork) is let through; no other repository may be null.
    { name: "a base repository null", errors: () => { const p = pull(); (p["base"] as Record<string, unknown>)["repo"] = null; return checkResponse(spec, "POST", "/repos/o/r/pulls", 201, p) }, expected: /\$\.base\.repo: null/ },
    { name: "(not wrong) a head repository null, as GitHub sends for a deleted fork", errors: () => { const p = pull(); (p["head"] as Record<string, unknown>)["repo"] = null; return checkResponse(spec, "POST", "/repos/o/r/pulls", 201, p) }, expected: /^$/ },
  ]
  for (const row of cases) {
    test(row.name, () => {
      expect(row.errors().join("\n")).toMatch(row.expected)
    })
  }
})
