/**
 * Where a registry may send the runner: token services and redirects are the registry's to name,
 * but credentials only go to hosts their provider serves, and no request goes to a link-local or
 * cloud metadata address the operator's config does not name.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either, Option, Redacted } from "effect"
import { createServer, type RequestListener, type Server } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import { type HostLookup, isLinkLocalAddress, isLinkLocalHost, makeLinkLocalGuard } from "../../src/http/linkLocal.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { RegistryClient } from "../../src/registry/RegistryClient.ts"
import { testEndpoint } from "../support/endpoint.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"
import { selfSignedCert } from "../support/tls.ts"
import { registryClientLayer } from "../support/layers.ts"

describe("link-local and metadata addresses", () => {
  test.each([
    ["169.254.169.254", true],
    ["169.254.0.1", true],
    ["169.255.0.1", false],
    ["127.0.0.1", false],
    ["10.0.0.1", false],
    ["fe80::1", true],
    ["febf::1", true],
    ["fec0::1", false],
    ["fd00:ec2::254", true],
    ["fd00:ec2:0:0:0:0:0:254", true],
    ["fd00:ec2::253", false],
    ["::ffff:169.254.169.254", true],
    ["::ffff:a9fe:a9fe", true],
    ["::1", false],
    ["metadata.google.internal", false],
  ] as const)("address %s: %p", (address, expected) => {
    expect(isLinkLocalAddress(address)).toBe(expected)
  })

  test.each([
    ["169.254.169.254", true],
    ["[fd00:ec2::254]", true],
    ["[::ffff:a9fe:a9fe]", true],
    ["metadata.google.internal", true],
    ["Metadata.Google.Internal.", true],
    ["metadata.goog", true],
    ["registry.example.com", false],
    ["127.0.0.1", false],
  ] as const)("URL host %s: %p", (host, expected) => {
    expect(isLinkLocalHost(host)).toBe(expected)
  })

  const lookups: Array<string> = []
  const guard = Effect.runSync(
    makeLinkLocalGuard(async (hostname) => {
      lookups.push(hostname)
      await new Promise((resolve) => setTimeout(resolve, 10))
      return hostname === "rebound.test" ? ["203.0.113.7", "169.254.169.254"] : ["203.0.113.7"]
    })
  )
  const verdict = (allowed: ReadonlyArray<string> | "any", url: string) => {
    const check = guard(allowed, url)
    return check === undefined ? Promise.resolve("at once") : Effect.runPromise(Effect.match(check, { onFailure: (host) => `refused ${host}`, onSuccess: () => "checked" }))
  }

  test.each([
    [[], "http://169.254.169.254/latest/meta-data/", "refused 169.254.169.254"],
    [[], "http://[fd00:ec2::254]/", "refused [fd00:ec2::254]"],
    [[], "http://metadata.google.internal/computeMetadata/v1/", "refused metadata.google.internal"],
    [[], "https://127.0.0.1:5000/v2/", "at once"],
    [[], "https://rebound.test/v2/", "refused rebound.test"],
    [[], "https://registry.test/v2/", "checked"],
    // What the operator's config names may be anywhere, a link-local registry included.
    [["169.254.10.10"], "http://169.254.10.10:5000/v2/", "at once"],
    [["rebound.test"], "https://rebound.test/v2/", "at once"],
    ["any", "http://169.254.169.254/latest/api/token", "at once"],
  ] as const)("named %p, %s: %s", async (allowed, url, expected) => {
    expect(await verdict(allowed, url)).toBe(expected)
  })

  test("a name is looked up once while its answer is fresh", async () => {
    lookups.length = 0
    await verdict([], "https://once.test/a")
    await verdict([], "https://once.test/b")
    expect(lookups).toEqual(["once.test"])
  })

  test("requests to one name at once share one lookup", async () => {
    lookups.length = 0
    expect(await Promise.all([verdict([], "https://together.test/a"), verdict([], "https://together.test/b")])).toEqual(["checked", "checked"])
    expect(lookups).toEqual(["together.test"])
  })
})

/**
 * A registry that redirects every request to `?to=`, and otherwise asks for a token from the
 * realm its repository names: `far` a token service on another host name, `near` the same one on the registry's.
 */
const redirecting = (port: () => number, serve: (handler: RequestListener) => Server = (handler) => createServer(handler)) =>
  serve((req, res) => {
    const url = new URL(req.url ?? "/", "http://x")
    const to = url.searchParams.get("to")
    if (to !== null) {
      res.writeHead(307, { location: to })
      return res.end()
    }
    const host = url.pathname.startsWith("/v2/far/") ? "localhost" : "127.0.0.1"
    res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}:${port()}/token",service="r"`, "content-type": "application/json" })
    res.end("{}")
  })

describe("a registry cannot send the runner where it should not go", () => {
  let registry: Listening
  const tokenRequests: Array<string> = []
  let tokenService: Listening
  beforeAll(async () => {
    tokenService = await listenOnLoopback(
      createServer((req, res) => {
        tokenRequests.push(req.headers.authorization ?? "")
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ token: "t", expires_in: 300 }))
      })
    )
    registry = await listenOnLoopback(redirecting(() => tokenService.port))
  }, SERVER_HOOK_TIMEOUT)
  afterAll(async () => {
    await registry.stop()
    await tokenService.stop()
  }, SERVER_HOOK_TIMEOUT)

  const send = (url: string, lookup: HostLookup) =>
    Effect.runPromise(
      Effect.flatMap(RegistryHttp, (http) =>
        Effect.either(http.send(testEndpoint(registry.url, "app"), { method: "GET", url, headers: { authorization: "Basic c2VjcmV0" } }))
      ).pipe(Effect.provide(RegistryHttp.layerWithLookup(lookup)))
    )

  test.each([
    ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254"],
    ["http://[fd00:ec2::254]/latest/meta-data/", "[fd00:ec2::254]"],
    ["http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal"],
    ["http://imds.attacker.test/latest/meta-data/", "imds.attacker.test"],
  ])("a redirect to %s is refused", async (to, host) => {
    const result = await send(`${registry.url}/v2/app/tags/list?to=${encodeURIComponent(to)}`, async (hostname) =>
      hostname === "imds.attacker.test" ? ["169.254.169.254"] : []
    )
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) expect(result.left.detail).toContain(`refused to send a request to ${host}: a link-local or cloud metadata address`)
  })

  test("nothing asked over https is followed to plain http, where a name could be rebound to a metadata address", async () => {
    const tls = await listenOnLoopback(redirecting(() => tokenService.port, (handler) => createHttpsServer(selfSignedCert("127.0.0.1"), handler)))
    try {
      const url = `https://127.0.0.1:${tls.port}`
      const result = await Effect.runPromise(
        Effect.flatMap(RegistryHttp, (http) =>
          Effect.either(http.send(testEndpoint(url, "app", { insecure: true }), { method: "GET", url: `${url}/v2/app/tags/list?to=${encodeURIComponent(`${registry.url}/v2/app/tags/list`)}`, headers: {} }))
        ).pipe(Effect.provide(RegistryHttp.layer))
      )
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) expect(result.left.detail).toContain(`refused a redirect from ${url}/v2/app/tags/list`)
    } finally {
      await tls.stop()
    }
  })

  const list = (repository: string) =>
    Effect.runPromise(
      RegistryClient.pipe(
        Effect.flatMap((client) =>
          Effect.either(client.listTags(testEndpoint(registry.url, repository, { credentials: Option.some({ username: "robot", password: Redacted.make("hunter2") }) })))
        ),
        Effect.provide(registryClientLayer),
        Effect.provide(FetchHttpClient.layer)
      )
    )

  test("credentials are not sent to a token service on a host the provider does not serve", async () => {
    tokenRequests.length = 0
    const result = await list("far/app")
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left.reason).toBe("Auth")
      expect(result.left.detail).toContain(`token service localhost:${tokenService.port} is not a host provider test serves (127.0.0.1)`)
    }
    expect(tokenRequests).toEqual([])
  })

  test("a token service on a host the provider serves gets them", async () => {
    tokenRequests.length = 0
    await list("near/app")
    expect(tokenRequests[0]).toStartWith("Basic ")
  })
})
