import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import type { HttpClientError } from "@effect/platform"
import {
  Chunk,
  Clock,
  Context,
  Data,
  Duration,
  Effect,
  Either,
  Encoding,
  HashSet,
  Layer,
  Option,
  ParseResult,
  Redacted,
  Ref,
  Schedule,
  Schema,
  Stream,
} from "effect"
import { type Challenge, makeTokenCache, parseTokenResponse, parseWwwAuthenticate, tokenKey, tokenUrl } from "./auth.ts"
import type { RegistryCredentials, RegistryEndpoint } from "./endpoint.ts"
import { isValidTag } from "./ImageRef.ts"
import { RegistryError } from "./RegistryError.ts"

/** OCI distribution v2 calls for one repository at a time. */
export class RegistryClient extends Context.Tag("RegistryClient")<
  RegistryClient,
  {
    /** All tags of the repository, following `Link: <...>; rel="next"` pages. Order as the registry returns it. */
    readonly listTags: (endpoint: RegistryEndpoint) => Effect.Effect<ReadonlyArray<string>, RegistryError>
    /** The digest of the manifest (or index) a tag points to, as the registry computes it. */
    readonly manifestDigest: (endpoint: RegistryEndpoint, tag: string) => Effect.Effect<string, RegistryError>
  }
>() {
  static readonly layer: Layer.Layer<RegistryClient, never, HttpClient.HttpClient> = Layer.effect(
    RegistryClient,
    Effect.suspend(() => make),
  )
}

const PAGE_SIZE = 1000
const MAX_PAGES = 1000
const REQUEST_TIMEOUT = Duration.seconds(30)
const MAX_RETRY_AFTER = Duration.seconds(60)
const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ")

/** A failure worth another attempt; turned into a RegistryError once the retries are spent. */
class Transient extends Data.TaggedError("Transient")<{
  readonly kind: "Transport" | "Server" | "RateLimited"
  readonly status?: number
  readonly detail: string
  readonly retryAfter: Option.Option<Duration.Duration>
}> {}

/** Transport failures, timeouts and 5xx: exponential from 200 ms, jittered, four tries in all. */
const transientRetry = Schedule.exponential("200 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(3)))

/** Like transientRetry, but a 429 waits what its `Retry-After` asks (capped), or at least a second. */
const requestRetry = transientRetry.pipe(
  Schedule.intersect(Schedule.identity<Transient>()),
  Schedule.modifyDelay(([, failure], delay) =>
    failure.kind === "RateLimited"
      ? Option.getOrElse(failure.retryAfter, () => Duration.max(delay, Duration.seconds(1)))
      : delay,
  ),
)

/** `Retry-After` in seconds or as an HTTP date, capped so a hostile value cannot stall a pass. */
export const parseRetryAfter = (value: string | undefined, now: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  const text = value.trim()
  const millis = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now
  return Number.isFinite(millis) ? Option.some(Duration.min(Duration.millis(Math.max(0, millis)), MAX_RETRY_AFTER)) : Option.none()
}

/**
 * The `rel="next"` target of a `Link` header, resolved against the request URL. A next page on
 * another origin is refused: following it would send our credentials there.
 */
export const parseNextLink = (header: string | undefined, requestUrl: string): Either.Either<Option.Option<string>, string> => {
  if (header === undefined) return Either.right(Option.none())
  for (const [, target = "", params = ""] of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params)
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/)
    if (!relations.includes("next")) continue
    let next: URL
    try {
      next = new URL(target, requestUrl)
    } catch {
      return Either.left(`Link header has an invalid next URL "${target}"`)
    }
    const base = new URL(requestUrl)
    if (next.origin !== base.origin) {
      return Either.left(`Link header points the next page to another host (${next.origin}), refused`)
    }
    return Either.right(Option.some(next.href))
  }
  return Either.right(Option.none())
}

/** The URL as logged and put into messages: query values other than paging and scope are hidden. */
export const safeUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.username = ""
    parsed.password = ""
    for (const key of [...parsed.searchParams.keys()]) {
      if (!["n", "last", "service", "scope"].includes(key)) parsed.searchParams.set(key, "xxx")
    }
    return parsed.href
  } catch {
    return "<invalid URL>"
  }
}

const TagList = Schema.Struct({
  name: Schema.String,
  tags: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
})

const ErrorBody = Schema.Struct({
  errors: Schema.Array(Schema.Struct({ code: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })),
})

/** The registry's own explanation from `{"errors":[{code,message}]}`, if it sent one. */
const registryMessage = (body: string): Option.Option<string> =>
  Schema.decodeUnknownOption(Schema.parseJson(ErrorBody))(body).pipe(
    Option.flatMap((parsed) => Option.fromNullable(parsed.errors[0])),
    Option.map((error) => [error.code, error.message].filter((part) => part !== undefined && part !== "").join(": ")),
    Option.filter((text) => text !== ""),
  )

const describeHttpError = (error: HttpClientError.HttpClientError): string =>
  error._tag === "RequestError" && error.cause instanceof Error ? error.cause.message : error.message

interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array<ArrayBuffer>
}

const text = (reply: Reply): string => new TextDecoder().decode(reply.body)

type Auth =
  | { readonly _tag: "Anonymous" }
  | { readonly _tag: "Basic"; readonly credentials: RegistryCredentials }
  | { readonly _tag: "Bearer"; readonly challenge: Challenge }

const basicAuthorization = (credentials: RegistryCredentials): string =>
  `Basic ${Encoding.encodeBase64(`${credentials.username}:${Redacted.value(credentials.password)}`)}`

// Bun reads `tls` from the fetch init; other runtimes ignore it (http:// addresses need nothing).
const insecureInit: BunFetchRequestInit = { tls: { rejectUnauthorized: false } }

const make = Effect.gen(function* () {
  const client = yield* HttpClient.HttpClient
  const tokens = yield* makeTokenCache

  const fail = (endpoint: RegistryEndpoint, reason: RegistryError["reason"], detail: string, status?: number) =>
    new RegistryError({
      reason,
      registry: endpoint.registry,
      repository: endpoint.repository,
      detail,
      ...(status === undefined ? {} : { status }),
    })

  /** One HTTP exchange with timeout and retries; statuses other than 429 and 5xx are the caller's. */
  const send = (
    endpoint: RegistryEndpoint,
    method: "GET" | "HEAD",
    url: string,
    headers: Readonly<Record<string, string>>,
  ): Effect.Effect<Reply, RegistryError> => {
    const request = HttpClientRequest.make(method)(url).pipe(HttpClientRequest.setHeaders(headers))
    const attempt = client.execute(request).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.arrayBuffer, (body): Reply => ({
          status: response.status,
          headers: response.headers,
          body: new Uint8Array(body),
        })),
      ),
      Effect.mapError(
        (error) =>
          new Transient({ kind: "Transport", detail: `${method} ${safeUrl(url)}: ${describeHttpError(error)}`, retryAfter: Option.none() }),
      ),
      Effect.timeoutFail({
        duration: REQUEST_TIMEOUT,
        onTimeout: () =>
          new Transient({
            kind: "Transport",
            detail: `${method} ${safeUrl(url)}: no answer within ${Duration.format(REQUEST_TIMEOUT)}`,
            retryAfter: Option.none(),
          }),
      }),
      Effect.tap((reply) =>
        Effect.logDebug("registry request").pipe(
          Effect.annotateLogs({ method, url: safeUrl(url), status: reply.status }),
        ),
      ),
      Effect.flatMap((reply) => {
        if (reply.status === 429) {
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.fail(
              new Transient({
                kind: "RateLimited",
                status: 429,
                detail: Option.getOrElse(registryMessage(text(reply)), () => "too many requests"),
                retryAfter: parseRetryAfter(reply.headers["retry-after"], now),
              }),
            ),
          )
        }
        if (reply.status >= 500) {
          return Effect.fail(
            new Transient({
              kind: "Server",
              status: reply.status,
              detail: Option.getOrElse(registryMessage(text(reply)), () => `${method} ${safeUrl(url)} failed`),
              retryAfter: Option.none(),
            }),
          )
        }
        return Effect.succeed(reply)
      }),
    )
    return attempt.pipe(
      Effect.retry(requestRetry),
      Effect.mapError((failure) => fail(endpoint, failure.kind, failure.detail, failure.status)),
      endpoint.insecure ? Effect.provideService(FetchHttpClient.RequestInit, insecureInit) : (self) => self,
    )
  }

  const fetchToken = Effect.fn("RegistryClient.fetchToken")(function* (endpoint: RegistryEndpoint, challenge: Challenge) {
    const url = yield* Either.mapLeft(tokenUrl(challenge, endpoint.repository), (detail) => fail(endpoint, "Protocol", detail))
    // Credentials go to the token service the registry named, and to nothing else.
    const headers: Record<string, string> = Option.match(endpoint.credentials, {
      onNone: () => ({ accept: "application/json" }),
      onSome: (credentials) => ({ accept: "application/json", authorization: basicAuthorization(credentials) }),
    })
    const reply = yield* send(endpoint, "GET", url.href, headers)
    const who = Option.match(endpoint.credentials, {
      onNone: () => "anonymous access",
      onSome: (credentials) => `the credentials of user ${credentials.username}`,
    })
    if (reply.status === 401 || reply.status === 403) {
      return yield* fail(endpoint, "Auth", `token service ${url.host} refused ${who}`, reply.status)
    }
    if (reply.status !== 200) {
      return yield* fail(endpoint, "Protocol", `token service ${url.host} answered ${reply.status}`, reply.status)
    }
    const now = yield* Clock.currentTimeMillis
    return yield* Either.mapLeft(parseTokenResponse(text(reply), now), (detail) =>
      fail(endpoint, "Protocol", `token service ${url.host}: ${detail}`),
    )
  })

  const username = (endpoint: RegistryEndpoint) => Option.map(endpoint.credentials, (credentials) => credentials.username)

  const authorization = (endpoint: RegistryEndpoint, auth: Auth): Effect.Effect<Option.Option<string>, RegistryError> => {
    switch (auth._tag) {
      case "Anonymous":
        return Effect.succeedNone
      case "Basic":
        return Effect.succeed(Option.some(basicAuthorization(auth.credentials)))
      case "Bearer": {
        const key = tokenKey(auth.challenge, endpoint.repository, username(endpoint))
        return tokens.get(key).pipe(
          Effect.flatMap(
            Option.match({
              onSome: Effect.succeed,
              onNone: () =>
                fetchToken(endpoint, auth.challenge).pipe(
                  Effect.tap((token) => tokens.set(key, token)),
                  Effect.map((token) => token.token),
                ),
            }),
          ),
          Effect.map((token) => Option.some(`Bearer ${Redacted.value(token)}`)),
        )
      }
    }
  }

  /** How to answer a first 401: Bearer when offered (it is what registries mean), else Basic. */
  const chooseAuth = (endpoint: RegistryEndpoint, challenges: ReadonlyArray<Challenge>): Either.Either<Auth, RegistryError> => {
    const bearer = challenges.find((challenge) => challenge.scheme === "bearer")
    if (bearer !== undefined) return Either.right({ _tag: "Bearer", challenge: bearer })
    if (challenges.some((challenge) => challenge.scheme === "basic")) {
      return Option.match(endpoint.credentials, {
        onNone: () => Either.left(fail(endpoint, "Auth", "the registry requires a username and password, none are configured", 401)),
        onSome: (credentials) => Either.right({ _tag: "Basic", credentials }),
      })
    }
    const offered = challenges.map((challenge) => challenge.scheme).join(", ")
    return Either.left(
      fail(endpoint, "Auth", offered === "" ? "401 without a WWW-Authenticate challenge" : `unsupported auth scheme(s): ${offered}`, 401),
    )
  }

  /**
   * A request that answers the registry's 401 challenges: anonymous first, then Basic or a Bearer
   * token; a rejected token is fetched again once. `authRef` carries the outcome to later pages.
   */
  const authorizedRequest = (
    endpoint: RegistryEndpoint,
    authRef: Ref.Ref<Auth>,
    method: "GET" | "HEAD",
    url: string,
    accept: string,
  ): Effect.Effect<Reply, RegistryError> => {
    const go = (tokenRetried: boolean): Effect.Effect<Reply, RegistryError> =>
      Effect.gen(function* () {
        const auth = yield* Ref.get(authRef)
        const header = yield* authorization(endpoint, auth)
        const headers = Option.match(header, {
          onNone: () => ({ accept }),
          onSome: (value) => ({ accept, authorization: value }),
        })
        const reply = yield* send(endpoint, method, url, headers)
        if (reply.status !== 401) return reply
        const challenges = parseWwwAuthenticate(reply.headers["www-authenticate"] ?? "")
        switch (auth._tag) {
          case "Anonymous": {
            yield* Ref.set(authRef, yield* chooseAuth(endpoint, challenges))
            return yield* go(false)
          }
          case "Basic":
            return yield* fail(endpoint, "Auth", `the registry rejected the credentials of user ${auth.credentials.username}`, 401)
          case "Bearer": {
            const who = Option.match(endpoint.credentials, {
              onNone: () => "an anonymous token; configure a username and password",
              onSome: (credentials) => `the token issued to user ${credentials.username}`,
            })
            if (tokenRetried) return yield* fail(endpoint, "Auth", `the registry rejected ${who}`, 401)
            yield* tokens.invalidate(tokenKey(auth.challenge, endpoint.repository, username(endpoint)))
            // The new challenge may ask for a different scope (error="insufficient_scope").
            const fresh = challenges.find((challenge) => challenge.scheme === "bearer") ?? auth.challenge
            yield* Ref.set(authRef, { _tag: "Bearer", challenge: fresh })
            return yield* go(true)
          }
        }
      })
    return go(false)
  }

  /** Maps the statuses left after auth and retries to errors. */
  const checkStatus = (endpoint: RegistryEndpoint, reply: Reply, what: string): Effect.Effect<Reply, RegistryError> => {
    if (reply.status === 200) return Effect.succeed(reply)
    const message = registryMessage(text(reply))
    if (reply.status === 404) {
      return Effect.fail(fail(endpoint, "NotFound", Option.getOrElse(message, () => `${what} does not exist`), 404))
    }
    if (reply.status === 403) {
      return Effect.fail(fail(endpoint, "Auth", Option.getOrElse(message, () => `access to ${what} denied`), 403))
    }
    return Effect.fail(
      fail(endpoint, "Protocol", Option.getOrElse(message, () => `unexpected status for ${what}`), reply.status),
    )
  }

  interface PageState {
    readonly url: string
    readonly seen: HashSet.HashSet<string>
    readonly pages: number
  }

  const listTags = Effect.fn("RegistryClient.listTags")(function* (endpoint: RegistryEndpoint) {
    const authRef = yield* Ref.make<Auth>({ _tag: "Anonymous" })
    const first = `${endpoint.baseUrl}/v2/${endpoint.repository}/tags/list?n=${PAGE_SIZE}`
    const page = (state: PageState) =>
      Effect.gen(function* () {
        const reply = yield* authorizedRequest(endpoint, authRef, "GET", state.url, "application/json").pipe(
          Effect.flatMap((reply) => checkStatus(endpoint, reply, "the tag list")),
        )
        const list = yield* Schema.decodeUnknownEither(Schema.parseJson(TagList))(text(reply)).pipe(
          Either.mapLeft((error) =>
            fail(endpoint, "Protocol", `tag list is not valid: ${ParseResult.TreeFormatter.formatErrorSync(error)}`),
          ),
        )
        const next = yield* Either.mapLeft(parseNextLink(reply.headers["link"], state.url), (detail) =>
          fail(endpoint, "Protocol", detail),
        )
        const nextState = yield* Option.match(next, {
          onNone: () => Effect.succeedNone,
          onSome: (url) => {
            if (HashSet.has(state.seen, url)) {
              return Effect.fail(fail(endpoint, "Protocol", `tag list pages loop back to ${safeUrl(url)}`))
            }
            if (state.pages >= MAX_PAGES) {
              return Effect.fail(fail(endpoint, "Protocol", `tag list has more than ${MAX_PAGES} pages`))
            }
            return Effect.succeed(Option.some<PageState>({ url, seen: HashSet.add(state.seen, url), pages: state.pages + 1 }))
          },
        })
        const tags = (list.tags ?? []).filter(isValidTag)
        return [Chunk.fromIterable(tags), nextState] as const
      })
    const tags = yield* Stream.runCollect(Stream.paginateChunkEffect({ url: first, seen: HashSet.make(first), pages: 1 }, page))
    return Chunk.toReadonlyArray(tags)
  })

  const manifestDigest = Effect.fn("RegistryClient.manifestDigest")(function* (endpoint: RegistryEndpoint, tag: string) {
    if (!isValidTag(tag)) return yield* fail(endpoint, "Config", `"${tag}" is not a valid tag`)
    const authRef = yield* Ref.make<Auth>({ _tag: "Anonymous" })
    const url = `${endpoint.baseUrl}/v2/${endpoint.repository}/manifests/${tag}`
    const what = `tag ${tag}`
    const head = yield* authorizedRequest(endpoint, authRef, "HEAD", url, MANIFEST_ACCEPT).pipe(
      Effect.flatMap((reply) => checkStatus(endpoint, reply, what)),
    )
    const digest = head.headers["docker-content-digest"]
    if (digest !== undefined && /^sha256:[a-f0-9]{64}$/.test(digest)) return digest
    // Without the header the digest is the sha256 of the manifest exactly as served.
    const get = yield* authorizedRequest(endpoint, authRef, "GET", url, MANIFEST_ACCEPT).pipe(
      Effect.flatMap((reply) => checkStatus(endpoint, reply, what)),
    )
    const hash = yield* Effect.promise(() => crypto.subtle.digest("SHA-256", get.body))
    return `sha256:${Encoding.encodeHex(new Uint8Array(hash))}`
  })

  return RegistryClient.of({ listTags, manifestDigest })
})
