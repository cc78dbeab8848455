/**
 * Notifications while a pass runs: the real HTTP server and the schedule stage in process, on fake
 * git and a fake registry that can be held mid-pass. Passes are counted by `runner_passes_total`.
 */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { runForever } from "../../src/pipeline/run.ts"
import { unionSelection } from "../../src/pipeline/Triggers.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { TagStore } from "../../src/registry/TagStore.ts"
import { metricsText, serverLayer } from "../../src/server/Http.ts"
import { Notices } from "../../src/server/Notices.ts"
import { fakeWorld, holdable, pipelineOf, REMOTE, until, WATCHER } from "../support/inProcess.ts"
import { freePort } from "../support/registry.ts"

const TOKEN = "coalesce-api-token"
const IMAGE = "gcr.io/org/app"
const pipeline = { ...pipelineOf(), name: "coalesce.yaml" }

const passes = Effect.map(metricsText, (text) =>
  [...text.matchAll(/^runner_passes_total\{pipeline="coalesce\.yaml",result="\w+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
)

const packageEvent = JSON.stringify({
  action: "published",
  package: { name: "app", namespace: "org", package_type: "CONTAINER", package_version: { container_metadata: { tag: { name: "1.1.0" } } } }
})

const deliver = (url: string, delivery: string) =>
  fetch(`${url}/api/v1/webhooks/github`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, "x-github-delivery": delivery },
    body: packageEvent
  }).then(async (r) => ({ status: r.status, body: await r.text() }))

describe("notifications while a pass runs", () => {
  test("300 replays of one delivery and 300 distinct deliveries make at most two passes", async () => {
    const images = new Map([[IMAGE, [{ tag: "1.0.0" }]]])
    const held = holdable(TagSource.layerTest(images))
    const w = fakeWorld(held.layer)
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const server = serverLayer({ host: "127.0.0.1", port, token: Option.some(Redacted.make(TOKEN)), githubSignature: Option.none(), pipelineCount: 1 }).pipe(
      Layer.provide(Notices.layer(w.options.dataDir, 1)),
      Layer.provide(TagStore.layer),
      Layer.provideMerge(w.layer)
    )
    await Effect.runPromise(
      Effect.gen(function* () {
        const daemon = yield* Effect.fork(runForever([pipeline], w.options))
        yield* until(() => Effect.runSync(passes) === 1)
        const first = yield* held.holdNext
        images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
        const opening = yield* Effect.promise(() => deliver(url, "delivery-0"))
        expect(opening.status).toBe(200)
        // The delivery's pass now waits in its listing: everything below arrives while it runs.
        yield* Deferred.await(first.entered)
        const replays = yield* Effect.promise(() => Promise.all(Array.from({ length: 300 }, () => deliver(url, "delivery-0"))))
        const distinct = yield* Effect.promise(() => Promise.all(Array.from({ length: 300 }, (_, i) => deliver(url, `delivery-${i + 1}`))))
        for (const r of [...replays, ...distinct]) expect(r.status).toBe(200)
        expect(replays.every((r) => JSON.parse(r.body).duplicate === true)).toBe(true)
        expect(distinct.some((r) => JSON.parse(r.body).duplicate === true)).toBe(false)
        yield* first.release
        yield* until(() => Effect.runSync(passes) >= 3)
        // Time for any further pass to start and finish.
        yield* Effect.sleep("500 millis")
        expect(yield* passes).toBe(3)
        expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.1.0\n`)
        yield* Fiber.interrupt(daemon)
      }).pipe(Effect.scoped, Effect.provide(server))
    )
  }, 60_000)
})

describe("unionSelection", () => {
  const set = (...ids: ReadonlyArray<string>) => new Set(ids)
  test.each([
    { name: "two sets", a: set("x"), b: set("y"), expected: ["x", "y"] },
    { name: "nothing yet, then a set", a: set(), b: set("y"), expected: ["y"] },
    { name: "a tick (all) absorbs a set", a: undefined, b: set("y"), expected: undefined },
    { name: "a set, then a tick", a: set("x"), b: undefined, expected: undefined }
  ])("$name", ({ a, b, expected }) => {
    const union = unionSelection(a, b)
    expect(union === undefined ? undefined : [...union].sort()).toEqual(expected === undefined ? undefined : [...expected])
  })
})
