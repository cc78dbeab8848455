import { Effect, Option, Schema } from "effect"
import type { RegistryHttp, Reply } from "../http/RegistryHttp.ts"
import type { Forge, ForgeError, NewRequest, ReviewRequest } from "./Forge.ts"
import { type GithubApi, githubApi, type GithubSettings, hostMessage, nextPage } from "./githubApi.ts"

export type { GithubSettings } from "./githubApi.ts"

/** Pages of 100 followed at most: 2,000 open pulls against one branch is more than any team keeps. */
const MAX_PAGES = 20

const Repo = Schema.Struct({ id: Schema.Number, full_name: Schema.String })

/** The fields of GitHub's `pull-request` and `pull-request-simple` the runner reads (Gitea's pulls have them too, but `node_id`). */
const Pull = Schema.Struct({
  number: Schema.Number,
  node_id: Schema.optional(Schema.String),
  state: Schema.String,
  merged_at: Schema.optional(Schema.NullOr(Schema.String)),
  title: Schema.String,
  body: Schema.optional(Schema.NullOr(Schema.String)),
  html_url: Schema.String,
  // `repo` is null once the head's repository (a fork) is deleted; Gitea sends it as well.
  head: Schema.Struct({ ref: Schema.String, sha: Schema.String, repo: Schema.optional(Schema.NullOr(Repo)) }),
  base: Schema.Struct({ ref: Schema.String, repo: Repo }),
})
type Pull = typeof Pull.Type

const Pulls = Schema.Array(Pull)

/** What a GraphQL endpoint answers, with status 200 also when it refused. */
const GraphqlAnswer = Schema.Struct({
  errors: Schema.optional(Schema.Array(Schema.Struct({ message: Schema.String, type: Schema.optional(Schema.String) }))),
})

/** Pinned to the head the runner pushed: GitHub refuses when the branch moved since, so no one else's commit is merged with ours. */
const ENABLE_AUTO_MERGE =
  "mutation($pullRequestId: ID!, $expectedHeadOid: GitObjectID) { enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, expectedHeadOid: $expectedHeadOid}) { pullRequest { number } } }"

export const reviewRequestOf = (pull: Pull): ReviewRequest => ({
  number: pull.number,
  state: pull.merged_at !== undefined && pull.merged_at !== null ? "merged" : pull.state === "open" ? "open" : "closed",
  branch: pull.head.ref,
  base: pull.base.ref,
  headSha: pull.head.sha,
  title: pull.title,
  body: pull.body ?? "",
  url: pull.html_url,
})

/**
 * A pull whose branch lives in the repository itself. Anyone who can fork it can open a pull from a
 * branch of the runner's name, or copy the runner's marker into its body: such a pull is not the
 * runner's, and one closed unmerged must not decline a tag. A head repository deleted or not
 * named is no better.
 */
export const fromThisRepository = (pull: Pull): boolean => pull.head.repo !== undefined && pull.head.repo !== null && pull.head.repo.id === pull.base.repo.id

/** Every pull of a listing, following its `Link` pages on the API's host, MAX_PAGES at most. */
const listPulls = (api: GithubApi, operation: string, query: string): Effect.Effect<ReadonlyArray<Pull>, ForgeError> =>
  Effect.gen(function* () {
    const pulls: Array<Pull> = []
    let url = Option.some(`${api.base}${api.repoPath}/pulls?${query}&per_page=100`)
    for (let page = 0; Option.isSome(url); page++) {
      if (page === MAX_PAGES) {
        yield* Effect.logWarning(`github ${api.repository}: ${operation}: more than ${MAX_PAGES * 100} pulls listed; the rest are not read`)
        break
      }
      const from = url.value
      const reply = yield* api.expect(operation, { method: "GET", path: from }, [200])
      pulls.push(...(yield* api.decode(operation, reply, Pulls)))
      url = nextPage(reply.headers["link"], from)
    }
    return pulls
  })

/** `heads/a/b` with each part of the branch encoded: GitHub reads the slashes of a ref as they are. */
const headRef = (branch: string): string => `heads/${branch.split("/").map(encodeURIComponent).join("/")}`

const open = (api: GithubApi) => (request: NewRequest): Effect.Effect<ReviewRequest, ForgeError> =>
  Effect.gen(function* () {
    const body = { title: request.title, head: request.branch, base: request.base, body: request.body }
    const pull = yield* api.json("open request", { method: "POST", path: `${api.repoPath}/pulls`, body }, [201], Pull)
    if (request.labels.length > 0) {
      const labels = { labels: [...request.labels] }
      yield* api.expect(`label #${pull.number}`, { method: "POST", path: `${api.repoPath}/issues/${pull.number}/labels`, body: labels }, [200])
    }
    return reviewRequestOf(pull)
  })

const close = (api: GithubApi) => (number: number, comment: string): Effect.Effect<void, ForgeError> =>
  Effect.gen(function* () {
    const operation = `close #${number}`
    yield* api.expect(operation, { method: "POST", path: `${api.repoPath}/issues/${number}/comments`, body: { body: comment } }, [201])
    yield* api.expect(operation, { method: "PATCH", path: `${api.repoPath}/pulls/${number}`, body: { state: "closed" } }, [200])
  })

/** GitHub's auto-merge is only in GraphQL, by the pull's node id; its refusals come with status 200 and an `errors` list. */
const autoMerge = (api: GithubApi) => (request: ReviewRequest): Effect.Effect<void, ForgeError> =>
  Effect.gen(function* () {
    const operation = `auto-merge #${request.number}`
    const fail = api.fail(operation)
    const pull = yield* api.json(operation, { method: "GET", path: `${api.repoPath}/pulls/${request.number}` }, [200], Pull)
    if (pull.node_id === undefined) return yield* fail("Protocol", "the pull has no node_id: this host has no GitHub GraphQL API")
    const query = { query: ENABLE_AUTO_MERGE, variables: { pullRequestId: pull.node_id, expectedHeadOid: request.headSha } }
    const answer = yield* api.json(operation, { method: "POST", path: api.graphqlURL, body: query }, [200], GraphqlAnswer)
    const errors = answer.errors ?? []
    if (errors.length === 0) return
    const said = errors.map((e) => e.message).join("; ").slice(0, 500)
    return yield* fail(errors.some((e) => e.type === "RATE_LIMITED") ? "RateLimited" : "Refused", said)
  })

const deleteBranch = (api: GithubApi) => (branch: string): Effect.Effect<void, ForgeError> =>
  Effect.gen(function* () {
    const operation = `delete branch ${branch}`
    const request = { method: "DELETE", path: `${api.repoPath}/git/refs/${headRef(branch)}` } as const
    const reply = yield* api.send(operation, request)
    if (reply.status === 204 || alreadyGone(reply)) return
    return yield* api.refusal(operation, reply)
  })

/** GitHub answers 422 "Reference does not exist" for a branch already deleted (the description declares no 404; a proxy may send one). */
const alreadyGone = (reply: Reply): boolean => (reply.status === 422 || reply.status === 404) && /reference does not exist/i.test(hostMessage(reply))

/** The Forge of one repository on GitHub, GitHub Enterprise Server, Gitea or Forgejo. */
export const githubForge = (settings: GithubSettings): Effect.Effect<Forge, ForgeError, RegistryHttp> =>
  Effect.map(githubApi(settings), (api) => ({
    open: open(api),
    openRequests: (base, marker) =>
      listPulls(api, "list open requests", `state=open&base=${encodeURIComponent(base)}`).pipe(
        Effect.map((pulls) => pulls.filter((pull) => fromThisRepository(pull) && (pull.body ?? "").includes(marker)).map(reviewRequestOf)),
      ),
    requestsFor: (branch) =>
      listPulls(api, `list requests for ${branch}`, `state=all&head=${encodeURIComponent(`${api.owner}:${branch}`)}`).pipe(
        // Gitea ignores `head`: the branch is checked here too.
        Effect.map((pulls) => pulls.filter((pull) => fromThisRepository(pull) && pull.head.ref === branch).sort((a, b) => b.number - a.number).map(reviewRequestOf)),
      ),
    close: close(api),
    autoMerge: autoMerge(api),
    deleteBranch: deleteBranch(api),
  }))
