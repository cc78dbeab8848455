import { type Duration, Option } from "effect"

/**
 * What the operator or a registry's documentation allows a host: at most `concurrency` requests
 * in flight, and, only when `rps` is set, a per-second ceiling with bursts of `burst`.
 */
export interface RateLimit {
  readonly rps?: number
  readonly burst?: number
  readonly concurrency?: number
}

/** The limits in force for a host once defaults are applied; `rps` is Infinity when there is no ceiling. */
export interface HostLimits {
  readonly rps: number
  readonly burst: number
  readonly concurrency: number
}

/** What a host gets now: its limits, lowered by refusals and low quotas. */
export interface Allowance {
  /** Requests per second; Infinity while the host has no ceiling. */
  readonly rps: number
  /** Requests in flight; fractional so that recovery can be gradual. */
  readonly concurrency: number
  /** Requests the host's last quota header said were left; Infinity when it sent none. */
  readonly quotaLeft: number
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

/** The slowest a refusal can push a host with a rate: one request every ten seconds. */
const MIN_RPS = 0.1
/** After a refusal, rate and concurrency grow back by this share of their limit per successful request. */
const RECOVERY_STEP = 0.05
/** Below this share of its quota left, a host is held to the quota's own pace. */
const LOW_QUOTA = 0.2
/** A tenth below the quota's own pace, so that timer jitter does not land requests on an empty bucket. */
const QUOTA_PACE = 0.9

export const initialAllowance = (limits: HostLimits): Allowance => ({ rps: limits.rps, concurrency: limits.concurrency, quotaLeft: Infinity })

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
 * The allowance after a response. A refusal halves concurrency and any rate; success grows both
 * back a step at a time; a quota running low holds the host just under the quota's own pace (limit per
 * window, which a token bucket refills at and a fixed window allows on average) before the
 * registry has to refuse, and caps requests in flight at what is left.
 */
export const adjust = (limits: HostLimits, current: Allowance, feedback: Feedback): Allowance => {
  if (feedback._tag === "TooMany") {
    return {
      rps: Number.isFinite(current.rps) ? Math.max(MIN_RPS, current.rps / 2) : current.rps,
      concurrency: Math.max(1, current.concurrency / 2),
      quotaLeft: current.quotaLeft,
    }
  }
  const concurrency = Math.min(limits.concurrency, current.concurrency + limits.concurrency * RECOVERY_STEP)
  const recovered = Number.isFinite(limits.rps) ? Math.min(limits.rps, current.rps + limits.rps * RECOVERY_STEP) : limits.rps
  return Option.match(feedback.quota, {
    onNone: () => ({ rps: recovered, concurrency, quotaLeft: Infinity }),
    onSome: (quota) => ({
      rps: quota.remaining >= quota.limit * LOW_QUOTA ? recovered : Math.min(recovered, (QUOTA_PACE * quota.limit) / quota.windowSeconds),
      concurrency,
      quotaLeft: quota.remaining,
    }),
  })
}
