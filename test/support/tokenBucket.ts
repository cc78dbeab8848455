import { FetchHttpClient } from "@effect/platform"
import { Effect } from "effect"
import { createServer } from "node:http"
import type { RateLimit } from "../../src/http/RateLimiter.ts"
import { RegistryClient } from "../../src/registry/RegistryClient.ts"
import { type Listening, listenOnLoopback } from "./listen.ts"
import { testEndpoint } from "./endpoint.ts"
import { registryClientLayer } from "./layers.ts"

/** A stub registry serving one tag per repository, counting the requests it has in flight at once. */
export interface StubRegistry extends Listening {
  readonly maxInFlight: () => number
  readonly served: () => number
}

export const startStubRegistry = async (latencyMs = 5): Promise<StubRegistry> => {
  let inFlight = 0
  let maxInFlight = 0
  let served = 0
  const server = createServer((req, res) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    // A little latency, so that concurrent requests overlap at the server as they would on a network.
    setTimeout(() => {
      inFlight--
      served++
      const match = /^\/v2\/(.+)\/tags\/list/.exec(req.url ?? "")
      const body = match === null ? "{}" : JSON.stringify({ name: match[1], tags: ["1.0.0"] })
      res.writeHead(200, { "content-type": "application/json" }).end(body)
    }, latencyMs)
  })
  const listening = await listenOnLoopback(server)
  return { ...listening, maxInFlight: () => maxInFlight, served: () => served }
}

/** A proxy enforcing a token bucket: past it, 429 with `Retry-After`; every answer carries `RateLimit-*` headers. */
export interface BucketProxy extends Listening {
  readonly refused: () => number
  readonly passed: () => number
}

export const startBucketProxy = async (upstream: string, rps: number, burst: number): Promise<BucketProxy> => {
  let tokens = burst
  let at = performance.now()
  let refused = 0
  let passed = 0
  // The window the whole bucket takes to refill, which is what `w=` announces.
  const window = Math.max(1, Math.round(burst / rps))
  const server = createServer((req, res) => {
    const now = performance.now()
    tokens = Math.min(burst, tokens + ((now - at) / 1000) * rps)
    at = now
    if (tokens < 1) {
      refused++
      const retryAfter = Math.ceil((1 - tokens) / rps)
      res.writeHead(429, { "retry-after": String(retryAfter), "ratelimit-limit": `${burst};w=${window}`, "ratelimit-remaining": `0;w=${window}` }).end()
      return
    }
    tokens -= 1
    passed++
    const remaining = Math.floor(tokens)
    fetch(upstream + (req.url ?? "/")).then(
      async (answer) => {
        const body = await answer.text()
        res
          .writeHead(answer.status, { "content-type": "application/json", "ratelimit-limit": `${burst};w=${window}`, "ratelimit-remaining": `${remaining};w=${window}` })
          .end(body)
      },
      () => res.writeHead(502).end(),
    )
  })
  const listening = await listenOnLoopback(server)
  return { ...listening, refused: () => refused, passed: () => passed }
}

/** Lists `count` repositories through the runner's own RegistryClient, all at once; resolves to the wall time in ms. */
export const listThrough = async (url: string, count: number, rateLimit: RateLimit = {}): Promise<number> => {
  const list = RegistryClient.pipe(
    Effect.flatMap((client) =>
      Effect.forEach(
        Array.from({ length: count }, (_, i) => i),
        (i) =>
          client.listTags(testEndpoint(url, `team/app-${i}`, { provider: "bench", rateLimit })),
        { concurrency: "unbounded" },
      ),
    ),
    Effect.provide(registryClientLayer),
    Effect.provide(FetchHttpClient.layer),
  )
  const started = performance.now()
  const listed = await Effect.runPromise(list)
  const elapsed = performance.now() - started
  if (listed.length !== count || listed.some((tags) => tags.length !== 1)) throw new Error(`listed ${listed.length} of ${count} repositories`)
  return elapsed
}
