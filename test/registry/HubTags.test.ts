/** Docker Hub's push times through its web API, from a stand-in of that API on loopback. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either } from "effect"
import { createServer, type Server } from "node:http"
import { parseImageRef } from "../../src/domain/ImageRef.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { providerConfig } from "../support/config.ts"
import { listenOnLoopback } from "../support/listen.ts"
import { tempDir } from "../support/runner.ts"
import { tagSourcesLayer } from "../support/layers.ts"

let server: Server
let stop: () => Promise<void> = async () => {}
let base = ""
const requests: Array<string> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "")
    const url = new URL(req.url ?? "/", "http://x")
    res.setHeader("content-type", "application/json")
    if (url.pathname === "/v2/namespaces/library/repositories/nginx/tags" && url.searchParams.get("page") === null) {
      res.end(JSON.stringify({ next: `${base}/v2/namespaces/library/repositories/nginx/tags?page_size=100&page=2`, results: [
        { name: "1.27.3", tag_last_pushed: "2024-11-26T18:24:49.000Z" },
        { name: "1.27.2", tag_last_pushed: null }
      ] }))
    } else if (url.pathname === "/v2/namespaces/library/repositories/nginx/tags") {
      res.end(JSON.stringify({ next: null, results: [{ name: "1.26.0", tag_last_pushed: "2024-04-23T12:00:00Z" }] }))
    } else if (url.pathname === "/v2/namespaces/org/repositories/hop/tags") {
      res.end(JSON.stringify({ next: "http://elsewhere.example/v2/x", results: [] }))
    } else {
      res.statusCode = 404
      res.end(JSON.stringify({ message: "object not found" }))
    }
  })
  const listening = await listenOnLoopback(server)
  base = listening.url
  stop = listening.stop
}, SERVER_HOOK_TIMEOUT)

afterAll(() => stop(), SERVER_HOOK_TIMEOUT)

const pushTimes = (image: string) =>
  Effect.runPromise(
    Effect.flatMap(TagSource, (source) =>
      Effect.either(source.pushTimes(providerConfig({ name: "hub", type: "DOCKER_HUB", endpoint: base }), Either.getOrThrow(parseImageRef(image))))
    ).pipe(
      Effect.provide(tagSourcesLayer(tempDir("runner-hub-"))),
      Effect.provide(FetchHttpClient.layer),
      Effect.provide(NodeContext.layer)
    )
  )

describe("Docker Hub's push times", () => {
  test("every page, tags without a push time left out", async () => {
    const times = await pushTimes("nginx")
    expect(Either.map(times, (m) => Object.fromEntries([...m].map(([tag, at]) => [tag, at.toISOString()])))).toEqual(
      Either.right({ "1.27.3": "2024-11-26T18:24:49.000Z", "1.26.0": "2024-04-23T12:00:00.000Z" })
    )
    expect(requests.filter((r) => r.includes("library/repositories/nginx"))).toEqual([
      "/v2/namespaces/library/repositories/nginx/tags?page_size=100",
      "/v2/namespaces/library/repositories/nginx/tags?page_size=100&page=2"
    ])
  })

  test("a next page on another host is refused", async () => {
    const times = await pushTimes("org/hop")
    expect(Either.isLeft(times) && times.left.message).toContain("next page is on another host")
  })

  test("an image the API does not know (a private one) is an error the gate falls back from", async () => {
    const times = await pushTimes("org/private")
    expect(Either.isLeft(times) && times.left.message).toContain("404")
  })

  test("other providers have no push times to add", async () => {
    const other = await Effect.runPromise(
      Effect.flatMap(TagSource, (source) => source.pushTimes(providerConfig({ name: "r" }), Either.getOrThrow(parseImageRef("ghcr.io/org/app")))).pipe(
        Effect.provide(tagSourcesLayer(tempDir("runner-hub-"))),
        Effect.provide(FetchHttpClient.layer),
        Effect.provide(NodeContext.layer)
      )
    )
    expect(other.size).toBe(0)
  })
})
