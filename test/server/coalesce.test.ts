/**
 * Notifications while a pass runs: the real HTTP server and the schedule stage in process, on fake
 * git and a fake registry that can be held mid-pass, on a virtual clock that never ticks. Passes
 * are counted by `runner_passes_total`, and awaited as the fakes report them.
 */
import { describe, expect, test } from "bun:test"
import { Deferred, Effect, TestContext } from "effect"
import { runForever } from "../../src/pipeline/run.ts"
import { unionSelection } from "../../src/pipeline/Triggers.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { metricsText } from "../../src/server/Http.ts"
import { apiServer, fakeWorld, holdable, pipelineOf, REMOTE, stopDaemon, WATCHER } from "../support/inProcess.ts"

const TOKEN = "coalesce-api-token"
const IMAGE = "gcr.io/org/app"
const DB = "gcr.io/org/db"
const OTHER = "https://git.test/org/other.git"
// Two repositories: `config` watches the notified image, `other` another one, notified last.
const base = pipelineOf()
const pipeline = {
  ...base,
  name: "coalesce.yaml",
  repositories: [...base.repositories, { repoId: "other", remote: OTHER, branch: "main", source: { file: "piped.yaml", line: 9 } }]
}

const passes = Effect.map(metricsText, (text) =>
  [...text.matchAll(/^runner_passes_total\{pipeline="coalesce\.yaml",result="\w+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
)

const packageEvent = (name: string) =>
  JSON.stringify({
    action: "published",
    package: { name, namespace: "org", package_type: "CONTAINER", package_version: { container_metadata: { tag: { name: "1.1.0" } } } }
  })

const deliver = (url: string, delivery: string, name = "app") =>
  fetch(`${url}/api/v1/webhooks/github`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, "x-github-delivery": delivery },
    body: packageEvent(name)
  }).then(async (r) => ({ status: r.status, body: await r.text() }))

describe("notifications while a pass runs", () => {
  test("300 replays of one delivery and 300 distinct deliveries make two passes", async () => {
    const images = new Map([
      [IMAGE, [{ tag: "1.0.0" }]],
      [DB, [{ tag: "2.0.0" }]]
    ])
    const held = holdable(TagSource.layerTest(images))
    const w = fakeWorld(held.layer)
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    w.remotes.create(OTHER, { "db.yaml": `image: ${DB}:2.0.0\n`, ".pipe/w.yaml": WATCHER.replace(IMAGE, DB).replace("app.yaml", "db.yaml") })
    const { url, layer: server } = await apiServer(w, TOKEN)
    await Effect.runPromise(
      Effect.gen(function* () {
        const daemon = yield* Effect.forkDaemon(runForever([pipeline], w.options))
        expect(yield* w.nextPass).toEqual({ pipeline: pipeline.name, repoIds: ["config", "other"] })
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
        // The delivery's pass, then the one pass all that arrived meanwhile gathered into.
        expect(yield* w.nextPass).toEqual({ pipeline: pipeline.name, repoIds: ["config"] })
        expect(yield* w.nextPass).toEqual({ pipeline: pipeline.name, repoIds: ["config"] })
        // Passes of a pipeline come in order: the pass after a notification for the other
        // repository's image is that notification's, unless the ones before made more passes.
        expect((yield* Effect.promise(() => deliver(url, "delivery-last", "db"))).status).toBe(200)
        expect(yield* w.nextPass).toEqual({ pipeline: pipeline.name, repoIds: ["other"] })
        expect(yield* passes).toBe(4)
        expect(w.remotes.readFile(REMOTE, "app.yaml")).toBe(`image: ${IMAGE}:1.1.0\n`)
        yield* stopDaemon(daemon)
      }).pipe(Effect.scoped, Effect.provide(server), Effect.provide(TestContext.TestContext))
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
