/**
 * The pause API on the real HTTP server, with the schedule stage in process on fake git and a fake
 * registry: a paused target is held by the passes that follow, a resumed one is written again.
 */
import { describe, expect, test } from "bun:test"
import { Effect, TestContext } from "effect"
import { runForever } from "../../src/pipeline/run.ts"
import { apiServer, fakeWorld, pipelineOf, REMOTE, stopDaemon, WATCHER } from "../support/inProcess.ts"

const TOKEN = "pause-api-token"
const IMAGE = "gcr.io/org/app"
const pipeline = pipelineOf()

const post = (url: string, path: string, body: unknown, token = TOKEN) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: typeof body === "string" ? body : JSON.stringify(body)
  }).then(async (r) => ({ status: r.status, body: await r.text() }))

/** A registry's push notification for the image: the repository that watches it gets a pass. */
const pushed = (url: string) =>
  post(url, "/api/v1/webhooks/distribution", { events: [{ action: "push", target: { repository: "org/app", tag: "1.1.0" }, request: { host: "gcr.io" } }] })

describe("POST /api/v1/targets/pause and /resume", () => {
  test("a paused target is held pass after pass; resumed, it is written", async () => {
    const w = fakeWorld()
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    w.images.set(IMAGE, [{ tag: "1.0.0" }])
    const { url, layer: server } = await apiServer(w, TOKEN)
    const target = { repoId: "config", filePath: "app.yaml", field: "image" }
    await Effect.runPromise(
      Effect.gen(function* () {
        const daemon = yield* Effect.forkDaemon(runForever([pipeline], w.options))
        yield* w.nextPass
        const call = (path: string, body: unknown, token?: string) => Effect.promise(() => post(url, path, body, token))
        expect(yield* call("/api/v1/targets/pause", target)).toEqual({ status: 200, body: JSON.stringify({ paused: { _tag: "Target", ...target }, changed: true }) })
        expect((yield* call("/api/v1/targets/pause", target, "wrong")).status).toBe(401)
        const bad = yield* call("/api/v1/targets/pause", { repoId: "config" })
        expect(bad.status).toBe(400)
        expect(JSON.parse(bad.body).error).toContain("filePath")
        expect((yield* call("/api/v1/targets/pause", "{not json")).status).toBe(400)
        w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
        for (let i = 0; i < 2; i++) {
          expect((yield* Effect.promise(() => pushed(url))).status).toBe(200)
          yield* w.nextPass
          expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.0.0\n`)
        }
        expect((yield* call("/api/v1/targets/resume", target)).status).toBe(200)
        expect((yield* Effect.promise(() => pushed(url))).status).toBe(200)
        yield* w.nextPass
        expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.1.0\n`)
        yield* stopDaemon(daemon)
      }).pipe(Effect.scoped, Effect.provide(server), Effect.provide(TestContext.TestContext))
    )
  }, 60_000)
})
