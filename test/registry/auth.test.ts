import { describe, expect, test } from "bun:test"
import { Effect, Either, Option, Redacted, TestClock, TestContext } from "effect"
import {
  type Challenge,
  makeTokenCache,
  parseTokenResponse,
  parseWwwAuthenticate,
  tokenExpiry,
  tokenKey,
  tokenUrl,
} from "../../src/registry/auth.ts"

describe("parseWwwAuthenticate", () => {
  const cases: ReadonlyArray<{ name: string; header: string; expected: ReadonlyArray<Challenge> }> = [
    {
      name: "docker hub bearer",
      header: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      expected: [
        {
          scheme: "bearer",
          params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" },
        },
      ],
    },
    {
      name: "basic realm",
      header: 'Basic realm="test-registry"',
      expected: [{ scheme: "basic", params: { realm: "test-registry" } }],
    },
    {
      name: "lowercase scheme, unquoted values",
      header: "bearer realm=https://ghcr.io/token,service=ghcr.io,scope=repository:org/app:pull",
      expected: [
        { scheme: "bearer", params: { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:org/app:pull" } },
      ],
    },
    {
      name: "scope with host:port",
      header: 'Bearer realm="http://127.0.0.1:5001/auth",service="127.0.0.1:5000",scope="repository:127.0.0.1:5000/foo:pull"',
      expected: [
        {
          scheme: "bearer",
          params: { realm: "http://127.0.0.1:5001/auth", service: "127.0.0.1:5000", scope: "repository:127.0.0.1:5000/foo:pull" },
        },
      ],
    },
    {
      name: "unquoted scope with host:port",
      header: "Bearer realm=http://127.0.0.1:5001/auth,scope=repository:127.0.0.1:5000/foo:pull",
      expected: [
        { scheme: "bearer", params: { realm: "http://127.0.0.1:5001/auth", scope: "repository:127.0.0.1:5000/foo:pull" } },
      ],
    },
    {
      name: "two challenges",
      header: 'Basic realm="registry", Bearer realm="https://example.com/token",service="example.com"',
      expected: [
        { scheme: "basic", params: { realm: "registry" } },
        { scheme: "bearer", params: { realm: "https://example.com/token", service: "example.com" } },
      ],
    },
    {
      name: "three challenges with spaces around commas and equals",
      header: 'Negotiate , Bearer realm = "https://a/token" , service="a" ,Basic realm="b"',
      expected: [
        { scheme: "negotiate", params: {} },
        { scheme: "bearer", params: { realm: "https://a/token", service: "a" } },
        { scheme: "basic", params: { realm: "b" } },
      ],
    },
    {
      name: "comma inside a quoted value",
      header: 'Bearer realm="https://a/token",scope="repository:a/b:pull,push"',
      expected: [{ scheme: "bearer", params: { realm: "https://a/token", scope: "repository:a/b:pull,push" } }],
    },
    {
      name: "escaped quote in a quoted value",
      header: 'Basic realm="say \\"hi\\""',
      expected: [{ scheme: "basic", params: { realm: 'say "hi"' } }],
    },
    {
      name: "parameter names are case-insensitive",
      header: 'BEARER Realm="https://a/token",SERVICE="a",error="insufficient_scope"',
      expected: [{ scheme: "bearer", params: { realm: "https://a/token", service: "a", error: "insufficient_scope" } }],
    },
    {
      name: "token68 credentials are not a challenge",
      header: "Negotiate abc/def+ghi, Basic realm=x",
      expected: [
        { scheme: "negotiate", params: {} },
        { scheme: "basic", params: { realm: "x" } },
      ],
    },
    { name: "empty header", header: "", expected: [] },
    { name: "parameter without scheme is ignored", header: 'realm="x", Basic realm="y"', expected: [{ scheme: "basic", params: { realm: "y" } }] },
  ]
  test.each(cases)("$name", ({ header, expected }) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected)
  })
})

describe("tokenUrl", () => {
  const cases: ReadonlyArray<{ name: string; params: Record<string, string>; registry?: string; expected: Either.Either<string, string> }> = [
    {
      name: "scope from the challenge",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" },
      expected: Either.right("https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull"),
    },
    {
      name: "default pull scope",
      params: { realm: "http://127.0.0.1:9/t" },
      expected: Either.right("http://127.0.0.1:9/t?scope=repository%3Afoo%2Fbar%3Apull"),
    },
    {
      name: "several scopes become repeated parameters",
      params: { realm: "https://a/token?x=1", scope: "repository:a:pull repository:b:pull" },
      expected: Either.right("https://a/token?x=1&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull"),
    },
    { name: "no realm", params: { service: "a" }, expected: Either.left("Bearer challenge without a realm") },
    { name: "realm not a URL", params: { realm: "token" }, expected: Either.left('Bearer realm "token" is not a URL') },
    { name: "realm not http", params: { realm: "file:///etc/passwd" }, expected: Either.left('Bearer realm "file:///etc/passwd" is not an http(s) URL') },
    {
      name: "an https registry's realm over plain http",
      params: { realm: "http://rebound.example/latest/meta-data" },
      registry: "https://registry.example",
      expected: Either.left('Bearer realm "http://rebound.example/latest/meta-data" is plain http while the registry is https: not followed'),
    },
    {
      name: "an http registry's realm over http",
      params: { realm: "http://127.0.0.1:9/t" },
      registry: "http://127.0.0.1:5000",
      expected: Either.right("http://127.0.0.1:9/t?scope=repository%3Afoo%2Fbar%3Apull"),
    },
  ]
  test.each(cases)("$name", ({ params, registry, expected }) => {
    expect(Either.map(tokenUrl({ scheme: "bearer", params }, "foo/bar", registry), (url) => url.href)).toEqual(expected)
  })
})

describe("tokenExpiry", () => {
  const now = Date.parse("2026-01-01T00:00:00Z")
  const cases = [
    { name: "default lifetime of 60s, 10s margin", expiresIn: undefined, issuedAt: undefined, expected: now + 50_000 },
    { name: "expires_in 300", expiresIn: 300, issuedAt: undefined, expected: now + 290_000 },
    { name: "short lifetime keeps 4/5", expiresIn: 10, issuedAt: undefined, expected: now + 8_000 },
    { name: "issued_at in the past counts", expiresIn: 300, issuedAt: "2025-12-31T23:59:00Z", expected: now + 230_000 },
    { name: "issued_at in the future is ignored", expiresIn: 300, issuedAt: "2026-01-01T01:00:00Z", expected: now + 290_000 },
    { name: "garbage issued_at is ignored", expiresIn: 300, issuedAt: "yesterday", expected: now + 290_000 },
    { name: "non-positive expires_in means the default", expiresIn: 0, issuedAt: undefined, expected: now + 50_000 },
  ]
  test.each(cases)("$name", ({ expiresIn, issuedAt, expected }) => {
    expect(tokenExpiry(now, expiresIn, issuedAt)).toBe(expected)
  })
})

describe("parseTokenResponse", () => {
  const cases = [
    { name: "token", body: '{"token":"abc","expires_in":300}', expected: Either.right("abc") },
    { name: "access_token", body: '{"access_token":"xyz"}', expected: Either.right("xyz") },
    { name: "token preferred", body: '{"token":"abc","access_token":"xyz"}', expected: Either.right("abc") },
    { name: "empty token falls back", body: '{"token":"","access_token":"xyz"}', expected: Either.right("xyz") },
    { name: "no token", body: '{"expires_in":300}', expected: Either.left("token response has neither token nor access_token") },
  ]
  test.each(cases)("$name", ({ body, expected }) => {
    expect(Either.map(parseTokenResponse(body, 0), (t) => Redacted.value(t.token))).toEqual(expected)
  })
  test("not JSON is an error that does not echo the body", () => {
    const result = parseTokenResponse("secret-ish <html>", 0)
    expect(Either.isLeft(result)).toBe(true)
  })
})

describe("token cache", () => {
  const challenge: Challenge = { scheme: "bearer", params: { realm: "https://a/token", service: "a" } }
  test("keys differ by scope and user", () => {
    const keys = new Set([
      tokenKey(challenge, "x/y", Option.none()),
      tokenKey(challenge, "x/z", Option.none()),
      tokenKey(challenge, "x/y", Option.some("alice")),
      tokenKey({ ...challenge, params: { ...challenge.params, scope: "repository:x/y:pull,push" } }, "x/y", Option.none()),
    ])
    expect(keys.size).toBe(4)
  })
  test("a token is served until its expiry, then dropped; invalidate drops it at once", async () => {
    const program = Effect.gen(function* () {
      const cache = yield* makeTokenCache
      yield* cache.set("k", { token: Redacted.make("t1"), expiresAt: 50_000 })
      const steps: Array<string> = []
      const look = Effect.map(cache.get("k"), (o) => Option.getOrElse(Option.map(o, (cached) => Redacted.value(cached.token)), () => "-"))
      steps.push(yield* look)
      yield* TestClock.adjust("49 seconds")
      steps.push(yield* look)
      yield* TestClock.adjust("1 second")
      steps.push(yield* look)
      yield* cache.set("k", { token: Redacted.make("t2"), expiresAt: 500_000 })
      steps.push(yield* look)
      yield* cache.invalidate("k")
      steps.push(yield* look)
      return steps
    })
    expect(await Effect.runPromise(Effect.provide(program, TestContext.TestContext))).toEqual(["t1", "t1", "-", "t2", "-"])
  })
})
