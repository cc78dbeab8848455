/**
 * 100 listings through the runner's own registry client against a registry behind a token bucket
 * of 10 requests/s with bursts of 10 that refuses with 429 and `Retry-After` past it. The lower
 * bound is the bucket's ideal time, (100 - 10) / 10 = 9 s.
 * Alone: bun bench/tokenBucket.ts [--runs N]
 */
import { listThrough, startBucketProxy, startStubRegistry } from "../test/support/tokenBucket.ts"

const REPOSITORIES = 100
const RPS = 10
const BURST = 10
export const TOKEN_BUCKET_IDEAL_MS = ((REPOSITORIES - BURST) / RPS) * 1000

export interface BucketRun {
  readonly ms: number
  readonly refused: number
  readonly requests: number
}

/** One run on fresh servers, so that each starts with a full bucket. */
export const tokenBucketRun = async (): Promise<BucketRun> => {
  const registry = await startStubRegistry()
  const proxy = await startBucketProxy(registry.url, RPS, BURST)
  try {
    const ms = await listThrough(proxy.url, REPOSITORIES)
    return { ms, refused: proxy.refused(), requests: proxy.refused() + proxy.passed() }
  } finally {
    await proxy.stop()
    await registry.stop()
  }
}

if (import.meta.main) {
  const at = process.argv.indexOf("--runs")
  const runs = at === -1 ? 1 : Number(process.argv[at + 1])
  for (let i = 0; i < runs; i++) {
    const run = await tokenBucketRun()
    console.log(`${run.ms.toFixed(0)} ms, x${(run.ms / TOKEN_BUCKET_IDEAL_MS).toFixed(2)} of the ideal ${TOKEN_BUCKET_IDEAL_MS} ms; ${run.refused} of ${run.requests} requests refused (${((100 * run.refused) / run.requests).toFixed(1)}%)`)
  }
}
