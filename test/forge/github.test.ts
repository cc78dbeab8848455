/** The GitHub client against the loopback fake of GitHub, through the Forge contract. */
import { describe, expect, test } from "bun:test"
import { Effect, Either, Redacted } from "effect"
import type { ForgeErrorReason } from "../../src/forge/Forge.ts"
import { githubForge } from "../../src/forge/github.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { type Trouble, startFakeGithub } from "../support/fakeGithub.ts"
import { checkRequest, checkResponse, githubDescription } from "../support/openapiCheck.ts"
import { forgeContract, type ForgeHarness } from "../support/forgeContract.ts"

const githubHarness = async (): Promise<ForgeHarness> => {
  const fake = await startFakeGithub()
  return {
    run: (use, token) =>
      Effect.runPromise(
        Effect.either(Effect.flatMap(githubForge({ apiURL: fake.url, repository: fake.repository, token: Redacted.make(token ?? fake.token) }), use)).pipe(
          // A fresh HTTP stack per run: the host's limiter slows down after a limit, which is not the next run's concern.
          Effect.provide(RegistryHttp.layer),
        ),
      ),
    token: fake.token,
    addBranch: (branch) => {
      fake.addBranch(branch)
    },
    hasBranch: fake.hasBranch,
    openAsPerson: (request) =>
      fake.openAsPerson({ branch: request.branch, base: request.base, title: request.title ?? `Change ${request.branch}`, body: request.body ?? null, ...(request.from === undefined ? {} : { from: request.from }) }),
    setState: fake.setState,
    inspect: (number) => {
      const pull = fake.pulls.find((p) => p.number === number)
      if (pull === undefined) throw new Error(`no pull #${number}`)
      return { state: pull.merged_at === null ? pull.state : "merged", labels: pull.labels, comments: pull.comments, autoMerge: pull.autoMerge }
    },
    rateLimits: ["secondary-403", "429"],
    rateLimitNext: (kind, times) => fake.failNext(...Array.from({ length: times }, (): Trouble => (kind === "429" ? "429" : "secondary-403"))),
    hostileNext: (kind) => fake.failNext(kind),
    refuseMerges: fake.refuseAutoMerge,
    stop: async () => {
      await fake.stop()
      // Whatever the scenario, the client asked and the fake answered as GitHub's description says.
      const spec = githubDescription()
      const wrong = fake.exchanges
        .filter((e) => !e.injected && e.path !== "/graphql")
        .flatMap((e) => [...checkRequest(spec, e.method, e.path, e.body), ...checkResponse(spec, e.method, e.path, e.status, e.answer)])
      expect(wrong).toEqual([])
    },
  }
}

forgeContract("github", githubHarness)

describe("GitHub's own refusals", () => {
  const cases: ReadonlyArray<{ name: string; troubles: ReadonlyArray<Trouble>; reason?: ForgeErrorReason; message?: RegExp; requests: number; waitedMs?: number }> = [
    { name: "403 with x-ratelimit-remaining 0 waits for x-ratelimit-reset, then goes through", troubles: ["quota-403"], requests: 2, waitedMs: 1900 },
    { name: "a secondary limit 403 again and again is RateLimited once the retries are spent", troubles: ["secondary-403", "secondary-403", "secondary-403", "secondary-403"], reason: "RateLimited", message: /RateLimited \(403\).*too many requests/, requests: 4 },
    { name: "a plain 403 is Auth at once, not retried", troubles: ["forbidden-403"], reason: "Auth", message: /may not do this.*Resource not accessible/, requests: 1 },
  ]
  for (const row of cases) {
    test(row.name, async () => {
      const fake = await startFakeGithub()
      try {
        fake.failNext(...row.troubles)
        const result = await Effect.runPromise(
          Effect.either(Effect.flatMap(githubForge({ apiURL: fake.url, repository: fake.repository, token: Redacted.make(fake.token) }), (f) => f.requestsFor("b"))).pipe(
            Effect.provide(RegistryHttp.layer),
          ),
        )
        expect(fake.exchanges.length).toBe(row.requests)
        const [first, last] = [fake.exchanges[0]?.at ?? 0, fake.exchanges.at(-1)?.at ?? 0]
        expect(last - first).toBeGreaterThanOrEqual(row.waitedMs ?? 0)
        if (row.reason === undefined) expect(Either.isRight(result)).toBe(true)
        else {
          if (Either.isRight(result)) throw new Error("it did not fail")
          expect(result.left.reason).toBe(row.reason)
          expect(result.left.message).toMatch(row.message ?? /./)
        }
      } finally {
        await fake.stop()
      }
    }, 15_000)
  }
})

describe("the GitHub forge's settings: wrong ones fail as Config before anything is sent", () => {
  const rows: ReadonlyArray<[string, string | undefined, string]> = [
    ["an apiURL that is not http(s)", "ftp://github.example/api/v3", "org/config"],
    ["an apiURL that is not a URL", "github example", "org/config"],
    ["a repository without its owner", undefined, "config"],
    ["a repository with a path under it", undefined, "org/config/sub"],
    ["a repository with an empty part", undefined, "org/"],
  ]
  for (const [name, apiURL, repository] of rows) {
    test(name, async () => {
      const fake = await startFakeGithub()
      try {
        const result = await Effect.runPromise(
          Effect.either(Effect.flatMap(githubForge({ apiURL: apiURL ?? fake.url, repository, token: Redacted.make(fake.token) }), (f) => f.openRequests("main", "m"))).pipe(
            Effect.provide(RegistryHttp.layer),
          ),
        )
        if (Either.isRight(result)) throw new Error("wrong settings were taken")
        expect([result.left.reason, result.left.operation]).toEqual(["Config", "configure"])
        expect(fake.exchanges).toHaveLength(0)
      } finally {
        await fake.stop()
      }
    })
  }
})
