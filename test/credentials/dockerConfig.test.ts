import { describe, expect, test } from "bun:test"
import { Either, Option, Redacted } from "effect"
import { lookupDockerConfig, parseDockerConfig, parseHelperAnswer } from "../../src/credentials/files.ts"

const config = {
  auths: {
    "https://index.docker.io/v1/": { auth: btoa("hubuser:hubpass") },
    "registry.example.com:5000": { auth: btoa("alice:al:ice") },
    "https://ghcr.io": { username: "bob", password: "bobpass" },
    "broken.example.com": { auth: btoa("no-colon") },
  },
  credHelpers: { "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login" },
}

type Found = { user: string; password: string } | { helper: string; serverUrl: string } | "none" | { error: string }

const show = (result: ReturnType<typeof lookupDockerConfig>): Found =>
  Either.match(result, {
    onLeft: (error) => ({ error }),
    onRight: Option.match({
      onNone: () => "none" as const,
      onSome: (found) =>
        found._tag === "Stored"
          ? { user: found.credentials.username, password: Redacted.value(found.credentials.password) }
          : { helper: found.helper, serverUrl: found.serverUrl },
    }),
  })

describe("lookupDockerConfig", () => {
  const parsed = Either.getOrThrow(parseDockerConfig(JSON.stringify(config)))
  const withStore = Either.getOrThrow(parseDockerConfig(JSON.stringify({ ...config, credsStore: "desktop" })))
  const cases: ReadonlyArray<{ name: string; registry: string; store?: boolean; expected: Found }> = [
    { name: "Docker Hub by its legacy index URL", registry: "docker.io", expected: { user: "hubuser", password: "hubpass" } },
    { name: "host:port key, password with a colon", registry: "registry.example.com:5000", expected: { user: "alice", password: "al:ice" } },
    { name: "URL key with username/password fields", registry: "ghcr.io", expected: { user: "bob", password: "bobpass" } },
    { name: "per-host credential helper", registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", expected: { helper: "ecr-login", serverUrl: "123456789012.dkr.ecr.eu-west-1.amazonaws.com" } },
    { name: "unknown host", registry: "quay.io", expected: "none" },
    { name: "unknown host falls back to credsStore", registry: "quay.io", store: true, expected: { helper: "desktop", serverUrl: "quay.io" } },
    { name: "stored auths win over credsStore", registry: "ghcr.io", store: true, expected: { user: "bob", password: "bobpass" } },
    { name: "credsStore gets Docker Hub's legacy URL", registry: "docker.io", store: true, expected: { user: "hubuser", password: "hubpass" } },
    { name: "a broken auth entry is an error", registry: "broken.example.com", expected: { error: 'auths["broken.example.com"].auth is not base64 of user:password' } },
  ]
  test.each(cases)("$name", ({ registry, store, expected }) => {
    expect(show(lookupDockerConfig(store === true ? withStore : parsed, registry))).toEqual(expected)
  })

  test("a Kubernetes .dockerconfigjson has the same auths map", () => {
    const secret = Either.getOrThrow(parseDockerConfig(JSON.stringify({ auths: { "quay.io": { auth: btoa("robot+ci:tok") } } })))
    expect(show(lookupDockerConfig(secret, "quay.io"))).toEqual({ user: "robot+ci", password: "tok" })
  })

  test("not JSON is an error", () => expect(Either.isLeft(parseDockerConfig("{"))).toBe(true))
})

describe("parseHelperAnswer", () => {
  test("reads Username and Secret", () => {
    const answer = parseHelperAnswer(JSON.stringify({ ServerURL: "quay.io", Username: "u", Secret: "s" }))
    expect(Either.map(answer, (c) => [c.username, Redacted.value(c.password)])).toEqual(Either.right(["u", "s"]))
  })
  test("an error message does not echo the output", () => {
    const answer = parseHelperAnswer("credentials not found in native keychain SECRET")
    expect(answer).toEqual(Either.left("the credential helper did not answer with {Username, Secret}"))
  })
})
