import { describe, expect, test } from "bun:test"
import { Either, Redacted } from "effect"
import { parseListen, tokenMatches } from "../../src/server/Http.ts"

const listen: ReadonlyArray<readonly [string, { host: string | undefined; port: number } | string]> = [
  ["127.0.0.1:8080", { host: "127.0.0.1", port: 8080 }],
  [":9090", { host: undefined, port: 9090 }],
  ["9090", { host: undefined, port: 9090 }],
  ["[::1]:8080", { host: "::1", port: 8080 }],
  ["localhost:0", { host: "localhost", port: 0 }],
  ["host:99999", "expected HOST:PORT"],
  ["host:", "expected HOST:PORT"],
  ["http://host:80", "expected HOST:PORT"]
]

describe("parseListen", () => {
  test.each(listen)("%s", (text, expected) => {
    const parsed = parseListen(text)
    if (typeof expected === "string") expect(Either.isLeft(parsed) ? parsed.left : "parsed").toContain(expected)
    else expect(Either.getOrThrow(parsed)).toEqual(expected)
  })
})

describe("tokenMatches", () => {
  const token = Redacted.make("s3cret-token")
  test.each([
    ["the token", "s3cret-token", true],
    ["a prefix", "s3cret", false],
    ["longer", "s3cret-token-and-more", false],
    ["empty", "", false]
  ] as const)("%s", (_name, given, expected) => {
    expect(tokenMatches(token, given)).toBe(expected)
  })
})
