import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { Duration, Effect, Either, Option, Redacted } from "effect"
import { createServer } from "node:http"
import type { RegistryError } from "../../src/domain/RegistryError.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import type { RegistryEndpoint } from "../../src/registry/endpoint.ts"
import { RegistryClient } from "../../src/registry/RegistryClient.ts"
import { listenOnLoopback } from "../support/listen.ts"
import { freePort, RESET, startPagingProxy, startRegistry, type TestRegistry } from "../support/registry.ts"
import { testEndpoint } from "../support/endpoint.ts"
import { registryClientLayer } from "../support/layers.ts"

const run = <A>(f: (client: RegistryClient["Type"]) => Effect.Effect<A, RegistryError>) =>
  Effect.runPromise(
    RegistryClient.pipe(
      Effect.flatMap((client) => Effect.either(f(client))),
      Effect.provide(registryClientLayer),
      Effect.provide(FetchHttpClient.layer),
    ),
  )

/** Runs several calls on ONE client, so they share its token cache. */
const runMany = <A>(f: (client: RegistryClient["Type"]) => Effect.Effect<A, RegistryError>, times: number) =>
  run((client) => Effect.forEach(Array.from({ length: times }), () => f(client)))

const endpoint = (
  url: string,
  repository: string,
  credentials?: { username: string; password: string },
): RegistryEndpoint =>
  testEndpoint(url, repository, {
    credentials: credentials === undefined
      ? Option.none()
      : Option.some({ username: credentials.username, password: Redacted.make(credentials.password) }),
  })

/** The tag names of a listing. */
const listed = (client: RegistryClient["Type"], e: RegistryEndpoint) =>
  Effect.map(client.listTags(e), (infos) => infos.map((info) => info.tag))

const sorted = (tags: ReadonlyArray<string>) => [...tags].sort()

const expectError = (result: Either.Either<unknown, RegistryError>, reason: RegistryError["reason"]): RegistryError => {
  if (Either.isRight(result)) throw new Error(`expected a ${reason} error, got ${JSON.stringify(result.right)}`)
  expect(result.left.reason).toBe(reason)
  return result.left
}

describe("anonymous registry", () => {
  let registry: TestRegistry
  const digests = new Map<string, string>()
  const tags = ["1.0.0", "1.1.0", "2.0.0-rc.1", "latest", "10.0.0"]
  beforeAll(async () => {
    registry = await startRegistry()
    for (const tag of tags) digests.set(tag, await registry.pushImage("team/app", tag))
  }, SERVER_HOOK_TIMEOUT)
  afterAll(() => registry.stop(), SERVER_HOOK_TIMEOUT)

  test("lists every pushed tag", async () => {
    const result = await run((c) => listed(c, endpoint(registry.url, "team/app")))
    expect(sorted(Either.getOrThrow(result))).toEqual(sorted(tags))
  })

  test("an unknown repository is NotFound with the registry's message", async () => {
    const error = expectError(await run((c) => listed(c, endpoint(registry.url, "team/missing"))), "NotFound")
    expect(error.status).toBe(404)
    expect(error.message).toContain(`registry ${registry.host}, repository team/missing`)
    expect(error.message).toContain("NAME_UNKNOWN")
  })

  test("manifestDigest returns the digest of the pushed manifest", async () => {
    const result = await run((c) => Effect.forEach(tags, (tag) => c.manifestDigest(endpoint(registry.url, "team/app"), tag)))
    expect(Either.getOrThrow(result)).toEqual(tags.map((tag) => digests.get(tag) ?? "not pushed"))
  })

  test("imageCreated reads the config blob's created, with the digest the tag points at; a 1970 date is unknown", async () => {
    const dated = await registry.pushImage("team/dated", "new", { created: "2024-05-06T07:08:09Z" })
    const reproducible = await registry.pushImage("team/dated", "reproducible", { created: "1970-01-01T00:00:00Z" })
    const result = await run((c) => Effect.all([c.imageCreated(endpoint(registry.url, "team/dated"), "new"), c.imageCreated(endpoint(registry.url, "team/dated"), "reproducible")]))
    expect(Either.getOrThrow(result)).toEqual([
      { digest: Option.some(dated), created: Option.some(new Date("2024-05-06T07:08:09Z")) },
      { digest: Option.some(reproducible), created: Option.none() }
    ])
  })

  test("manifestDigest of an unknown tag is NotFound", async () => {
    expectError(await run((c) => c.manifestDigest(endpoint(registry.url, "team/app"), "nope")), "NotFound")
  })

  describe("through a paging proxy", () => {
    const many = Array.from({ length: 7 }, (_, i) => `0.${i}.0`).concat(["9.9.9"])
    beforeAll(async () => {
      for (const tag of many) await registry.pushImage("team/paged", tag)
    }, SERVER_HOOK_TIMEOUT)

    test("follows every page; the best tag sits on the last one", async () => {
      const proxy = await startPagingProxy(registry, 3)
      try {
        const result = await run((c) => listed(c, endpoint(proxy.url, "team/paged")))
        const names = Either.getOrThrow(result)
        expect(names).toEqual(sorted(many))
        expect(names[names.length - 1]).toBe("9.9.9")
        expect(proxy.requests).toEqual([
          "GET /v2/team/paged/tags/list?n=1000",
          "GET /v2/team/paged/tags/list?last=0.2.0&n=3",
          "GET /v2/team/paged/tags/list?last=0.5.0&n=3",
        ])
      } finally {
        await proxy.stop()
      }
    })

    const protocolCases = [
      { name: "a page linking back to itself", link: '</v2/team/paged/tags/list?last=x>; rel="next"', message: "loop back" },
      { name: "a next page on another host", link: '<http://127.0.0.2:1/v2/team/paged/tags/list>; rel="next"', message: "another host" },
    ]
    test.each(protocolCases)("$name is a Protocol error", async ({ link, message }) => {
      const proxy = await startPagingProxy(registry, 3, { link })
      try {
        const error = expectError(await run((c) => listed(c, endpoint(proxy.url, "team/paged"))), "Protocol")
        expect(error.message).toContain(message)
        expect(proxy.requests.length).toBeLessThanOrEqual(3)
      } finally {
        await proxy.stop()
      }
    })
  })

  describe("transient failures", () => {
    test("503 and 429 are retried, honouring Retry-After", async () => {
      const proxy = await startPagingProxy(registry, 100, { faults: [503, 429], retryAfter: "1" })
      try {
        const started = performance.now()
        const result = await run((c) => listed(c, endpoint(proxy.url, "team/app")))
        expect(sorted(Either.getOrThrow(result))).toEqual(sorted(tags))
        expect(performance.now() - started).toBeGreaterThanOrEqual(950)
        expect(proxy.requests.length).toBe(3)
      } finally {
        await proxy.stop()
      }
    })

    test("connection resets are retried with backoff", async () => {
      const proxy = await startPagingProxy(registry, 100, { faults: [RESET, RESET] })
      try {
        const result = await run((c) => listed(c, endpoint(proxy.url, "team/app")))
        expect(sorted(Either.getOrThrow(result))).toEqual(sorted(tags))
        expect(proxy.requests.length).toBe(3)
      } finally {
        await proxy.stop()
      }
    })

    test("connection resets on every try end as a Transport error after a bounded number of requests", async () => {
      const proxy = await startPagingProxy(registry, 100, { faults: Array(10).fill(RESET) })
      try {
        expectError(await run((c) => listed(c, endpoint(proxy.url, "team/app"))), "Transport")
        expect(proxy.requests.length).toBe(4)
      } finally {
        await proxy.stop()
      }
    })

    test("429 on every try ends as RateLimited after a bounded number of requests", async () => {
      const proxy = await startPagingProxy(registry, 100, { faults: Array(10).fill(429), retryAfter: "0" })
      try {
        const error = expectError(await run((c) => listed(c, endpoint(proxy.url, "team/app"))), "RateLimited")
        expect(error.status).toBe(429)
        expect(proxy.requests.length).toBe(4)
      } finally {
        await proxy.stop()
      }
    })

    const notRetried = [
      { status: 400, reason: "Protocol" as const },
      { status: 403, reason: "Auth" as const },
      { status: 404, reason: "NotFound" as const },
    ]
    test.each(notRetried)("$status is not retried", async ({ status, reason }) => {
      const proxy = await startPagingProxy(registry, 100, { faults: [status] })
      try {
        const error = expectError(await run((c) => listed(c, endpoint(proxy.url, "team/app"))), reason)
        expect(error.status).toBe(status)
        expect(proxy.requests.length).toBe(1)
      } finally {
        await proxy.stop()
      }
    })

    test("a registry that never answers is cut off at the deadline of each try, then a Transport error", async () => {
      const requests: Array<string> = []
      const silent = await listenOnLoopback(createServer((req) => void requests.push(req.url ?? "")))
      try {
        const started = performance.now()
        const result = await Effect.runPromise(
          RegistryHttp.pipe(
            Effect.flatMap((http) =>
              Effect.either(http.send(endpoint(silent.url, "team/app"), { method: "GET", url: `${silent.url}/v2/`, headers: {} })),
            ),
            Effect.provide(RegistryHttp.layerWithTimeout(Duration.millis(300))),
            Effect.provide(FetchHttpClient.layer),
          ),
        )
        const error = expectError(result, "Transport")
        expect(error.message).toContain("no answer within 300ms")
        expect(requests.length).toBe(4)
        expect(performance.now() - started).toBeGreaterThanOrEqual(4 * 300)
      } finally {
        await silent.stop()
      }
    }, 15_000)

    test("a closed port is a Transport error", async () => {
      const port = await freePort()
      const error = expectError(await run((c) => listed(c, endpoint(`http://127.0.0.1:${port}`, "team/app"))), "Transport")
      expect(error.message).toContain(`127.0.0.1:${port}`)
    })
  })
})

describe("htpasswd registry (Basic)", () => {
  const user = { username: "alice", password: "correct-horse-battery" }
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: user })
    await registry.pushImage("private/app", "1.0.0")
    await registry.pushImage("private/app", "1.2.0")
  }, SERVER_HOOK_TIMEOUT)
  afterAll(() => registry.stop(), SERVER_HOOK_TIMEOUT)

  test("lists with the right credentials", async () => {
    const result = await run((c) => listed(c, endpoint(registry.url, "private/app", user)))
    expect(sorted(Either.getOrThrow(result))).toEqual(["1.0.0", "1.2.0"])
  })

  test("a wrong password is an Auth error that does not show it", async () => {
    const wrong = { username: "alice", password: "Tr0ub4dor&3-secret" }
    const error = expectError(await run((c) => listed(c, endpoint(registry.url, "private/app", wrong))), "Auth")
    expect(error.status).toBe(401)
    expect(error.message).toContain("alice")
    expect(error.message).not.toContain(wrong.password)
    expect(JSON.stringify(error)).not.toContain(wrong.password)
    expect(String(error)).not.toContain(wrong.password)
  })

  test("no credentials is an Auth error saying they are needed", async () => {
    const error = expectError(await run((c) => listed(c, endpoint(registry.url, "private/app"))), "Auth")
    expect(error.message).toContain("requires a username and password")
  })
})

describe("token registry (Bearer)", () => {
  test("anonymous tokens: fetched once with the challenge's service and scope, then cached", async () => {
    const registry = await startRegistry({ tokenAuth: {} })
    try {
      await registry.pushImage("public/app", "3.0.0")
      await registry.pushImage("public/app", "3.1.0")
      const result = await runMany((c) => listed(c, endpoint(registry.url, "public/app")), 3)
      expect(Either.getOrThrow(result).map(sorted)).toEqual([["3.0.0", "3.1.0"], ["3.0.0", "3.1.0"], ["3.0.0", "3.1.0"]])
      expect(registry.tokenRequests).toEqual(["/token?service=test-registry&scope=repository%3Apublic%2Fapp%3Apull"])
    } finally {
      await registry.stop()
    }
  })

  test("an expired token is fetched again", async () => {
    // A lifetime of 1 s is cached for 0.8 s.
    const registry = await startRegistry({ tokenAuth: { expiresIn: 1 } })
    try {
      await registry.pushImage("public/app", "1.0.0")
      const result = await run((c) =>
        Effect.gen(function* () {
          const e = endpoint(registry.url, "public/app")
          yield* listed(c, e)
          yield* Effect.sleep("1200 millis")
          return yield* listed(c, e)
        }),
      )
      expect(Either.getOrThrow(result)).toEqual(["1.0.0"])
      expect(registry.tokenRequests.length).toBe(2)
    } finally {
      await registry.stop()
    }
  })

  const rejected = [
    { name: "a rejected token is fetched again once", badTokens: 1, tokenRequests: 2, ok: true },
    { name: "a token rejected twice is an Auth error", badTokens: 2, tokenRequests: 2, ok: false },
  ]
  test.each(rejected)("$name", async ({ badTokens, tokenRequests, ok }) => {
    const registry = await startRegistry({ tokenAuth: { badTokens } })
    try {
      await registry.pushImage("public/app", "1.0.0")
      const result = await run((c) => listed(c, endpoint(registry.url, "public/app")))
      if (ok) expect(Either.getOrThrow(result)).toEqual(["1.0.0"])
      else expect(expectError(result, "Auth").message).toContain("rejected an anonymous token")
      expect(registry.tokenRequests.length).toBe(tokenRequests)
    } finally {
      await registry.stop()
    }
  })

  describe("with credentials", () => {
    const user = { username: "bob", password: "bobs-token-password" }
    let registry: TestRegistry
    beforeAll(async () => {
      registry = await startRegistry({ tokenAuth: user })
      for (const tag of ["a", "b", "c", "d", "e"]) await registry.pushImage("private/paged", tag)
    }, SERVER_HOOK_TIMEOUT)
    afterAll(() => registry.stop(), SERVER_HOOK_TIMEOUT)

    test("lists every page through a proxy with one token", async () => {
      const proxy = await startPagingProxy(registry, 2)
      try {
        const before = registry.tokenRequests.length
        const result = await run((c) => listed(c, endpoint(proxy.url, "private/paged", user)))
        expect(Either.getOrThrow(result)).toEqual(["a", "b", "c", "d", "e"])
        expect(registry.tokenRequests.length - before).toBe(1)
        // The first request is anonymous (401), then one per page with the token.
        expect(proxy.requests.length).toBe(4)
      } finally {
        await proxy.stop()
      }
    })

    test("a second repository on the same registry starts with its token: no anonymous 401 first", async () => {
      await registry.pushImage("private/other", "x")
      const proxy = await startPagingProxy(registry, 2)
      try {
        const result = await run((c) =>
          Effect.gen(function* () {
            yield* listed(c, endpoint(proxy.url, "private/paged", user))
            return yield* listed(c, endpoint(proxy.url, "private/other", user))
          }),
        )
        expect(Either.getOrThrow(result)).toEqual(["x"])
        // 1 anonymous + 3 pages for the first repository, then 1 page for the second.
        expect(proxy.requests.length).toBe(5)
        expect(proxy.requests[4]).toContain("/v2/private/other/tags/list")
      } finally {
        await proxy.stop()
      }
    })

    test("manifestDigest works with a token", async () => {
      const result = await run((c) => c.manifestDigest(endpoint(registry.url, "private/paged", user), "a"))
      expect(Either.getOrThrow(result)).toMatch(/^sha256:[a-f0-9]{64}$/)
    })

    test("a wrong password is an Auth error from the token service that does not show it", async () => {
      const wrong = { username: "bob", password: "not-bobs-password-123" }
      const error = expectError(await run((c) => listed(c, endpoint(registry.url, "private/paged", wrong))), "Auth")
      expect(error.message).toContain("token service")
      expect(error.message).not.toContain(wrong.password)
      expect(JSON.stringify(error)).not.toContain(wrong.password)
    })

    test("no credentials is an Auth error", async () => {
      expectError(await run((c) => listed(c, endpoint(registry.url, "private/paged"))), "Auth")
    })
  })
})

describe("https registry with a self-signed certificate", () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry({ tls: true })
    await registry.pushImage("secure/app", "1.0.0")
  }, SERVER_HOOK_TIMEOUT)
  afterAll(() => registry.stop(), SERVER_HOOK_TIMEOUT)

  const cases = [
    { name: "insecure: true skips verification", insecure: true, ok: true },
    { name: "insecure: false refuses the certificate", insecure: false, ok: false },
  ]
  test.each(cases)("$name", async ({ insecure, ok }) => {
    const result = await run((c) => listed(c, { ...endpoint(registry.url, "secure/app"), insecure }))
    if (ok) expect(Either.getOrThrow(result)).toEqual(["1.0.0"])
    else expectError(result, "Transport")
  })
})
