/**
 * `runner notify --address` against a hostile server on loopback: whatever it answers, the message
 * is one line, its terminal escapes and line breaks visible as escapes, and the token never in it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { createServer, type Server } from "node:http"
import { Effect, Either, Redacted } from "effect"
import { clientLayer, postImage } from "../../src/server/client.ts"

const TOKEN = "notify-t0ken-9f2c"
const HOSTILE = "no\x1b[2J\x1b[31m\r\nrunner: registered evil:1.0 in provider ci\u2028forged\u2029\x9b31m\u202eeod"

/** The body to answer with, by request path. */
const answers: Record<string, { readonly status: number; readonly body: string }> = {
  "/json/api/v1/images": { status: 403, body: JSON.stringify({ error: HOSTILE }) },
  "/text/api/v1/images": { status: 400, body: HOSTILE },
  "/echo/api/v1/images": { status: 401, body: JSON.stringify({ error: `bad token ${TOKEN}\n` }) }
}

let server: Server
let url = ""

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = answers[request.url ?? ""] ?? { status: 404, body: "" }
    response.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
}, SERVER_HOOK_TIMEOUT)

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())), SERVER_HOOK_TIMEOUT)

const refusal = (path: string) =>
  Effect.runPromise(
    postImage(`${url}/${path}`, Redacted.make(TOKEN), "ghcr.io/org/app", { tag: "1.0.0" }).pipe(Effect.provide(clientLayer), Effect.either)
  ).then((result) => (Either.isLeft(result) ? result.left.message : "accepted"))

// Escapes as report lines show them (domain/foreignText.ts oneLine).
const ESCAPED = "no\\x1b[2J\\x1b[31m\\r\\nrunner: registered evil:1.0 in provider ci\\u2028forged\\u2029\\x9b31m\\u202eeod"

describe("postImage: a refusal's body", () => {
  test.each([
    ["the error of a JSON refusal", "json", `refused (403): ${ESCAPED}`],
    ["a body that is not JSON", "text", `refused (400): ${ESCAPED}`],
    ["a body that echoes the token", "echo", "refused (401): bad token <redacted>\\n"]
  ])("%s", async (_name, path, expected) => {
    const message = await refusal(path)
    expect(message).toEndWith(expected)
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/)
    expect(message).not.toContain(TOKEN)
  })
})
