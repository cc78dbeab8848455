/** The forge a pullRequest setting builds, per provider, against the loopback fakes, with the token read from its file. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either } from "effect"
import type { ForgeProvider, PullRequestSettings } from "../../src/config/model.ts"
import { forgeOf } from "../../src/forge/forgeOf.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { type FakeGithub, startFakeGithub } from "../support/fakeGithub.ts"
import { type FakeGitlab, startFakeGitlab } from "../support/fakeGitlab.ts"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { writeFile } from "../support/runner.ts"
import { tempDir } from "../support/tempDirs.ts"

const GITLAB_TOKEN = "glpat-Fake0Token1For2Tests"
const BRANCH = "image-updates/app-1.1.0"
let github: FakeGithub
let gitlab: FakeGitlab

beforeAll(async () => {
  github = await startFakeGithub()
  gitlab = await startFakeGitlab({ token: GITLAB_TOKEN })
  github.openAsPerson({ branch: BRANCH, base: "main", title: "Update app", body: null })
  gitlab.openAsPerson({ branch: BRANCH, base: "main", title: "Update app" })
}, SERVER_HOOK_TIMEOUT)
afterAll(async () => {
  await github.stop()
  await gitlab.stop()
}, SERVER_HOOK_TIMEOUT)

/** The settings of `provider` on its fake, with `tokenFile`. */
const settings = (provider: ForgeProvider, tokenFile: string): PullRequestSettings =>
  provider === "gitlab"
    ? { provider, apiURL: gitlab.apiURL, repository: gitlab.path, tokenFile, labels: [], autoMerge: false }
    : { provider, apiURL: github.url, repository: github.repository, tokenFile, labels: [], autoMerge: false }

const tokenOf = (provider: ForgeProvider) => (provider === "gitlab" ? GITLAB_TOKEN : github.token)

/** The requests for BRANCH, as the forge built from the settings lists them. */
const requestsFor = (s: PullRequestSettings) =>
  Effect.runPromise(
    Effect.either(Effect.flatMap(forgeOf(s), (forge) => forge.requestsFor(BRANCH))).pipe(Effect.provide(RegistryHttp.layer), Effect.provide(NodeContext.layer))
  )

const PROVIDERS: ReadonlyArray<ForgeProvider> = ["github", "gitea", "forgejo", "gitlab"]

describe("forgeOf", () => {
  test.each(PROVIDERS)("%s: lists requests with the token of the file, trimmed", async (provider) => {
    const file = writeFile(tempDir("runner-forge-"), "token", `  ${tokenOf(provider)}\n`)
    const found = await requestsFor(settings(provider, file))
    expect(Either.getOrThrow(found).map((r) => [r.branch, r.base, r.state])).toEqual([[BRANCH, "main", "open"]])
  })

  test.each(PROVIDERS)("%s: a wrong token is Auth", async (provider) => {
    const file = writeFile(tempDir("runner-forge-"), "token", "wrong-Token0Value\n")
    const found = await requestsFor(settings(provider, file))
    if (Either.isRight(found)) throw new Error("expected a failure")
    expect(found.left.reason).toBe("Auth")
    expect(found.left.message).not.toContain("wrong-Token0Value")
  })

  test.each([
    ["an empty file", (dir: string) => writeFile(dir, "token", " \n\n"), "the file is empty"],
    ["no file", (dir: string) => `${dir}/missing`, "cannot read"],
    ["a directory", (dir: string) => dir, "cannot read"]
  ])("%s is Config, naming the file, and nothing is asked of the host", async (_name, make, words) => {
    const file = make(tempDir("runner-forge-"))
    const before = github.exchanges.length
    const found = await requestsFor(settings("github", file))
    if (Either.isRight(found)) throw new Error("expected a failure")
    expect([found.left.reason, found.left.operation]).toEqual(["Config", "read the token"])
    expect(found.left.detail).toStartWith(`tokenFile ${file}: ${words}`)
    expect(github.exchanges.length).toBe(before)
  })
})
