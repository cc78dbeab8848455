import { Deferred, Duration, Effect, Exit, FiberId, Metric, Option } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import { rateLimitWaitSeconds } from "../metrics.ts"
import { monotonicMillis } from "../monotonic.ts"
import {
  type Allowance,
  type Feedback,
  HORIZON,
  type HostLimits,
  inFlightCap,
  initialAllowance,
  periodBefore,
  type RateLimit,
  refused,
  succeeded,
} from "./allowance.ts"
import { hostLimits } from "./hostLimits.ts"

export { type Feedback, parseQuota, type Quota, type RateLimit } from "./allowance.ts"

/**
 * No per-second ceiling unless the operator sets one or the registry documents one (hostLimits.ts):
 * a registry that never pushes back is listed as fast as eight requests at a time allow, and one
 * that does is slowed by its refusals and quota headers.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = {}

/** What a provider's requests to a host may do: its `rateLimit` (a store and a chart repository have none), bounded by its interval. */
export const rateLimitOf = (provider: ProviderConfig): RateLimit => ({
  ...((provider.type === "STORE" || provider.type === "HELM" ? undefined : provider.rateLimit) ?? DEFAULT_RATE_LIMIT),
  interval: provider.interval,
})

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
  /**
   * Waits until the request may go; gives the host's overload count at that moment, for `report`
   * to tell a refusal of a request sent before the host was slowed (part of that overload) from a new one.
   */
  readonly take: Effect.Effect<number>
  /** `sent`: what `take` gave for the request; Infinity takes the answer as that of a request sent now. */
  readonly report: (feedback: Feedback, sent: number) => Effect.Effect<void>
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
  // Without a rate the bucket is kept empty: a rate imposed later (a quota running low) follows a
  // burst the host has just served, so its first request waits one interval.
  if (!Number.isFinite(rps)) return [start - now, { ...s, tokens: 0, at: start }]
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
  const release = Effect.sync(leave)
  // A free place with nobody waiting is taken at once: the common case costs no Deferred.
  const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        if (waiting.length === 0 && inFlight < cap()) {
          inFlight++
          return Effect.ensuring(restore(self), release)
        }
        return Effect.flatMap(enter, (ticket) =>
          restore(Deferred.await(ticket)).pipe(
            Effect.onInterrupt(() => Effect.sync(abandon(ticket))),
            Effect.zipRight(Effect.ensuring(restore(self), release)),
          ),
        )
      }),
    )
  return { withPermit, admit }
}

/** When the successes sent since the host's last overload came back, within HORIZON. */
const makeSuccessLog = () => {
  let times: Array<number> = []
  return {
    times: (): ReadonlyArray<number> => times,
    record: (now: number) => {
      times.push(now)
      while (times.length > 0 && (times[0] ?? now) < now - HORIZON) times.shift()
    },
    clear: () => {
      times = []
    },
  }
}

const hostLimiter = (limits: HostLimits, provider: string): HostLimiter => {
  // Every update runs inside one Effect.sync, so it cannot interleave with another.
  let pacing: Pacing = { allowance: initialAllowance(limits), tokens: 0, at: -Infinity, pausedUntil: 0 }
  const successes = makeSuccessLog()
  const waited = rateLimitWaitSeconds.pipe(Metric.tagged("provider", provider))
  const gate = makeGate(() => inFlightCap(pacing.allowance))

  const sent = Effect.sync(() => pacing.allowance.overloads)

  // Runs before every request: a plain chain of effects, not a generator. A refusal that comes
  // back while a request waits may pause the host past the time it was given: it waits again.
  const take: Effect.Effect<number> = Effect.clockWith((clock) =>
    Effect.suspend(() => {
      const now = monotonicMillis(clock)
      const [wait, next] = reserve(limits, pacing, now)
      pacing = next
      if (wait <= 0) return Effect.succeed(pacing.allowance.overloads)
      return Metric.update(waited, wait / 1000).pipe(
        Effect.zipRight(Effect.sleep(Duration.millis(wait))),
        Effect.zipRight(Effect.suspend(() => (pacing.pausedUntil > now + wait ? take : sent))),
      )
    }),
  )

  const onAnswer = (feedback: Feedback, sentDuring: number, now: number) => {
    const current = pacing.allowance
    if (feedback._tag === "Ok") {
      if (sentDuring >= current.overloads) successes.record(now)
      pacing = { ...pacing, allowance: succeeded(limits, current, feedback.quota, sentDuring, now) }
      return
    }
    const pause = Option.match(feedback.retryAfter, { onNone: () => 0, onSome: Duration.toMillis })
    const pausedUntil = Math.max(pacing.pausedUntil, now + pause)
    const allowance = refused(current, periodBefore(successes.times(), current.congestion, now), sentDuring, now)
    if (allowance === current) {
      pacing = { ...pacing, pausedUntil }
      return
    }
    successes.clear()
    // The host's bucket refills during the pause: the lowered rate's worth of it goes as a burst when
    // the pause ends, and no more, since the bucket starts empty now.
    pacing = { allowance, pausedUntil, tokens: 0, at: Math.max(now, pacing.at) }
  }

  const report = (feedback: Feedback, sentDuring: number) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        onAnswer(feedback, sentDuring, monotonicMillis(clock))
        gate.admit()
      }),
    )

  return { withPermit: gate.withPermit, take, report, allowance: Effect.sync(() => pacing.allowance) }
}

/** One limiter per registry host, created on first use with the limits of the endpoint that used it first. */
export interface RateLimiters {
  /** Called where a request is built, synchronously: two first requests to a host cannot make two limiters. */
  readonly forHost: (host: string, config: RateLimit, provider: string) => HostLimiter
}

export const makeRateLimiters: Effect.Effect<RateLimiters> = Effect.sync(() => {
  const limiters = new Map<string, HostLimiter>()
  return {
    forHost: (host, config, provider) => {
      const existing = limiters.get(host)
      if (existing !== undefined) return existing
      const limiter = hostLimiter(hostLimits(host, config), provider)
      limiters.set(host, limiter)
      return limiter
    },
  }
})
