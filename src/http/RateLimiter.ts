import { Clock, Deferred, Duration, Effect, Exit, FiberId, Metric, Option } from "effect"
import { rateLimitWaitSeconds } from "../metrics.ts"
import { adjust, type Allowance, type Feedback, type HostLimits, inFlightCap, initialAllowance, type RateLimit } from "./allowance.ts"
import { hostLimits } from "./hostLimits.ts"

export { type Feedback, parseQuota, type Quota, type RateLimit } from "./allowance.ts"

/**
 * No per-second ceiling unless the operator sets one or the registry documents one (hostLimits.ts):
 * a registry that never pushes back is listed as fast as eight requests at a time allow, and one
 * that does is slowed by its refusals and quota headers.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = {}

interface Pacing {
  readonly allowance: Allowance
  /** Tokens in the bucket at `at`; negative when requests are queued behind each other. */
  readonly tokens: number
  readonly at: number
  /** No request starts before this time (a `Retry-After`). */
  readonly pausedUntil: number
}

/**
 * The requests one registry host is sent: `withPermit` holds one of the in-flight places the host
 * allows, `take` waits for the host's rate and any `Retry-After`, `report` adapts both to what the
 * host answered.
 */
export interface HostLimiter {
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly take: Effect.Effect<void>
  readonly report: (feedback: Feedback) => Effect.Effect<void>
  /** What the host gets now, for metrics and tests. */
  readonly allowance: Effect.Effect<Allowance>
}

export const makeHostLimiter = (config: RateLimit, provider: string, host = ""): Effect.Effect<HostLimiter> =>
  Effect.sync(() => hostLimiter(hostLimits(host, config), provider))

const burstAt = (limits: HostLimits, rps: number): number => (Number.isFinite(limits.burst) ? limits.burst : Math.max(1, Math.ceil(rps)))

/** How long the next request waits, and the bucket after it; the bucket starts full. */
const reserve = (limits: HostLimits, s: Pacing, now: number): [number, Pacing] => {
  const start = Math.max(now, s.pausedUntil)
  const rps = s.allowance.rps
  // Without a rate the bucket is kept nearly empty, so that a rate imposed later starts without a burst.
  if (!Number.isFinite(rps)) return [start - now, { ...s, tokens: 1, at: start }]
  const burst = burstAt(limits, rps)
  const refilled = s.at === -Infinity ? burst : Math.min(burst, s.tokens + ((start - s.at) / 1000) * rps)
  const tokens = refilled - 1
  return [start - now + (tokens >= 0 ? 0 : (-tokens / rps) * 1000), { ...s, tokens, at: start }]
}

/** In-flight places whose number changes with the allowance: waiters are let in as places free up. */
const makeGate = (cap: () => number) => {
  let inFlight = 0
  const waiting: Array<Deferred.Deferred<void>> = []
  const admit = () => {
    while (inFlight < cap() && waiting.length > 0) {
      const next = waiting.shift()
      if (next === undefined) break
      inFlight++
      Deferred.unsafeDone(next, Exit.void)
    }
  }
  const enter = Effect.sync(() => {
    const ticket = Deferred.unsafeMake<void>(FiberId.none)
    waiting.push(ticket)
    admit()
    return ticket
  })
  const leave = () => {
    inFlight--
    admit()
  }
  const abandon = (ticket: Deferred.Deferred<void>) => () => {
    const at = waiting.indexOf(ticket)
    if (at === -1) leave()
    else waiting.splice(at, 1)
  }
  const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(enter, (ticket) =>
        restore(Deferred.await(ticket)).pipe(
          Effect.onInterrupt(() => Effect.sync(abandon(ticket))),
          Effect.zipRight(restore(self).pipe(Effect.ensuring(Effect.sync(leave)))),
        ),
      ),
    )
  return { withPermit, admit }
}

const hostLimiter = (limits: HostLimits, provider: string): HostLimiter => {
  // Every update runs inside one Effect.sync, so it cannot interleave with another.
  let pacing: Pacing = { allowance: initialAllowance(limits), tokens: 0, at: -Infinity, pausedUntil: 0 }
  const waited = rateLimitWaitSeconds.pipe(Metric.tagged("provider", provider))
  const gate = makeGate(() => inFlightCap(pacing.allowance))

  // Runs before every request: a plain chain of effects, not a generator.
  const take = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.flatMap(
      Effect.sync(() => {
        const [wait, next] = reserve(limits, pacing, now)
        pacing = next
        return wait
      }),
      (wait) => (wait > 0 ? Effect.zipRight(Metric.update(waited, wait / 1000), Effect.sleep(Duration.millis(wait))) : Effect.void),
    ),
  )

  const report = (feedback: Feedback) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const allowance = adjust(limits, pacing.allowance, feedback)
        if (feedback._tag === "Ok") pacing = { ...pacing, allowance }
        else {
          const pause = Option.match(feedback.retryAfter, { onNone: () => 0, onSome: Duration.toMillis })
          const pausedUntil = Math.max(pacing.pausedUntil, now + pause)
          // No burst right after a refusal: one request when the pause ends, then the lowered rate.
          pacing = { allowance, pausedUntil, tokens: 1, at: Math.max(pacing.at, pausedUntil) }
        }
        gate.admit()
      }),
    )

  return { withPermit: gate.withPermit, take, report, allowance: Effect.sync(() => pacing.allowance) }
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
        const limiter = hostLimiter(hostLimits(host, config), provider)
        limiters.set(host, limiter)
        return limiter
      }),
  }
})
