/**
 * Requests and wall time to list 200 images on one registry host with `rateLimit: {rps: 10}`,
 * through the runner's own registry client, against a real `docker-registry` on loopback.
 * Run: bun bench/registry-rate.ts
 */
import { FetchHttpClient } from "@effect/platform"
import { Effect } from "effect"
import { RegistryClient } from "../src/registry/RegistryClient.ts"
import { startPagingProxy, startRegistry } from "../test/support/registry.ts"
import { testEndpoint } from "../test/support/endpoint.ts"
import { registryClientLayer } from "../test/support/layers.ts"

const IMAGES = 200
const RPS = 10
const BURST = 10

const registry = await startRegistry()
try {
  for (let i = 0; i < IMAGES; i++) await registry.pushImage(`bench/app-${i}`, "1.0.0")
  // The proxy only counts here: pages are larger than any list.
  const proxy = await startPagingProxy(registry, 1000)
  try {
    const list = RegistryClient.pipe(
      Effect.flatMap((client) =>
        Effect.forEach(
          Array.from({ length: IMAGES }, (_, i) => i),
          (i) =>
            client.listTags(testEndpoint(proxy.url, `bench/app-${i}`, { provider: "bench", rateLimit: { rps: RPS, burst: BURST } })),
          { concurrency: 16 },
        ),
      ),
      Effect.provide(registryClientLayer),
      Effect.provide(FetchHttpClient.layer),
    )
    const started = performance.now()
    const listed = await Effect.runPromise(list)
    const seconds = (performance.now() - started) / 1000
    const floor = (IMAGES - BURST) / RPS
    process.stdout.write(
      [
        `images listed:       ${listed.length} (${listed.filter((tags) => tags.length === 1).length} with their tag)`,
        `registry requests:   ${proxy.requests.length}`,
        `wall time:           ${seconds.toFixed(2)} s (the limit allows no less than ${floor.toFixed(1)} s)`,
        `effective rate:      ${(proxy.requests.length / seconds).toFixed(2)} requests/s with rps ${RPS}, burst ${BURST}`,
      ].join("\n") + "\n",
    )
  } finally {
    await proxy.stop()
  }
} finally {
  await registry.stop()
}
