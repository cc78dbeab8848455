import { Clock, Duration, Effect, Metric, Option, Ref } from "effect"
import { rateLimitWaitSeconds } from "../metrics.ts"

/** Requests per second a registry host is sent on average, and how many may go at once after a quiet spell. */
export interface RateLimit {
  readonly rps: number
  readonly burst: number
}

/**
 * GCR's documented basic limit is 20 requests/s; staying at it is polite to every public
 * registry and still lists 200 images in about ten seconds. A 429 slows a host down further.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { rps: 20, burst: 40 }

/** The slowest a 429 can push a host: one request every ten seconds. */
const MIN_RPS = 0.1
/** After a 429 the rate grows back by this share of the configured rate per successful request. */
const RECOVERY_STEP = 0.05
/** Below this share of its quota left (`ratelimit-remaining`), a host is slowed to spread the rest over the window. */
const LOW_QUOTA = 0.2

interface State {
  /** The rate in force: the configured one, lowered by 429s and low quotas. */
  readonly rps: number
  /** Tokens in the bucket at `at`; negative when requests are queued behind each other. */
  readonly tokens: number
  readonly at: number
  /** No request starts before this time (a `Retry-After`). */
  readonly pausedUntil: number
}

/** What a response said about the host's limits. */
export type Feedback =
  | { readonly _tag: "Ok"; readonly quota: Option.Option<Quota> }
  | { readonly _tag: "TooMany"; readonly retryAfter: Option.Option<Duration.Duration> }

/** Docker Hub's `ratelimit-limit: 100;w=21600` with `ratelimit-remaining: 76;w=21600`. */
export interface Quota {
  readonly limit: number
  readonly remaining: number
  readonly windowSeconds: number
}

const QUOTA_RE = /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/

/** Reads the `ratelimit-limit` / `ratelimit-remaining` pair; none when either is missing or garbled. */
export const parseQuota = (headers: Readonly<Record<string, string>>): Option.Option<Quota> => {
  const limit = QUOTA_RE.exec(headers["ratelimit-limit"] ?? "")
  const remaining = QUOTA_RE.exec(headers["ratelimit-remaining"] ?? "")
  if (limit === null || remaining === null) return Option.none()
  const windowSeconds = Number(limit[2] ?? remaining[2] ?? "0")
  const total = Number(limit[1])
  return total > 0 && windowSeconds > 0
    ? Option.some({ limit: total, remaining: Number(remaining[1]), windowSeconds })
    : Option.none()
}

/** The rate after a response: halved on 429, a step back towards the configured rate on success. */
export const nextRate = (config: RateLimit, rps: number, feedback: Feedback): number => {
  if (feedback._tag === "TooMany") return Math.max(MIN_RPS, rps / 2)
  const recovered = Math.min(config.rps, rps + config.rps * RECOVERY_STEP)
  return Option.match(feedback.quota, {
    onNone: () => recovered,
    onSome: (quota) =>
      quota.remaining >= quota.limit * LOW_QUOTA
        ? recovered
        : // Spread what is left over the window instead of running into the wall.
          Math.min(recovered, Math.max(MIN_RPS / 10, quota.remaining / quota.windowSeconds)),
  })
}

/**
 * A token bucket for one registry host. `take` reserves a slot and sleeps until it comes, so
 * concurrent callers queue fairly; `report` adapts the rate to what the host answered.
 */
export interface HostLimiter {
  readonly take: Effect.Effect<void>
  readonly report: (feedback: Feedback) => Effect.Effect<void>
}

export const makeHostLimiter = (config: RateLimit, provider: string): Effect.Effect<HostLimiter> =>
  Effect.sync(() => hostLimiter(config, provider))

/** The bucket starts full: its first `take` finds `at` at minus infinity. */
const hostLimiter = (config: RateLimit, provider: string): HostLimiter => {
  // Updates are pure functions of the state, so a plain Ref keeps them atomic.
  const state = Ref.unsafeMake<State>({ rps: config.rps, tokens: config.burst, at: -Infinity, pausedUntil: 0 })
  const waited = rateLimitWaitSeconds.pipe(Metric.tagged("provider", provider))

  // Runs before every request: a plain chain of effects, not a generator.
  const take = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.flatMap(
      Ref.modify(state, (s): [number, State] => {
        const start = Math.max(now, s.pausedUntil)
        const refilled = s.at === -Infinity ? config.burst : Math.min(config.burst, s.tokens + ((start - s.at) / 1000) * s.rps)
        const tokens = refilled - 1
        const delay = start - now + (tokens >= 0 ? 0 : (-tokens / s.rps) * 1000)
        return [delay, { ...s, tokens, at: start }]
      }),
      (wait) => (wait > 0 ? Effect.zipRight(Metric.update(waited, wait / 1000), Effect.sleep(Duration.millis(wait))) : Effect.void)
    )
  )

  const report = (feedback: Feedback) =>
    feedback._tag === "Ok"
      ? Ref.update(state, (s) => ({ ...s, rps: nextRate(config, s.rps, feedback) }))
      : Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.update(state, (s) => {
            const rps = nextRate(config, s.rps, feedback)
            const pausedUntil = Math.max(s.pausedUntil, now + Option.match(feedback.retryAfter, { onNone: () => 0, onSome: Duration.toMillis }))
            // No burst right after a 429: one request when the pause ends, then the lowered rate.
            return { ...s, rps, pausedUntil, tokens: 1, at: Math.max(s.at, pausedUntil) }
          }),
        )

  return { take, report }
}

/** One limiter per registry host, created on first use with the limits of the endpoint that used it first. */
export interface RateLimiters {
  readonly forHost: (host: string, config: RateLimit, provider: string) => Effect.Effect<HostLimiter>
}

export const makeRateLimiters: Effect.Effect<RateLimiters> = Effect.sync(() => {
  const limiters = new Map<string, HostLimiter>()
  return {
    forHost: (host, config, provider) =>
      Effect.sync(() => {
        const existing = limiters.get(host)
        if (existing !== undefined) return existing
        // Made synchronously, so two first requests to a host cannot make two limiters.
        const limiter = hostLimiter(config, provider)
        limiters.set(host, limiter)
        return limiter
      }),
  }
})
