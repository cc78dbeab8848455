import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { type BucketProxy, listThrough, startBucketProxy, startStubRegistry, type StubRegistry } from "../support/tokenBucket.ts"

/** A registry behind a 20 requests/s bucket with bursts of 20: 60 listings cannot take less than (60 - 20) / 20 = 2 s. */
const RPS = 20
const BURST = 20
const REPOSITORIES = 60
const IDEAL_MS = ((REPOSITORIES - BURST) / RPS) * 1000

describe("a registry that enforces a token bucket", () => {
  let registry: StubRegistry
  let proxy: BucketProxy
  beforeAll(async () => {
    registry = await startStubRegistry()
    proxy = await startBucketProxy(registry.url, RPS, BURST)
  }, SERVER_HOOK_TIMEOUT)
  afterAll(async () => {
    await proxy.stop()
    await registry.stop()
  }, SERVER_HOOK_TIMEOUT)

  // The goal is 5% refused at most; 3% leaves room for timer jitter (the first overload alone costs
  // up to one refusal per request in flight).
  test("is listed within 1.3x of the bucket's ideal time, with at most 3% of requests refused", async () => {
    const elapsed = await listThrough(proxy.url, REPOSITORIES)
    const total = proxy.passed() + proxy.refused()
    const ratio = elapsed / IDEAL_MS
    process.stderr.write(`token bucket ${RPS}/s burst ${BURST}: ${elapsed.toFixed(0)} ms, x${ratio.toFixed(2)} of ideal, ${proxy.refused()} of ${total} refused\n`)
    expect(ratio).toBeLessThanOrEqual(1.3)
    expect(proxy.refused() / total).toBeLessThanOrEqual(0.03)
  }, 20_000)
})

describe("a registry that never pushes back", () => {
  let registry: StubRegistry
  beforeAll(async () => {
    registry = await startStubRegistry(20)
  }, SERVER_HOOK_TIMEOUT)
  afterAll(async () => {
    await registry.stop()
  }, SERVER_HOOK_TIMEOUT)

  test("is listed at full concurrency: eight requests in flight at the server", async () => {
    await listThrough(registry.url, 40)
    expect(registry.maxInFlight()).toBe(8)
  })

  test("the operator's concurrency is what the server sees", async () => {
    const other = await startStubRegistry(20)
    try {
      await listThrough(other.url, 20, { concurrency: 3 })
      expect(other.maxInFlight()).toBe(3)
    } finally {
      await other.stop()
    }
  })
})
