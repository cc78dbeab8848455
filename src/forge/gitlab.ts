/**
 * The Forge of a GitLab project (gitlab.com or self-hosted), over GitLab's REST v4 merge request
 * API, through RegistryHttp: the host's rate limiter, deadlines, retries (429 waits its
 * `Retry-After`) and redirect rules apply as to any registry.
 */
import { Effect, Option, Redacted, type Schema } from "effect"
import { oneLine } from "../domain/foreignText.ts"
import { DEFAULT_RATE_LIMIT, type RateLimit } from "../http/RateLimiter.ts"
import { type Outgoing, RegistryHttp, type Reply, replyText, safeUrl, type Target } from "../http/RegistryHttp.ts"
import { decodeJsonText } from "../json.ts"
import { type Forge, ForgeError, type ForgeErrorReason, forgeReasonOf, type NewRequest, type ReviewRequest } from "./Forge.ts"
import {
  DEFAULT_GITLAB_API,
  fromThisProject,
  gitlabMessage,
  MergeRequest,
  MergeRequests,
  nextPage,
  reasonOfStatus,
  reviewRequestOf,
} from "./gitlabApi.ts"

export interface GitlabSettings {
  /** Default https://gitlab.com/api/v4; a self-hosted GitLab's is `https://host/api/v4`. */
  readonly apiURL?: string
  /** The project's full path, `group/sub/project`. */
  readonly repository: string
  readonly token: Redacted.Redacted<string>
  readonly rateLimit?: RateLimit
  readonly insecure?: boolean
  readonly caCert?: Option.Option<string>
}

/** Requests asked for per page: GitLab's maximum. */
const PER_PAGE = 100
/** Pages read of one listing at most (2,000 requests): a listing longer than that fails instead of running on. */
export const MAX_PAGES = 20
const MAX_DETAIL = 300

/** What `call` sends, and the answers besides 2xx the operation takes as success. */
interface Call {
  readonly operation: string
  readonly method: Outgoing["method"]
  readonly path: string
  readonly body?: Readonly<Record<string, unknown>>
  readonly alsoOk?: (reply: Reply) => boolean
  /** Words for a status the operation knows better than reasonOfStatus. */
  readonly explain?: (status: number) => string | undefined
}

const shortened = (text: string): string => {
  const line = oneLine(text)
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}...` : line
}

const statusWords = (status: number): string => {
  if (status === 401) return "the token was refused (is it valid and unexpired?)"
  if (status === 403) return "the token may not do this"
  return `answered ${status}`
}

/** `group/project` or `group/sub/project`: two parts or more, none empty. */
const projectPath = (repository: string): boolean => {
  const parts = repository.split("/")
  return parts.length >= 2 && parts.every((part) => part.trim() !== "")
}

/** A Forge for one GitLab project; fails (reason Config) only when `apiURL` is not an http(s) URL or the repository is not a project path. */
export const makeGitlabForge = (settings: GitlabSettings): Effect.Effect<Forge, ForgeError, RegistryHttp> =>
  Effect.gen(function* () {
    const http = yield* RegistryHttp
    const token = Redacted.value(settings.token)
    const fail = (reason: ForgeErrorReason, operation: string, detail: string, status?: number) =>
      new ForgeError(
        { reason, provider: "gitlab", repository: settings.repository, operation, detail, ...(status === undefined ? {} : { status }) },
        [token],
      )
    const apiURL = (settings.apiURL ?? DEFAULT_GITLAB_API).replace(/\/+$/, "")
    const api = yield* Effect.try({
      try: () => new URL(apiURL),
      catch: () => fail("Config", "configure", `apiURL ${JSON.stringify(apiURL)} is not a URL`),
    })
    if (api.protocol !== "https:" && api.protocol !== "http:") {
      return yield* Effect.fail(fail("Config", "configure", `apiURL ${safeUrl(apiURL)} is not an http(s) URL`))
    }
    if (!projectPath(settings.repository)) {
      return yield* Effect.fail(fail("Config", "configure", `repository ${JSON.stringify(settings.repository)} is not group/project`))
    }
    const target: Target = {
      provider: "gitlab",
      registry: api.host,
      repository: settings.repository,
      rateLimit: settings.rateLimit ?? DEFAULT_RATE_LIMIT,
      insecure: settings.insecure ?? false,
      caCert: settings.caCert ?? Option.none(),
      // The operator names this host; nothing it answers may send us to another link-local one.
      linkLocalHosts: [api.hostname],
    }
    const project = `${apiURL}/projects/${encodeURIComponent(settings.repository)}`
    return gitlabForge({ http, target, project, token: settings.token, fail })
  })

interface Context {
  readonly http: RegistryHttp["Type"]
  readonly target: Target
  /** `<api>/projects/<url-encoded path>` */
  readonly project: string
  readonly token: Redacted.Redacted<string>
  readonly fail: (reason: ForgeErrorReason, operation: string, detail: string, status?: number) => ForgeError
}

const gitlabForge = ({ http, target, project, token, fail }: Context): Forge => {
  /** One exchange; a status outside 2xx and `alsoOk` is a ForgeError in GitLab's words. */
  const call = (spec: Call): Effect.Effect<Reply, ForgeError> => {
    const url = `${project}${spec.path}`
    const request: Outgoing = {
      method: spec.method,
      url,
      headers: {
        // Bearer rather than PRIVATE-TOKEN: RegistryHttp drops Authorization on a redirect to another
        // host and scrubs it from what a server echoes; a header of another name would follow the redirect.
        authorization: `Bearer ${Redacted.value(token)}`,
        accept: "application/json",
        ...(spec.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
    }
    return http.send(target, request).pipe(
      Effect.mapError((error) => fail(forgeReasonOf(error.reason), spec.operation, error.detail, error.status)),
      Effect.flatMap((reply) => {
        if ((reply.status >= 200 && reply.status < 300) || spec.alsoOk?.(reply) === true) return Effect.succeed(reply)
        const said = Option.getOrElse(gitlabMessage(replyText(reply)), () => `${spec.method} ${safeUrl(url)}`)
        const words = spec.explain?.(reply.status) ?? statusWords(reply.status)
        return Effect.fail(fail(reasonOfStatus(reply.status), spec.operation, `${words}: ${said}`, reply.status))
      }),
    )
  }

  const decode = <A, I>(operation: string, schema: Schema.Schema<A, I>, reply: Reply): Effect.Effect<A, ForgeError> =>
    decodeJsonText(schema, replyText(reply)).pipe(
      Effect.mapError((why) => fail("Protocol", operation, `unexpected answer from ${safeUrl(reply.url)}: ${shortened(why)}`, reply.status)),
    )

  /** Every merge request the listing `query` names, page after page, at most MAX_PAGES. */
  const listAll = (operation: string, query: Readonly<Record<string, string>>): Effect.Effect<ReadonlyArray<MergeRequest>, ForgeError> => {
    const page = (n: number, before: ReadonlyArray<MergeRequest>): Effect.Effect<ReadonlyArray<MergeRequest>, ForgeError> => {
      const params = new URLSearchParams({ ...query, per_page: String(PER_PAGE), page: String(n) })
      return call({ operation, method: "GET", path: `/merge_requests?${params}` }).pipe(
        Effect.flatMap((reply) =>
          Effect.map(decode(operation, MergeRequests, reply), (found) => ({ all: [...before, ...found], next: nextPage(reply.headers, n) })),
        ),
        Effect.flatMap(({ all, next }) =>
          Option.match(next, {
            onNone: () => Effect.succeed(all),
            onSome: (following) =>
              n >= MAX_PAGES
                ? Effect.fail(fail("Protocol", operation, `more than ${MAX_PAGES * PER_PAGE} merge requests listed (${MAX_PAGES} pages)`))
                : page(following, all),
          }),
        ),
      )
    }
    return page(1, [])
  }

  const open = (request: NewRequest): Effect.Effect<ReviewRequest, ForgeError> => {
    const operation = `open request for ${request.branch}`
    const body = {
      source_branch: request.branch,
      target_branch: request.base,
      title: request.title,
      description: request.body,
      labels: request.labels.join(","),
      remove_source_branch: false,
    }
    return call({ operation, method: "POST", path: "/merge_requests", body }).pipe(
      Effect.flatMap((reply) => decode(operation, MergeRequest, reply)),
      Effect.map(reviewRequestOf),
    )
  }

  const openRequests = (base: string, marker: string) =>
    Effect.map(listAll(`list open requests against ${base}`, { state: "opened", target_branch: base }), (all) =>
      all
        .filter((mr) => fromThisProject(mr) && mr.target_branch === base && (mr.description ?? "").includes(marker))
        .map(reviewRequestOf),
    )

  const requestsFor = (branch: string) =>
    Effect.map(
      listAll(`list requests for ${branch}`, { state: "all", source_branch: branch, order_by: "created_at", sort: "desc" }),
      (all) =>
        all
          .filter((mr) => fromThisProject(mr) && mr.source_branch === branch)
          // iids grow with each request of a project: newest first whatever order the pages came in.
          .toSorted((a, b) => b.iid - a.iid)
          .map(reviewRequestOf),
    )

  const close = (number: number, comment: string) => {
    const operation = `close !${number}`
    return call({ operation, method: "POST", path: `/merge_requests/${number}/notes`, body: { body: comment } }).pipe(
      Effect.zipRight(call({ operation, method: "PUT", path: `/merge_requests/${number}`, body: { state_event: "close" } })),
      Effect.asVoid,
    )
  }

  const autoMerge = (request: ReviewRequest) =>
    call({
      operation: `auto-merge !${request.number}`,
      method: "PUT",
      path: `/merge_requests/${request.number}/merge`,
      // auto_merge since GitLab 17.11, merge_when_pipeline_succeeds before it (each ignores the
      // other); sha makes GitLab refuse (409) if the branch moved since the runner looked at it.
      body: { merge_when_pipeline_succeeds: true, auto_merge: true, ...(request.headSha === "" ? {} : { sha: request.headSha }) },
      explain: autoMergeRefusal,
    }).pipe(Effect.asVoid)

  const deleteBranch = (branch: string) =>
    call({
      operation: `delete branch ${branch}`,
      method: "DELETE",
      path: `/repository/branches/${encodeURIComponent(branch)}`,
      alsoOk: branchGone,
    }).pipe(Effect.asVoid)

  return { open, openRequests, requestsFor, close, autoMerge, deleteBranch }
}

/**
 * GitLab's 404 for a branch it does not have. A project the token cannot see is a 404 too
 * ("404 Project Not Found"): that one is a failure, not a branch already deleted.
 */
const branchGone = (reply: Reply): boolean =>
  reply.status === 404 && Option.exists(gitlabMessage(replyText(reply)), (said) => /branch not found/i.test(said))

/**
 * Why GitLab will not set a request to merge: it answers 405 while it cannot merge it now (no
 * pipeline created yet, a failed one, a draft, unresolved threads), 406 on conflicts, 409 when
 * the branch moved, 422 when the request is not open. None of these is retried here: the caller
 * sees reason Refused and asks again on a later pass.
 */
const autoMergeRefusal = (status: number): string | undefined => {
  if (status === 405) return "GitLab cannot merge it yet (no pipeline yet, a failed pipeline, a draft or open threads)"
  if (status === 406) return "GitLab cannot merge it (conflicts with its target branch)"
  if (status === 409) return "its branch moved since it was read"
  if (status === 422) return "it is not open"
  return undefined
}
