import { describe, expect, test } from "bun:test"
import { Either, Redacted, Schema } from "effect"
import { decodeBody, tokenMatches } from "../../src/server/Http.ts"
import { listenFailure, parseListen } from "../../src/server/listen.ts"
import { decodeWebhook } from "../../src/server/webhooks.ts"

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

describe("listenFailure: the cause an operator can act on", () => {
  const systemError = (code: string, message: string) => Object.assign(new Error(message), { code })
  test.each([
    ["in use", systemError("EADDRINUSE", "listen EADDRINUSE: address already in use 127.0.0.1:80"), "address in use (EADDRINUSE)"],
    ["a low port", systemError("EACCES", "listen EACCES: permission denied 0.0.0.0:80"), "permission denied (EACCES)"],
    ["another host's address", systemError("EADDRNOTAVAIL", "listen EADDRNOTAVAIL"), "address not available on this host (EADDRNOTAVAIL)"],
    ["an unknown code keeps its message", systemError("EWHATEVER", "something odd"), "something odd"],
    ["an unknown code without message", systemError("EWHATEVER", ""), "EWHATEVER"],
    ["no code", new Error("boom"), "boom"],
    ["not an error", undefined, "unknown cause"]
  ] as const)("%s", (_name, cause, expected) => {
    expect(listenFailure(cause)).toBe(expected)
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

describe("decodeBody: one short line, never the schema", () => {
  const Body = Schema.Struct({
    image: Schema.String.pipe(Schema.filter((s) => !s.includes(":") || "write the image without tag or digest")),
    tag: Schema.String
  })
  test.each([
    ["not JSON", "{image:", "body is not valid JSON"],
    ["empty", "", "body is not valid JSON"],
    ["an array", "[1]", "body must be a JSON object"],
    ["a missing field", '{"image":"nginx"}', "tag: is missing"],
    ["a wrong type", '{"image":1,"tag":"1"}', "image: has the wrong type"],
    ["a refused value", '{"image":"nginx:1","tag":"1"}', "image: write the image without tag or digest"]
  ] as const)("%s", (_name, text, expected) => {
    expect(decodeBody(Body, text)).toEqual(Either.left(expected))
  })

  test("a webhook payload of the wrong shape is refused in one line", () => {
    const refused = decodeWebhook("distribution", { nope: 1 })
    const message = Either.isLeft(refused) ? refused.left : ""
    expect(message).toStartWith("not a distribution push notification: ")
    expect(message).not.toContain("\n")
    expect(message).not.toContain("readonly")
  })
})
