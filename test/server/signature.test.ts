/**
 * GitHub webhook signatures: the check itself against GitHub's documented test vector, then the
 * real HTTP server in process (on loopback, with a fake Notices) deciding who gets in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { createHmac } from "node:crypto"
import { request } from "node:http"
import { Effect, Fiber, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { imageName } from "../../src/domain/ImageRef.ts"
import { Readiness } from "../../src/pipeline/Readiness.ts"
import { serverLayer } from "../../src/server/Http.ts"
import { Pauses } from "../../src/pipeline/Pauses.ts"
import { Notices } from "../../src/server/Notices.ts"
import { githubSignature, type SignatureCheck } from "../../src/server/signature.ts"
import { freePort } from "../support/registry.ts"

/** GitHub's documented example: this secret and payload give this signature. */
const SECRET = "It's a Secret to Everybody"
const VECTOR_BODY = "Hello, World!"
const VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
const API_TOKEN = "api-t0ken-for-signature-tests"

/** GitHub's algorithm, written here independently of the runner's: HMAC-SHA256 of the exact body bytes, lowercase hex. */
const sign = (body: string, secret = SECRET) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`

describe("githubSignature", () => {
  const check = githubSignature(Redacted.make(SECRET))
  const body = new TextEncoder().encode(VECTOR_BODY)
  test("the test's signer reproduces GitHub's vector", () => expect(sign(VECTOR_BODY)).toBe(VECTOR_SIGNATURE))
  test.each([
    ["GitHub's vector", VECTOR_SIGNATURE, true],
    ["upper-case hex", VECTOR_SIGNATURE.replace("sha256=", "").toUpperCase().replace(/^/, "sha256="), true],
    ["the last digit changed", `${VECTOR_SIGNATURE.slice(0, -1)}8`, false],
    ["signed with another secret", sign(VECTOR_BODY, "another secret"), false],
    ["the SHA-1 header's form", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59", false],
    ["no algorithm prefix", VECTOR_SIGNATURE.slice("sha256=".length), false],
    ["truncated", VECTOR_SIGNATURE.slice(0, -2), false],
    ["two values joined", `${VECTOR_SIGNATURE}, ${VECTOR_SIGNATURE}`, false],
    ["empty", "", false]
  ] as const)("%s", (_name, header, expected) => {
    expect(check(body, header)).toBe(expected)
  })
  test("a body changed after signing fails", () => {
    expect(check(new TextEncoder().encode("Hello, World?"), VECTOR_SIGNATURE)).toBe(false)
  })
})

/** Every call to the signature check, so a test can tell whether a body was hashed at all. */
let checks = 0
const counted: SignatureCheck = (body, header) => {
  checks++
  return githubSignature(Redacted.make(SECRET))(body, header)
}

const fakeNotices = Layer.succeed(Notices, {
  register: (image) => Effect.succeed({ image: imageName(image), registered: [], checked: [] }),
  pushed: (image) => Effect.succeed({ image: imageName(image), registered: [], checked: ["piped.yaml/config"] })
})

/** The server on a free loopback port, until the test file ends. */
const serve = async (token: string | undefined, secret: boolean) => {
  const port = await freePort()
  const layer = serverLayer({
    host: "127.0.0.1",
    port,
    token: Option.fromNullable(token).pipe(Option.map(Redacted.make)),
    githubSignature: secret ? Option.some(counted) : Option.none(),
    pipelineCount: 1,
    dataDir: "/nonexistent"
  }).pipe(Layer.provide(Layer.mergeAll(fakeNotices, Pauses.layerTest, Readiness.layer, Logger.minimumLogLevel(LogLevel.None))))
  const fiber = Effect.runFork(Layer.launch(layer))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200 && (await fetch(`${url}/healthz`).catch(() => undefined))?.status !== 200; i++) await Bun.sleep(10)
  return { url, stop: () => Effect.runPromise(Fiber.interrupt(fiber)) }
}

type Server = Awaited<ReturnType<typeof serve>>
let both: Server
let secretOnly: Server
let tokenOnly: Server

beforeAll(async () => {
  ;[both, secretOnly, tokenOnly] = await Promise.all([serve(API_TOKEN, true), serve(undefined, true), serve(API_TOKEN, false)])
}, SERVER_HOOK_TIMEOUT)

afterAll(async () => {
  await Promise.all([both?.stop(), secretOnly?.stop(), tokenOnly?.stop()])
}, SERVER_HOOK_TIMEOUT)

/** A GHCR `package` event for ghcr.io/org/app:1.2.0, as GitHub sends it (trimmed). */
const PACKAGE_EVENT = JSON.stringify({
  action: "published",
  package: { name: "app", namespace: "org", package_type: "CONTAINER", package_version: { container_metadata: { tag: { name: "1.2.0" } } } }
})

const post = (server: Server, body: string, headers: Record<string, string> = {}, path = "/api/v1/webhooks/github") =>
  fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })

const BEARER = { authorization: `Bearer ${API_TOKEN}` }

describe("POST /api/v1/webhooks/github with --webhook-secret-file", () => {
  test.each([
    ["signed, no token", () => post(both, PACKAGE_EVENT, { "x-hub-signature-256": sign(PACKAGE_EVENT) }), 200, "ghcr.io/org/app", 1],
    ["signed, only the secret configured", () => post(secretOnly, PACKAGE_EVENT, { "x-hub-signature-256": sign(PACKAGE_EVENT) }), 200, "ghcr.io/org/app", 1],
    // The signature holds for GitHub's own vector; only then is the body read, and it is not JSON.
    ["GitHub's vector, signature accepted", () => post(both, VECTOR_BODY, { "x-hub-signature-256": VECTOR_SIGNATURE }), 400, "body is not valid JSON", 1],
    ["signed with another secret", () => post(both, PACKAGE_EVENT, { "x-hub-signature-256": sign(PACKAGE_EVENT, "guess") }), 401, "wrong X-Hub-Signature-256", 1],
    ["body changed after signing", () => post(both, PACKAGE_EVENT.replace("1.2.0", "6.6.6"), { "x-hub-signature-256": sign(PACKAGE_EVENT) }), 401, "wrong X-Hub-Signature-256", 1],
    ["a wrong signature beside a valid bearer token", () => post(both, PACKAGE_EVENT, { "x-hub-signature-256": sign("other"), ...BEARER }), 401, "wrong X-Hub-Signature-256", 1],
    ["a wrong signature beside a valid ?token=", () => post(both, PACKAGE_EVENT, { "x-hub-signature-256": sign("other") }, `/api/v1/webhooks/github?token=${API_TOKEN}`), 401, "wrong X-Hub-Signature-256", 1],
    ["unsigned, no token", () => post(both, PACKAGE_EVENT), 401, "missing or wrong token", 0],
    ["unsigned, only the secret configured", () => post(secretOnly, PACKAGE_EVENT), 401, "missing X-Hub-Signature-256", 0],
    ["unsigned with the bearer token", () => post(both, PACKAGE_EVENT, BEARER), 200, "ghcr.io/org/app", 0],
    ["unsigned with ?token=", () => post(both, PACKAGE_EVENT, {}, `/api/v1/webhooks/github?token=${API_TOKEN}`), 200, "ghcr.io/org/app", 0],
    // Without the secret the runner cannot check a signature, so it relies on the token as before.
    ["signed, no secret configured, with the token", () => post(tokenOnly, PACKAGE_EVENT, { "x-hub-signature-256": sign("anything"), ...BEARER }), 200, "ghcr.io/org/app", 0],
    ["signed, no secret configured, no token", () => post(tokenOnly, PACKAGE_EVENT, { "x-hub-signature-256": sign(PACKAGE_EVENT) }), 401, "missing or wrong token", 0]
  ] as const)("%s", async (_name, send, status, text, hashed) => {
    const before = checks
    const response = await send()
    expect(response.status).toBe(status)
    expect(await response.text()).toContain(text)
    // Only a signature the runner can check is hashed, once; a token alone never is.
    expect(checks - before).toBe(hashed)
  })

  test("a signature is only for github: other kinds still need the token", async () => {
    const dockerhub = JSON.stringify({ push_data: { tag: "1" }, repository: { repo_name: "org/app" } })
    const signed = { "x-hub-signature-256": sign(dockerhub) }
    expect((await post(both, dockerhub, signed, "/api/v1/webhooks/dockerhub")).status).toBe(401)
    const off = await post(secretOnly, dockerhub, signed, "/api/v1/webhooks/dockerhub")
    expect(off.status).toBe(404)
    expect(await off.text()).toContain("needs --api-token-file")
    expect((await post(both, dockerhub, BEARER, "/api/v1/webhooks/dockerhub")).status).toBe(200)
    // The image API never takes a signature.
    expect((await post(secretOnly, '{"image":"nginx","tag":"1"}', signed, "/api/v1/images")).status).toBe(404)
  })
})

/**
 * A body sent chunked, without Content-Length, so only the limit while reading can stop it. The
 * server answers 413 and drops the connection while the client is still writing, so the client
 * sees either the answer or the reset: both mean refused.
 */
const postChunked = (server: Server, chunks: number, chunk: string, headers: Record<string, string>) =>
  new Promise<number | "reset">((resolve) => {
    const req = request(`${server.url}/api/v1/webhooks/github`, { method: "POST", headers: { "transfer-encoding": "chunked", ...headers } })
    req.on("response", (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    req.on("error", () => resolve("reset"))
    const write = (left: number): void => {
      if (left === 0) return void req.end()
      if (req.write(chunk)) write(left - 1)
      else req.once("drain", () => write(left - 1))
    }
    write(chunks)
  })

describe("the 1 MiB limit comes before any HMAC work", () => {
  const huge = JSON.stringify({ ...JSON.parse(PACKAGE_EVENT), padding: "x".repeat(2 * 1024 * 1024) })

  test("an oversized body with a valid signature and a Content-Length: 413, never hashed", async () => {
    const before = checks
    const response = await post(both, huge, { "x-hub-signature-256": sign(huge) })
    expect(response.status).toBe(413)
    expect(checks).toBe(before)
  })

  test("an oversized chunked body: 413, never hashed", async () => {
    const chunk = "x".repeat(64 * 1024)
    const before = checks
    expect([413, "reset"]).toContain(await postChunked(both, 32, chunk, { "x-hub-signature-256": sign(chunk.repeat(32)) }))
    // Had the whole body been read, its valid signature would have been checked by now.
    await Bun.sleep(100)
    expect(checks).toBe(before)
    // The same chunked way with a body that fits is read whole and hashed: the counter does see chunked bodies.
    const small = chunk.slice(0, 1024)
    expect(await postChunked(both, 4, small, { "x-hub-signature-256": sign(small.repeat(4)) })).toBe(400)
    expect(checks).toBe(before + 1)
  })

  test("just under the limit, the same body shape is hashed and accepted", async () => {
    const fits = JSON.stringify({ ...JSON.parse(PACKAGE_EVENT), padding: "x".repeat(1024 * 1024 - 400) })
    const before = checks
    const response = await post(both, fits, { "x-hub-signature-256": sign(fits) })
    expect(response.status).toBe(200)
    expect(checks).toBe(before + 1)
  })
})
