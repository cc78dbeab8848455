/** Compressed answers: inflated by us, capped, and never written to stderr by the runtime. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either } from "effect"
import { createServer } from "node:http"
import { createGzip, deflateSync, gzipSync } from "node:zlib"
import type { RegistryError } from "../../src/domain/RegistryError.ts"
import { MAX_BODY_BYTES } from "../../src/http/body.ts"
import type { RegistryEndpoint } from "../../src/registry/endpoint.ts"
import { RegistryClient } from "../../src/registry/RegistryClient.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"
import { testEndpoint } from "../support/endpoint.ts"
import { registryClientLayer } from "../support/layers.ts"

const GIB = 1024 * 1024 * 1024

/** A gzip member that inflates to `size` zero bytes, built without holding them. */
const zerosGzip = async (size: number): Promise<Buffer> => {
  const gzip = createGzip({ level: 9 })
  const parts: Array<Buffer> = []
  gzip.on("data", (part: Buffer) => parts.push(part))
  const chunk = Buffer.alloc(1024 * 1024)
  for (let written = 0; written < size; written += chunk.length) gzip.write(chunk)
  await new Promise<void>((resolve) => gzip.end(resolve))
  return Buffer.concat(parts)
}

const tagList = (repository: string) => JSON.stringify({ name: repository, tags: ["1.0.0", "1.1.0"] })

const endpoint = (url: string, repository: string): RegistryEndpoint => testEndpoint(url, repository)

const list = (url: string, repository: string): Promise<Either.Either<ReadonlyArray<string>, RegistryError>> =>
  Effect.runPromise(
    RegistryClient.pipe(
      Effect.flatMap((client) => Effect.either(client.listTags(endpoint(url, repository)))),
      Effect.map(Either.map((infos) => infos.map((info) => info.tag))),
      Effect.provide(registryClientLayer),
      Effect.provide(FetchHttpClient.layer),
    ),
  )

const expectError = (result: Either.Either<unknown, RegistryError>): RegistryError => {
  if (Either.isRight(result)) throw new Error(`expected an error, got ${JSON.stringify(result.right)}`)
  return result.left
}

describe("compressed answers", () => {
  let server: Listening
  let bomb: Buffer
  const requests = new Map<string, number>()
  const acceptEncoding: Array<string> = []
  beforeAll(async () => {
    bomb = await zerosGzip(GIB)
    server = await listenOnLoopback(
      createServer((req, res) => {
        const repository = (req.url ?? "").split("/")[2] ?? ""
        requests.set(repository, (requests.get(repository) ?? 0) + 1)
        acceptEncoding.push(req.headers["accept-encoding"] ?? "")
        const send = (encoding: string, body: Buffer | string) => {
          res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding })
          res.end(body)
        }
        if (repository === "bomb") return send("gzip", bomb)
        if (repository === "gzipped") return send("gzip", gzipSync(tagList(repository)))
        if (repository === "deflated") return send("deflate", deflateSync(tagList(repository)))
        if (repository === "broken") return send("gzip", "this is not gzip at all")
        if (repository === "brotli") return send("br", "whatever")
        res.writeHead(404).end()
      }),
    )
  }, SERVER_HOOK_TIMEOUT)
  afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

  test("a gzip bomb fails cleanly at the cap, after one request, without inflating the bomb", async () => {
    Bun.gc(true)
    const before = process.memoryUsage.rss()
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5)
    const started = performance.now()
    const result = await list(server.url, "bomb")
    const elapsed = performance.now() - started
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage.rss())
    const error = expectError(result)
    expect(error.reason).toBe("Protocol")
    expect(error.message).toContain(`larger than ${MAX_BODY_BYTES / (1024 * 1024)} MiB once inflated (gzip)`)
    expect(requests.get("bomb")).toBe(1)
    const growth = (peak - before) / (1024 * 1024)
    console.log(`gzip bomb (${bomb.length} bytes inflating to 1 GiB): peak RSS growth ${growth.toFixed(1)} MiB, ${elapsed.toFixed(0)} ms, ${requests.get("bomb")} request(s)`)
    // The cap and its chunks, not the gigabyte.
    expect(growth).toBeLessThan(256)
  }, 30_000)

  test.each(["gzipped", "deflated"])("a %s tag list is read, and we asked for the encodings we read", async (repository) => {
    expect(Either.getOrThrow(await list(server.url, repository))).toEqual(["1.0.0", "1.1.0"])
    expect(acceptEncoding.at(-1)).toBe("gzip, deflate")
  })

  test.each([
    ["broken", "not valid gzip"],
    ["brotli", "an encoding we did not ask for"],
  ])("a %s body is a Protocol error, asked for once", async (repository, words) => {
    const error = expectError(await list(server.url, repository))
    expect(error.reason).toBe("Protocol")
    expect(error.message).toContain(words)
    expect(requests.get(repository)).toBe(1)
  })

  test("a body that is not the gzip it claims writes nothing to stderr", async () => {
    const script = `
      import { FetchHttpClient } from "@effect/platform"
      import { Effect, Option } from "effect"
      import { RegistryClient } from ${JSON.stringify(`${import.meta.dir}/../../src/registry/RegistryClient.ts`)}
      import { registryClientLayer } from ${JSON.stringify(`${import.meta.dir}/../support/layers.ts`)}
      const endpoint = { baseUrl: ${JSON.stringify(server.url)}, provider: "t", registry: "r", repository: "broken",
        credentials: Option.none(), renewCredentials: Option.none(), insecure: false, caCert: Option.none(),
        rateLimit: { rps: 1000, burst: 1000 }, servedHosts: ["127.0.0.1"], linkLocalHosts: [] }
      const result = await Effect.runPromise(RegistryClient.pipe(
        Effect.flatMap((client) => Effect.either(client.listTags(endpoint))),
        Effect.provide(registryClientLayer), Effect.provide(FetchHttpClient.layer)))
      process.stdout.write(result._tag)
    `
    const child = Bun.spawn([process.execPath, "-e", script], { cwd: `${import.meta.dir}/../..`, stdout: "pipe", stderr: "pipe" })
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
    expect(stdout).toBe("Left")
    expect(stderr).toBe("")
  }, 30_000)
})
