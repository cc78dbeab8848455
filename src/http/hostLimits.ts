import { Duration } from "effect"
import { DEFAULT_CONCURRENCY, type HostLimits, type RateLimit } from "./allowance.ts"

/** A per-second ceiling a registry documents, and the hosts it applies to. */
interface Documented {
  readonly hosts: (host: string) => boolean
  readonly rps: number
  readonly burst: number
}

/**
 * Registries whose request limits are published (the README lists the sources). Pull quotas that
 * registries report in headers (Docker Hub's `ratelimit-*`) are followed as they arrive instead.
 */
const DOCUMENTED: ReadonlyArray<Documented> = [
  // Docker Hub: an overall abuse limit per IP "in the order of thousands of requests per minute";
  // the lower end of that, 1,000 a minute.
  { hosts: (host) => ["registry-1.docker.io", "index.docker.io", "auth.docker.io", "hub.docker.com"].includes(host), rps: 16, burst: 16 },
  // Container Registry: 50,000 HTTP requests every 10 minutes per client IP.
  { hosts: (host) => host === "gcr.io" || host.endsWith(".gcr.io"), rps: 80, burst: 80 },
  // Artifact Registry: 60,000 requests a minute per project and region.
  { hosts: (host) => host.endsWith("-docker.pkg.dev"), rps: 1000, burst: 1000 },
]

const hostname = (host: string): string => host.replace(/:\d+$/, "").toLowerCase()

/** The documented ceiling of a host, if its registry publishes one. */
export const documentedLimit = (host: string): { readonly rps: number; readonly burst: number } | undefined => {
  const name = hostname(host)
  const found = DOCUMENTED.find((entry) => entry.hosts(name))
  return found === undefined ? undefined : { rps: found.rps, burst: found.burst }
}

/**
 * The operator's limits win; then the registry's documented ceiling; otherwise concurrency alone.
 * The provider's interval bounds how long quota headers may hold a request back.
 */
export const hostLimits = (host: string, config: RateLimit): HostLimits => {
  const concurrency = Math.max(1, Math.floor(config.concurrency ?? DEFAULT_CONCURRENCY))
  const wait = config.interval === undefined ? {} : { longestQuotaWait: Duration.toMillis(config.interval) }
  if (config.rps !== undefined) return { rps: config.rps, burst: config.burst ?? Math.max(1, Math.ceil(config.rps)), concurrency, ...wait }
  const documented = documentedLimit(host)
  return documented === undefined ? { rps: Infinity, burst: Infinity, concurrency, ...wait } : { ...documented, concurrency, ...wait }
}
