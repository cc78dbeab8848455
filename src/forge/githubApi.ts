import { Effect, Either, Option, Redacted, Schema } from "effect"
import type { RegistryError } from "../domain/RegistryError.ts"
import { DEFAULT_RATE_LIMIT } from "../http/RateLimiter.ts"
import { RegistryHttp, type Reply, replyText, type Target } from "../http/RegistryHttp.ts"
import { decodeJsonText } from "../json.ts"
import { VERSION } from "../version.ts"
import { ForgeError, type ForgeErrorReason, forgeReasonOf } from "./Forge.ts"

/**
 * The REST conversation with GitHub, GitHub Enterprise Server and Gitea/Forgejo (which serve the
 * same shape under `/api/v1`): every request goes through RegistryHttp, so the host gets one
 * adaptive limiter, deadlines, retries and the redirect rules, and every failure is a ForgeError
 * naming its operation, scrubbed of the token.
 */

export interface GithubSettings {
  /** `https://api.github.com` (the default), `https://HOST/api/v3` (Enterprise Server), `https://HOST/api/v1` (Gitea, Forgejo). */
  readonly apiURL?: string
  /** `owner/name` */
  readonly repository: string
  readonly token: Redacted.Redacted<string>
}

export const GITHUB_API = "https://api.github.com"

/** A page is 100 pulls of a few tens of kilobytes each: an answer past this is not one GitHub sends. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024

/**
 * GitHub's secondary rate limits (and its primary one once spent) answer 403 or 429 with
 * `retry-after`, or with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`: "wait", not "you may not".
 */
export const secondaryRateLimit = (reply: Reply): boolean =>
  (reply.status === 403 || reply.status === 429) &&
  (reply.headers["retry-after"] !== undefined || reply.headers["x-ratelimit-remaining"]?.trim() === "0")

/** `{message, errors: [{message, code, field}] | [string]}`, as GitHub and Gitea explain a refusal. */
const ErrorBody = Schema.Struct({
  message: Schema.optional(Schema.String),
  errors: Schema.optional(
    Schema.Array(
      Schema.Union(
        Schema.String,
        Schema.Struct({ message: Schema.optional(Schema.String), code: Schema.optional(Schema.String), field: Schema.optional(Schema.String) }),
      ),
    ),
  ),
})

/** The host's own words about a refusal: its message, then each error's, on one line. */
export const hostMessage = (reply: Reply): string => {
  const parsed = Either.getOrUndefined(decodeJsonText(ErrorBody, replyText(reply)))
  if (parsed === undefined) return ""
  const errors = (parsed.errors ?? []).map((e) => (typeof e === "string" ? e : (e.message ?? [e.field, e.code].filter((p) => p !== undefined).join(" "))))
  return [parsed.message, ...errors].filter((part) => part !== undefined && part !== "").join("; ").slice(0, 500)
}

export interface ApiRequest {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE"
  /** A path under the API (`/repos/o/r/pulls`) or an absolute URL on the API's host (a next page). */
  readonly path: string
  readonly body?: unknown
}

/** One repository's API: requests, their judgement, and the errors of this repository. */
export interface GithubApi {
  readonly repository: string
  readonly owner: string
  /** `/repos/{owner}/{name}`, encoded. */
  readonly repoPath: string
  /** The API's root, without a trailing slash. */
  readonly base: string
  /** Where GraphQL is served: `/graphql` beside `/api/v3`'s `/api`, or under the root. */
  readonly graphqlURL: string
  readonly fail: (operation: string) => (reason: ForgeErrorReason, detail: string, status?: number) => ForgeError
  /** The answer, whatever its status (429 and 5xx, retried, fail as RateLimited and Server). */
  readonly send: (operation: string, request: ApiRequest) => Effect.Effect<Reply, ForgeError>
  /** Why an answer was not the one hoped for, as the error of `operation`. */
  readonly refusal: (operation: string, reply: Reply) => ForgeError
  /** The answer, failing unless its status is one of `ok`. */
  readonly expect: (operation: string, request: ApiRequest, ok: ReadonlyArray<number>) => Effect.Effect<Reply, ForgeError>
  /** An answer's body, parsed as JSON of `schema`. */
  readonly decode: <A, I>(operation: string, reply: Reply, schema: Schema.Schema<A, I>) => Effect.Effect<A, ForgeError>
  /** The answer of `expect`, parsed as JSON of `schema`. */
  readonly json: <A, I>(operation: string, request: ApiRequest, ok: ReadonlyArray<number>, schema: Schema.Schema<A, I>) => Effect.Effect<A, ForgeError>
}

/** Why an answer outside `ok` failed, in the terms of Forge. */
const judged = (fail: (reason: ForgeErrorReason, detail: string, status?: number) => ForgeError, reply: Reply): ForgeError => {
  const said = hostMessage(reply)
  const quoted = said === "" ? "" : `: ${said}`
  switch (reply.status) {
    case 401:
      return fail("Auth", `the token was refused (is it valid and unexpired?)${quoted}`, 401)
    case 403:
      return fail("Auth", `the token may not do this (does it have the pull request and contents permissions?)${quoted}`, 403)
    case 404:
      return fail("NotFound", `not found (a token that cannot see a private repository is answered 404 too)${quoted}`, 404)
    case 409:
    case 422:
      return fail("Refused", `the host refused${quoted}`, reply.status)
    default:
      return fail("Protocol", `unexpected answer ${reply.status}${quoted}`, reply.status)
  }
}

export const graphqlOf = (base: string): string => (/\/api\/v3$/.test(base) ? base.replace(/\/v3$/, "/graphql") : `${base}/graphql`)

/** The API of `settings.repository`, through the RegistryHttp in context. */
export const githubApi = (settings: GithubSettings): Effect.Effect<GithubApi, ForgeError, RegistryHttp> =>
  Effect.gen(function* () {
    const http = yield* RegistryHttp
    const token = Redacted.value(settings.token)
    const { repository } = settings
    const failFor = (operation: string) => (reason: ForgeErrorReason, detail: string, status?: number) =>
      new ForgeError({ reason, provider: "github", repository, operation, detail, ...(status === undefined ? {} : { status }) }, [token])
    const base = (settings.apiURL ?? GITHUB_API).replace(/\/+$/, "")
    const apiHost = Option.getOrUndefined(Option.liftThrowable(() => new URL(base))())
    const [owner = "", name = "", ...rest] = repository.split("/")
    if (apiHost === undefined || !/^https?:$/.test(apiHost.protocol)) return yield* failFor("configure")("Config", `apiURL ${JSON.stringify(base)} is not an http(s) URL`)
    if (owner === "" || name === "" || rest.length > 0) return yield* failFor("configure")("Config", `repository ${JSON.stringify(repository)} is not owner/name`)
    const target: Target = {
      provider: "github",
      registry: apiHost.host,
      repository,
      rateLimit: DEFAULT_RATE_LIMIT,
      insecure: false,
      caCert: Option.none(),
      // The operator's config names the API's host; nothing else may be link-local.
      linkLocalHosts: [apiHost.hostname],
      throttled: secondaryRateLimit,
      maxBodyBytes: MAX_ANSWER_BYTES,
    }
    const headers = {
      authorization: `Bearer ${token}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": `runner/${VERSION}`,
    }
    const send = (operation: string, request: ApiRequest): Effect.Effect<Reply, ForgeError> => {
      const url = /^https?:\/\//.test(request.path) ? request.path : `${base}${request.path}`
      const body = request.body === undefined ? {} : { body: JSON.stringify(request.body) }
      const outgoing = { method: request.method, url, headers: request.body === undefined ? headers : { ...headers, "content-type": "application/json" }, ...body }
      return http.send(target, outgoing).pipe(
        // RegistryHttp's details name the request already.
        Effect.mapError((e: RegistryError) => failFor(operation)(forgeReasonOf(e.reason), e.detail, e.status)),
      )
    }
    const expect = (operation: string, request: ApiRequest, ok: ReadonlyArray<number>) =>
      Effect.filterOrFail(send(operation, request), (reply) => ok.includes(reply.status), (reply) => judged(failFor(operation), reply))
    const decode = <A, I>(operation: string, reply: Reply, schema: Schema.Schema<A, I>) =>
      Either.mapLeft(decodeJsonText(schema, replyText(reply)), (why) =>
        failFor(operation)("Protocol", `the answer is not what GitHub sends: ${why.slice(0, 500)}`, reply.status),
      )
    const json = <A, I>(operation: string, request: ApiRequest, ok: ReadonlyArray<number>, schema: Schema.Schema<A, I>) =>
      Effect.flatMap(expect(operation, request, ok), (reply) => decode(operation, reply, schema))
    const repoPath = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`
    return { repository, owner, repoPath, base, graphqlURL: graphqlOf(base), fail: failFor, send, refusal: (operation, reply) => judged(failFor(operation), reply), expect, decode, json }
  })

/** The `rel="next"` page of a `Link` header, when it is on the API's own origin. */
export const nextPage = (link: string | undefined, from: string): Option.Option<string> => {
  if (link === undefined) return Option.none()
  for (const part of link.split(",")) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part)
    if (match === null || !/\brel="?next"?/.test(match[2] ?? "")) continue
    const next = Option.getOrUndefined(Option.liftThrowable(() => new URL(match[1] ?? "", from))())
    return next !== undefined && next.origin === new URL(from).origin ? Option.some(next.href) : Option.none()
  }
  return Option.none()
}
