import { describe, expect, test } from "bun:test"
import { Duration, Option } from "effect"
import { graphqlOf, nextPage, secondaryRateLimit } from "../../src/forge/githubApi.ts"
import { quotaReset } from "../../src/http/RegistryHttp.ts"

const reply = (status: number, headers: Record<string, string> = {}) => ({ status, headers, body: new Uint8Array(0), url: "https://api.github.com/x" })

describe("secondaryRateLimit: which answers mean wait", () => {
  const cases: ReadonlyArray<[string, ReturnType<typeof reply>, boolean]> = [
    ["403 with retry-after", reply(403, { "retry-after": "60" }), true],
    ["403 with the quota spent", reply(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800000000" }), true],
    ["429 with retry-after", reply(429, { "retry-after": "1" }), true],
    ["a plain 403", reply(403), false],
    ["403 with quota left", reply(403, { "x-ratelimit-remaining": "4999" }), false],
    ["401 with retry-after", reply(401, { "retry-after": "1" }), false],
  ]
  for (const [name, answer, expected] of cases) test(name, () => expect(secondaryRateLimit(answer)).toBe(expected))
})

describe("quotaReset: the wait until x-ratelimit-reset", () => {
  const now = 1_800_000_000_000
  const cases: ReadonlyArray<[string, Record<string, string>, Option.Option<number>]> = [
    ["spent, reset in 5 s", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800000005" }, Option.some(5000)],
    ["spent, reset in an hour: capped at a minute", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800003600" }, Option.some(60_000)],
    ["spent, reset past", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1799999990" }, Option.some(0)],
    ["not spent", { "x-ratelimit-remaining": "3", "x-ratelimit-reset": "1800000005" }, Option.none()],
    ["garbled reset", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon" }, Option.none()],
  ]
  for (const [name, headers, expected] of cases) {
    test(name, () => expect(Option.map(quotaReset(headers, now), Duration.toMillis)).toEqual(expected))
  }
})

describe("nextPage: only on the API's own origin", () => {
  const from = "https://api.github.com/repos/o/r/pulls?state=open&per_page=100"
  const cases: ReadonlyArray<[string, string | undefined, Option.Option<string>]> = [
    ["next and last", '<https://api.github.com/repos/o/r/pulls?page=2>; rel="next", <https://api.github.com/repos/o/r/pulls?page=5>; rel="last"', Option.some("https://api.github.com/repos/o/r/pulls?page=2")],
    ["relative", '</repos/o/r/pulls?page=2>; rel="next"', Option.some("https://api.github.com/repos/o/r/pulls?page=2")],
    ["last only", '<https://api.github.com/repos/o/r/pulls?page=1>; rel="prev"', Option.none()],
    ["another host", '<https://evil.example/steal?page=2>; rel="next"', Option.none()],
    ["plain http on the same host", '<http://api.github.com/repos/o/r/pulls?page=2>; rel="next"', Option.none()],
    ["no header", undefined, Option.none()],
  ]
  for (const [name, link, expected] of cases) test(name, () => expect(nextPage(link, from)).toEqual(expected))
})

describe("graphqlOf: where GraphQL is served", () => {
  const cases: ReadonlyArray<[string, string]> = [
    ["https://api.github.com", "https://api.github.com/graphql"],
    ["https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/graphql"],
  ]
  for (const [base, expected] of cases) test(base, () => expect(graphqlOf(base)).toBe(expected))
})
