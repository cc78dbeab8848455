import { Context, Data, Duration, Effect, Either, FiberRef, Layer, Metric, Option, Schedule, Schema } from "effect"
import { authorizationSecrets, messageOf } from "../domain/foreignText.ts"
import { type RegistryError, registryError } from "../domain/RegistryError.ts"
import { decodeJsonText } from "../json.ts"
import { currentPipeline, registryRequests } from "../metrics.ts"
import { ACCEPT_ENCODING, readBody, UnreadableBody } from "./body.ts"
import { type HostLookup, makeLinkLocalGuard, systemLookup } from "./linkLocal.ts"
import { type Feedback, type HostLimiter, makeRateLimiters, parseQuota, type RateLimit } from "./RateLimiter.ts"

/** Who a request is for: names the provider and image in errors and metrics, and says how to reach the host. */
export interface Target {
  readonly provider: string
  readonly registry: string
  readonly repository: string
  readonly rateLimit: RateLimit
  /** Skip TLS certificate verification. */
  readonly insecure: boolean
  /** PEM certificates trusted besides the system's (a private CA). */
  readonly caCert: Option.Option<string>
  /**
   * The hosts (patterns of domain/hosts.ts) the operator's config names for this target, which may
   * be link-local; `any` for the runner's own cloud credential endpoints. No other request goes there.
   */
  readonly linkLocalHosts: ReadonlyArray<string> | "any"
  /**
   * Whether an answer other than a 429 says "too many requests": GitHub's secondary rate limits
   * answer 403. Such an answer is waited for and retried like a 429, for as long as its
   * `retry-after`, else until its `x-ratelimit-reset` when `x-ratelimit-remaining` is 0.
   */
  readonly throttled?: (reply: Reply) => boolean
  /** The most an answer may hold (MAX_BODY_BYTES unless set). */
  readonly maxBodyBytes?: number
}

export interface Outgoing {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
}

export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array<ArrayBuffer>
  /** The URL that answered, after redirects. */
  readonly url: string
}

export const replyText = (reply: Reply): string => new TextDecoder().decode(reply.body)

export const REQUEST_TIMEOUT = Duration.seconds(30)

/**
 * Every HTTP request to a registry, token service or cloud API goes through here: one rate limiter
 * per host, a timeout per request, bounded jittered retries of what is transient, redirects
 * followed without carrying credentials to another host, and a count per provider and status.
 */
export class RegistryHttp extends Context.Tag("RegistryHttp")<
  RegistryHttp,
  {
    /** Statuses other than 429 and 5xx are the caller's to judge; those two fail once the retries are spent. */
    readonly send: (target: Target, request: Outgoing) => Effect.Effect<Reply, RegistryError>
  }
>() {
  /** With another deadline per request than REQUEST_TIMEOUT (tests wait for it to pass). */
  static readonly layerWithTimeout = (timeout: Duration.Duration): Layer.Layer<RegistryHttp> =>
    Layer.effect(RegistryHttp, Effect.suspend(() => make(timeout, systemLookup)))

  /** With another resolver of host names (tests name hosts no DNS here knows). */
  static readonly layerWithLookup = (resolve: HostLookup): Layer.Layer<RegistryHttp> =>
    Layer.effect(RegistryHttp, Effect.suspend(() => make(REQUEST_TIMEOUT, resolve)))

  static readonly layer: Layer.Layer<RegistryHttp> = RegistryHttp.layerWithTimeout(REQUEST_TIMEOUT)
}

const MAX_RETRY_AFTER = Duration.seconds(60)
const MAX_REDIRECTS = 5

/**
 * A failed attempt, turned into a RegistryError once the retries are spent. All kinds but
 * Protocol are transient; an answer we refused to read (too big, badly encoded) comes back the
 * same on every attempt, and a bomb would be inflated again each time.
 */
class Transient extends Data.TaggedError("Transient")<{
  readonly kind: "Transport" | "Server" | "RateLimited" | "Protocol"
  readonly status?: number
  readonly detail: string
  readonly retryAfter: Option.Option<Duration.Duration>
}> {}

/** Transport failures, timeouts and 5xx: exponential from 200 ms, jittered, four tries in all. */
const transientRetry = Schedule.exponential("200 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(3)))

/** Like transientRetry, but a 429 or 503 waits what its `Retry-After` asks (capped); a 429 without one, at least a second. */
const requestRetry = transientRetry.pipe(
  Schedule.intersect(Schedule.identity<Transient>()),
  Schedule.whileInput((failure: Transient) => failure.kind !== "Protocol"),
  Schedule.modifyDelay(([, failure], delay) =>
    failure.kind === "RateLimited"
      ? Option.getOrElse(failure.retryAfter, () => Duration.max(delay, Duration.seconds(1)))
      : Option.getOrElse(failure.retryAfter, () => delay),
  ),
)

/**
 * `attempt`, retried as requestRetry says. The schedule starts at the first failure, which it is
 * given first, as if it had run from the start: a request answered at once, nearly all of them,
 * never builds one.
 */
const withRetries = (attempt: Effect.Effect<Reply, Transient>): Effect.Effect<Reply, Transient> =>
  Effect.catchAll(attempt, (first) => {
    let replayed: Transient | undefined = first
    const again = Effect.suspend(() => {
      if (replayed === undefined) return attempt
      const failure = replayed
      replayed = undefined
      return Effect.fail(failure)
    })
    return Effect.retry(again, requestRetry)
  })

/** `Retry-After` in seconds or as an HTTP date, capped so a hostile value cannot stall a pass. */
export const parseRetryAfter = (value: string | undefined, now: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  const text = value.trim()
  const millis = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now
  return Number.isFinite(millis) ? Option.some(Duration.min(Duration.millis(Math.max(0, millis)), MAX_RETRY_AFTER)) : Option.none()
}

/** Until `x-ratelimit-reset` (epoch seconds) when `x-ratelimit-remaining` is 0, capped like parseRetryAfter. */
export const quotaReset = (headers: Readonly<Record<string, string>>, now: number): Option.Option<Duration.Duration> => {
  const reset = Number(headers["x-ratelimit-reset"])
  if (headers["x-ratelimit-remaining"]?.trim() !== "0" || !Number.isFinite(reset)) return Option.none()
  return Option.some(Duration.min(Duration.millis(Math.max(0, reset * 1000 - now)), MAX_RETRY_AFTER))
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

const ErrorBody = Schema.Struct({
  errors: Schema.Array(Schema.Struct({ code: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })),
})

/** The registry's own explanation from `{"errors":[{code,message}]}`, if it sent one. */
export const registryMessage = (body: string): Option.Option<string> =>
  Either.getRight(decodeJsonText(ErrorBody, body)).pipe(
    Option.flatMap((parsed) => Option.fromNullable(parsed.errors[0])),
    Option.map((error) => [error.code, error.message].filter((part) => part !== undefined && part !== "").join(": ")),
    Option.filter((text) => text !== ""),
  )

/** Why a fetch failed, in words: its own message, or the deadline it missed. */
const describeFetchError = (error: unknown, timeout: Duration.Duration): string => {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${Duration.format(timeout)}`
  return messageOf(error)
}

/** Where a redirect goes, and whether credentials may follow it (only to the same origin). */
export const redirectTarget = (from: string, location: string): Option.Option<{ url: string; sameOrigin: boolean }> => {
  try {
    const next = new URL(location, from)
    if (next.protocol !== "http:" && next.protocol !== "https:") return Option.none()
    return Option.some({ url: next.href, sameOrigin: next.origin === new URL(from).origin })
  } catch {
    return Option.none()
  }
}

const sentSecrets = (request: Outgoing): ReadonlyArray<string> =>
  Object.entries(request.headers).flatMap(([name, value]) => (name.toLowerCase() === "authorization" ? authorizationSecrets(value) : []))

const withoutAuthorization = (headers: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== "authorization"))

/** TLS options of `target` for Bun's fetch (other runtimes ignore `tls`; http:// addresses need none). */
const tlsOf = (target: Target): BunFetchRequestInit => {
  const tls = {
    ...(target.insecure ? { rejectUnauthorized: false } : {}),
    ...Option.match(target.caCert, { onNone: () => ({}), onSome: (ca) => ({ ca }) }),
  }
  return Object.keys(tls).length > 0 ? { tls } : {}
}

/** Headers as a record, names in lower case. */
export const headersOf = (from: Headers): Record<string, string> => {
  const headers: Record<string, string> = {}
  from.forEach((value, name) => {
    headers[name] = value
  })
  return headers
}

/**
 * One exchange, with the runtime's `fetch` and nothing between: redirects are ours to follow, the
 * request is aborted at its deadline (body included) or when the fiber is interrupted, and the body
 * is inflated and capped by readBody, not by the runtime (see body.ts).
 */
const exchange = async (target: Target, request: Outgoing, timeout: Duration.Duration, interrupted: AbortSignal): Promise<Reply> => {
  const headers = new Headers(request.headers)
  if (!headers.has("accept-encoding")) headers.set("accept-encoding", ACCEPT_ENCODING)
  const signal = AbortSignal.any([interrupted, AbortSignal.timeout(Duration.toMillis(timeout))])
  const init: BunFetchRequestInit = { method: request.method, headers, signal, redirect: "manual", decompress: false, ...tlsOf(target) }
  const response = await globalThis.fetch(request.url, request.body === undefined ? init : { ...init, body: request.body })
  const body = await readBody(response, target.maxBodyBytes)
  return { status: response.status, headers: headersOf(response.headers), body, url: request.url }
}

const make = (timeout: Duration.Duration, resolve: HostLookup) => Effect.gen(function* () {
  const limiters = yield* makeRateLimiters
  const linkLocalGuard = yield* makeLinkLocalGuard(resolve)

  const count = (target: Target, code: string) =>
    Effect.flatMap(FiberRef.get(currentPipeline), (pipeline) => Metric.increment(registryRequests({ provider: target.provider, code, pipeline })))

  /** One request to one URL: waits for the host's limiter, times out, classifies 429 and 5xx as transient. */
  const once = (target: Target, request: Outgoing): Effect.Effect<Reply, Transient> =>
    Effect.suspend(() => {
      const limiter = limiters.forHost(new URL(request.url).host, target.rateLimit, target.provider)
      return limiter.withPermit(exchangeOnce(target, request, limiter))
    })

  /** The exchange itself, holding one of the host's in-flight places; what it answered goes back to the limiter. */
  const exchangeOnce = (target: Target, request: Outgoing, limiter: HostLimiter): Effect.Effect<Reply, Transient> =>
    Effect.flatMap(limiter.take, (sent) =>
      Effect.tryPromise({
        try: (interrupted) => exchange(target, request, timeout, interrupted),
        catch: (error) =>
          new Transient({
            kind: error instanceof UnreadableBody ? "Protocol" : "Transport",
            detail: `${request.method} ${safeUrl(request.url)}: ${describeFetchError(error, timeout)}`,
            retryAfter: Option.none(),
          }),
      }).pipe(
        Effect.tapError(() => count(target, "error")),
        Effect.flatMap((reply) => answered(target, request, limiter, sent, reply)),
      ),
    )

  /** What came back: counted, logged at debug level, reported to the host's limiter; a 429 or 5xx fails, to be retried. */
  const answered = (target: Target, request: Outgoing, limiter: HostLimiter, sent: number, reply: Reply): Effect.Effect<Reply, Transient> =>
    Effect.clockWith((clock) => {
      const { method, url } = request
      const now = clock.unsafeCurrentTimeMillis()
      // A 503 is how many registries shed load: it slows the host down like a 429.
      const throttled = reply.status !== 429 && reply.status < 500 && target.throttled?.(reply) === true
      const feedback: Feedback =
        reply.status === 429 || reply.status === 503 || throttled
          ? { _tag: "TooMany", retryAfter: Option.orElse(parseRetryAfter(reply.headers["retry-after"], now), () => (throttled ? quotaReset(reply.headers, now) : Option.none())) }
          : { _tag: "Ok", quota: parseQuota(reply.headers, now) }
      const retryAfter = feedback._tag === "TooMany" ? feedback.retryAfter : Option.none()
      const noted = count(target, String(reply.status)).pipe(
        // Only built when someone reads it: this runs for every request.
        Effect.zipRight(
          Effect.whenLogLevel(
            Effect.suspend(() => Effect.logDebug("registry request").pipe(Effect.annotateLogs({ method, url: safeUrl(url), status: reply.status }))),
            "Debug",
          ),
        ),
        Effect.zipRight(limiter.report(feedback, sent)),
      )
      if (reply.status === 429 || throttled) {
        const detail = Option.getOrElse(registryMessage(replyText(reply)), () => `${method} ${safeUrl(url)}: too many requests`)
        return Effect.zipRight(noted, Effect.fail(new Transient({ kind: "RateLimited", status: reply.status, detail, retryAfter })))
      }
      if (reply.status >= 500) {
        const detail = Option.getOrElse(registryMessage(replyText(reply)), () => `${method} ${safeUrl(url)} failed`)
        return Effect.zipRight(noted, Effect.fail(new Transient({ kind: "Server", status: reply.status, detail, retryAfter })))
      }
      return Effect.as(noted, reply)
    })

  const send = (target: Target, request: Outgoing): Effect.Effect<Reply, RegistryError> => {
    const fail = registryError(target)
    const follow = (current: Outgoing, hops: number): Effect.Effect<Reply, RegistryError> => {
      const check = linkLocalGuard(target.linkLocalHosts, current.url)
      const sent = withRetries(once(target, current)).pipe(
        // A server may echo the Authorization header it was sent in its error message.
        Effect.mapError((failure) => registryError(target, sentSecrets(current))(failure.kind, failure.detail, failure.status)),
        Effect.flatMap((reply) => {
          const location = reply.headers["location"]
          if (reply.status < 300 || reply.status >= 400 || reply.status === 304 || location === undefined) return Effect.succeed(reply)
          if (hops >= MAX_REDIRECTS) return Effect.fail(fail("Protocol", `more than ${MAX_REDIRECTS} redirects from ${safeUrl(request.url)}`))
          return Option.match(redirectTarget(current.url, location), {
            onNone: () => Effect.fail(fail("Protocol", `redirect from ${safeUrl(current.url)} to an invalid location`)),
            onSome: ({ url, sameOrigin }) => {
              // Nothing asked over TLS is followed to cleartext, where a name could be rebound to a metadata address.
              if (new URL(current.url).protocol === "https:" && new URL(url).protocol === "http:") {
                return Effect.fail(fail("Protocol", `refused a redirect from ${safeUrl(current.url)} to plain http (${safeUrl(url)})`))
              }
              // Blob storage (S3, GCS) lives on other hosts: our registry credentials must not go there.
              const headers = sameOrigin ? current.headers : withoutAuthorization(current.headers)
              const body = current.body === undefined || reply.status === 303 ? {} : { body: current.body }
              return follow({ method: reply.status === 303 ? "GET" : current.method, url, headers, ...body }, hops + 1)
            },
          })
        }),
      )
      if (check === undefined) return sent
      const refused = (hostname: string) =>
        fail(
          "Config",
          `refused to send a request to ${hostname}: a link-local or cloud metadata address, where instance credentials are served; only a host the operator's config names may be one`,
        )
      return Effect.zipRight(Effect.mapError(check, refused), sent)
    }
    return follow(request, 0)
  }

  return RegistryHttp.of({ send })
})
