import { type Duration, Option } from "effect"
import type { RateLimit as ProviderRateLimit } from "../domain/ProviderConfig.ts"

/**
 * What the operator or a registry's documentation allows a host: at most `concurrency` requests
 * in flight, and, only when `rps` is set, a per-second ceiling with bursts of `burst`.
 */
export interface RateLimit extends ProviderRateLimit {
  /** The provider's interval: the longest a registry's quota headers may hold one request back. */
  readonly interval?: Duration.Duration
}

/** The limits in force for a host once defaults are applied; `rps` is Infinity when there is no ceiling. */
export interface HostLimits {
  readonly rps: number
  readonly burst: number
  readonly concurrency: number
  /** The longest a quota header may hold one request back, in ms; DEFAULT_LONGEST_QUOTA_WAIT when absent. */
  readonly longestQuotaWait?: number
}

/** Without a provider's interval to go by, the default interval: five minutes. */
export const DEFAULT_LONGEST_QUOTA_WAIT = 5 * 60_000

/** What a host gets now: its limits, lowered by refusals and low quotas. */
export interface Allowance {
  /** Requests per second; Infinity while the host has no ceiling. */
  readonly rps: number
  /** Requests in flight; fractional so that recovery can be gradual. */
  readonly concurrency: number
  /** Requests the host's last quota header said were left; Infinity when it sent none. */
  readonly quotaLeft: number
  /**
   * Overloads so far. A request is sent in the overload count of its time: refused, it belongs to a
   * new overload only if none began since it was sent; the others were already under way.
   */
  readonly overloads: number
  /** The host's last overload and what it had let through before it; none once forgotten. */
  readonly congestion: Option.Option<Congestion>
}

/** One overload of a host: what the host let through in the period before it is the rate it sustains. */
export interface Congestion {
  /** When its first refusal came back, in ms. */
  readonly at: number
  /** Requests sent in the period before `at` that succeeded, those answered after it included. */
  readonly successes: number
  /** The period's length in ms, never less than MIN_SPAN. */
  readonly span: number
  /** The rate the host had when it refused. */
  readonly before: number
}

/** What a response said about the host's limits. */
export type Feedback =
  | { readonly _tag: "Ok"; readonly quota: Option.Option<Quota> }
  | { readonly _tag: "TooMany"; readonly retryAfter: Option.Option<Duration.Duration> }

/** Docker Hub's `ratelimit-limit: 100;w=21600` with `ratelimit-remaining: 76;w=21600`, or the `X-RateLimit-*` trio. */
export interface Quota {
  readonly limit: number
  readonly remaining: number
  readonly windowSeconds: number
}

/** A host that never pushes back is listed this many requests at a time. */
export const DEFAULT_CONCURRENCY = 8

/** The slowest a refusal can push a host: one request every ten seconds. */
const MIN_RPS = 0.1
/** After a refusal, concurrency and rate grow back by this share of their limit (the rate: of its ceiling now) per successful request. */
const RECOVERY_STEP = 0.05
/** Below this share of its quota left, a host is held to the quota's own pace. */
const LOW_QUOTA = 0.2
/** A tenth below the quota's own pace, so that timer jitter does not land requests on an empty bucket. */
const QUOTA_PACE = 0.9
/** Right after a refusal, this share of what the host sustained, so that the bucket it drained refills a little. */
const REFUSED_PACE = 0.9
/** Recovery approaches this share of what the host sustained, never the rate it refused at. */
const RECOVERED_PACE = 0.95
/**
 * A rate limit is stated per second or longer: successes bunched into less than a second (a
 * burst) say how much the host lets through in a second, not how fast it does so.
 */
const MIN_SPAN = 1000
/** Successes further back than this say nothing about the host's rate now. */
export const HORIZON = 30_000
/** After this long without a refusal, the ceiling learned from it starts to grow: the limit may have been raised. */
const HOLD = 10_000
/** Growth of that ceiling per second once held. */
const GROWTH = 1.1
/** After this long without a refusal, the host is treated as one that never pushed back. */
const FORGET = 60_000

export const initialAllowance = (limits: HostLimits): Allowance => ({
  rps: limits.rps,
  concurrency: limits.concurrency,
  quotaLeft: Infinity,
  overloads: 0,
  congestion: Option.none(),
})

/** Requests that may be in flight now: never more than the quota has left, never fewer than one. */
export const inFlightCap = (allowance: Allowance): number => Math.max(1, Math.floor(Math.min(allowance.concurrency, allowance.quotaLeft)))

const QUOTA_RE = /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/

/** `X-RateLimit-Reset` is seconds from now, or (GitHub, GitLab) an epoch time in seconds. */
const secondsUntil = (reset: string | undefined, nowMillis: number): number => {
  const value = Number(reset ?? "")
  if (!Number.isFinite(value) || value <= 0) return 0
  return value > 1_000_000_000 ? value - nowMillis / 1000 : value
}

/** Reads `ratelimit-limit`/`-remaining` (window `;w=` or `ratelimit-reset`), else the `x-ratelimit-*` trio; none when garbled. */
export const parseQuota = (headers: Readonly<Record<string, string>>, nowMillis = 0): Option.Option<Quota> => {
  const prefix = headers["ratelimit-remaining"] !== undefined ? "ratelimit-" : "x-ratelimit-"
  const limit = QUOTA_RE.exec(headers[`${prefix}limit`] ?? "")
  const remaining = QUOTA_RE.exec(headers[`${prefix}remaining`] ?? "")
  if (limit === null || remaining === null) return Option.none()
  const windowSeconds = Number(limit[2] ?? remaining[2] ?? "0") || secondsUntil(headers[`${prefix}reset`], nowMillis)
  const total = Number(limit[1])
  return total > 0 && windowSeconds > 0
    ? Option.some({ limit: total, remaining: Number(remaining[1]), windowSeconds })
    : Option.none()
}

/**
 * The period an overload ends at `now`: since the previous overload if it is recent (the host's
 * bucket was empty then and is empty now, so what got through is what it refilled), else since
 * the first success within HORIZON. `answered` are when the successes sent since the previous
 * overload came back.
 */
export const periodBefore = (answered: ReadonlyArray<number>, previous: Option.Option<Congestion>, now: number): { successes: number; span: number } => {
  const recent = Option.filter(previous, (c) => c.at >= now - HORIZON)
  const from = Option.match(recent, { onNone: () => now - HORIZON, onSome: (c) => c.at })
  const inPeriod = answered.filter((t) => t >= from && t <= now)
  const start = Option.isSome(recent) ? from : inPeriod.reduce((first, t) => Math.min(first, t), now)
  return { successes: inPeriod.length, span: Math.max(MIN_SPAN, now - start) }
}

/** What an overload says the host sustains, in requests per second; with no success to go by, half the rate it refused at. */
const sustained = (c: Congestion): number => (c.successes > 0 ? (c.successes * 1000) / c.span : c.before / 2)

/** The rate right after an overload: a little under what the host sustained, and no faster than before it. */
const pacedAfter = (c: Congestion): number => {
  const rate = Math.min(c.before, REFUSED_PACE * sustained(c))
  return Number.isFinite(rate) ? Math.max(MIN_RPS, rate) : rate
}

/** The most that recovery gives a host now: held just under what it sustained, then growing, then forgotten. */
const ceilingAt = (limits: HostLimits, congestion: Option.Option<Congestion>, now: number): number =>
  Option.match(congestion, {
    onNone: () => limits.rps,
    onSome: (c) => {
      const quiet = now - c.at
      if (quiet > FORGET) return limits.rps
      const growth = Math.pow(GROWTH, Math.max(0, quiet - HOLD) / 1000)
      return Math.min(limits.rps, Math.max(pacedAfter(c), RECOVERED_PACE * sustained(c) * growth))
    },
  })

/**
 * A refusal of a request sent during overload `sentIn`. The first of an overload paces the host a
 * little under what it sustained in `period` (not a blind halving, which leaves a host without a
 * ceiling without one and undershoots one with a ceiling) and halves its concurrency; the
 * others, sent before it took effect, change nothing.
 */
export const refused = (
  current: Allowance,
  period: { readonly successes: number; readonly span: number },
  sentIn: number,
  now: number,
): Allowance => {
  if (sentIn < current.overloads) return current
  const congestion: Congestion = { at: now, successes: period.successes, span: period.span, before: current.rps }
  return {
    rps: pacedAfter(congestion),
    concurrency: Math.max(1, current.concurrency / 2),
    quotaLeft: current.quotaLeft,
    overloads: current.overloads + 1,
    congestion: Option.some(congestion),
  }
}

/** The rate after a success: a step nearer the ceiling, or, answering a request sent before the last overload, what that overload now says. */
const recovered = (limits: HostLimits, current: Allowance, late: boolean, now: number): Pick<Allowance, "rps" | "congestion"> => {
  if (late) {
    const congestion = Option.map(current.congestion, (c) => ({ ...c, successes: c.successes + 1 }))
    const after = Option.match(congestion, { onNone: () => current.rps, onSome: pacedAfter })
    return { rps: Math.min(ceilingAt(limits, congestion, now), Math.max(current.rps, after)), congestion }
  }
  const congestion = Option.filter(current.congestion, (c) => now - c.at <= FORGET)
  const ceiling = ceilingAt(limits, congestion, now)
  return { rps: Number.isFinite(ceiling) ? Math.min(ceiling, current.rps + ceiling * RECOVERY_STEP) : ceiling, congestion }
}

/**
 * The pace a quota running low holds a host to: just under limit per window, but never slower than
 * one request per longestQuotaWait. The headers are the registry's to write: a window of years
 * (`ratelimit-limit: 1;w=100000000`) would otherwise hold the host's next request back for years.
 */
export const quotaPace = (limits: HostLimits, q: Quota): number =>
  Math.max((QUOTA_PACE * q.limit) / q.windowSeconds, 1000 / (limits.longestQuotaWait ?? DEFAULT_LONGEST_QUOTA_WAIT))

/**
 * A success of a request sent during overload `sentIn`. Sent before the last overload, it counts
 * towards what the host sustained then. Concurrency and rate grow back a step at a time, the rate
 * no higher than ceilingAt; a quota running low holds the host just under the quota's own pace
 * (limit per window, which a token bucket refills at and a fixed window allows on average) before
 * the registry has to refuse (quotaPace), and caps requests in flight at what is left.
 */
export const succeeded = (limits: HostLimits, current: Allowance, quota: Option.Option<Quota>, sentIn: number, now: number): Allowance => {
  const { rps, congestion } = recovered(limits, current, sentIn === current.overloads - 1, now)
  const concurrency = Math.min(limits.concurrency, current.concurrency + limits.concurrency * RECOVERY_STEP)
  const base = { concurrency, overloads: current.overloads, congestion }
  return Option.match(quota, {
    onNone: () => ({ ...base, rps, quotaLeft: Infinity }),
    onSome: (q) => ({
      ...base,
      rps: q.remaining >= q.limit * LOW_QUOTA ? rps : Math.min(rps, quotaPace(limits, q)),
      quotaLeft: q.remaining,
    }),
  })
}
