/** Registries and token services that echo our secrets back in their error messages. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either, Encoding, Option, Redacted } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { RegistryFailure } from "../../src/domain/failures.ts"
import type { RegistryError } from "../../src/domain/RegistryError.ts"
import type { RegistryEndpoint } from "../../src/registry/endpoint.ts"
import { RegistryClient } from "../../src/registry/RegistryClient.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"
import { testEndpoint } from "../support/endpoint.ts"
import { registryClientLayer } from "../support/layers.ts"

const USER = "robot"
const PASSWORD = "s3cret-Passw0rd"
const BASIC = Encoding.encodeBase64(`${USER}:${PASSWORD}`)
const OPAQUE_TOKEN = "opaqueTok-9f8e7d6c5b4a"
const JWT =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyb2JvdCIsImFjY2VzcyI6W119.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1zZXJ2aWNl"

/** Everything a hostile server could echo that must never be shown. */
const secrets = [PASSWORD, `${USER}:${PASSWORD}`, BASIC, OPAQUE_TOKEN, JWT]

/** What the server was sent, in every form, and the password it may know from its token service. */
const echo = (req: IncomingMessage) => {
  const sent = req.headers.authorization ?? ""
  const token = sent.startsWith("Bearer ") ? `; token ${sent.slice("Bearer ".length)}` : ""
  return `you sent "${sent}" = ${BASIC} = ${USER}:${PASSWORD}; password ${PASSWORD}${token}`
}

const errorBody = (req: IncomingMessage) => JSON.stringify({ errors: [{ code: "DENIED", message: echo(req) }] })

const answer = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(body)
}

/**
 * `/v2/basic-<status>/...`: Basic auth, then `status` with the request echoed.
 * `/v2/bearer-<status>/...`: Bearer auth through `/token`, then `status` with the token echoed.
 * `/v2/token-<status>/...`: the token service itself answers `status` echoing what it was sent.
 * `/v2/token-garbled/...`: the token service answers 200 with a body that is not a token answer.
 */
const hostile = (base: () => string) =>
  createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x")
    const auth = req.headers.authorization
    if (url.pathname === "/token") {
      const repo = url.searchParams.get("scope")?.split(":")[1] ?? ""
      if (repo.startsWith("token-garbled")) return answer(res, 200, JSON.stringify({ token: { issued: JWT, sent: auth } }))
      const status = /^token-(\d+)/.exec(repo)?.[1]
      if (status !== undefined) return answer(res, Number(status), errorBody(req))
      const token = repo.includes("jwt") ? JWT : OPAQUE_TOKEN
      return answer(res, 200, JSON.stringify({ token, expires_in: 300 }))
    }
    const [, kind = "", status = "400"] = /^\/v2\/(basic|bearer|token)-(?:[a-z]+-)?(\d+)/.exec(url.pathname) ?? []
    if (kind === "basic" && auth === undefined) return answer(res, 401, "{}", { "www-authenticate": 'Basic realm="r"' })
    if (kind !== "basic" && !auth?.startsWith("Bearer ")) {
      const scope = `repository:${url.pathname.split("/")[2]}:pull`
      return answer(res, 401, "{}", { "www-authenticate": `Bearer realm="${base()}/token",service="hostile",scope="${scope}"` })
    }
    answer(res, Number(status), errorBody(req))
  })

const endpoint = (url: string, repository: string): RegistryEndpoint =>
  testEndpoint(url, repository, { provider: "hostile", credentials: Option.some({ username: USER, password: Redacted.make(PASSWORD) }) })

const listError = (url: string, repository: string): Promise<RegistryError> =>
  Effect.runPromise(
    RegistryClient.pipe(
      Effect.flatMap((client) => Effect.either(client.listTags(endpoint(url, repository)))),
      Effect.provide(registryClientLayer),
      Effect.provide(FetchHttpClient.layer),
    ),
  ).then((result) => {
    if (Either.isRight(result)) throw new Error(`expected an error, got ${JSON.stringify(result.right)}`)
    return result.left
  })

const expectClean = (text: string) => {
  for (const secret of secrets) expect(text).not.toContain(secret)
}

describe("a hostile registry echoing secrets", () => {
  let server: Listening
  beforeAll(async () => {
    let url = ""
    server = await listenOnLoopback(hostile(() => url))
    url = server.url
  }, SERVER_HOOK_TIMEOUT)
  afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

  test.each([
    ["basic-400", "Protocol"],
    ["basic-403", "Auth"],
    ["basic-404", "NotFound"],
    ["basic-500", "Server"],
    ["bearer-400", "Protocol"],
    ["bearer-jwt-400", "Protocol"],
    ["bearer-500", "Server"],
    ["token-500", "Server"],
  ] as const)("%s: the error holds none of the secrets it echoed", async (repository, reason) => {
    const error = await listError(server.url, repository)
    expect(error.reason).toBe(reason)
    // The server's message is kept, with the secrets cut out of it.
    expect(error.message).toContain("DENIED: you sent")
    expect(error.message).toContain("<redacted>")
    expectClean(error.message)
    expectClean(JSON.stringify(error))
    const failed = new RegistryFailure({ provider: "hostile", cause: error })
    expectClean(failed.message)
  })

  test("a token answer that is not one does not show what it held", async () => {
    const error = await listError(server.url, "token-garbled")
    expect(error.reason).toBe("Protocol")
    expectClean(error.message)
  })
})
