/**
 * The data-dir stores of what the runner last wrote and of paused targets: one contract, run on
 * the file layer and on the in-memory one; a damaged file is read as empty, with a warning.
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, Logger, LogLevel, TestClock, TestContext } from "effect"
import { LastWritten, writtenKey } from "../../src/pipeline/LastWritten.ts"
import { isPaused, Pauses } from "../../src/pipeline/Pauses.ts"
import { tempDir } from "../support/tempDirs.ts"

const quiet = Logger.minimumLogLevel(LogLevel.None)
const app = { filePath: "app.yaml", field: "image", image: "gcr.io/x/app" }
const run = <A, E>(effect: Effect.Effect<A, E, LastWritten | Pauses>, layer: Layer.Layer<LastWritten | Pauses>) =>
  Effect.runPromise(effect.pipe(Effect.provide(layer), Effect.provide(NodeContext.layer), Effect.provide(quiet), Effect.provide(TestContext.TestContext)))

const layers = {
  file: (max: number) => Layer.merge(LastWritten.layerWith(max), Pauses.layerWith(max)).pipe(Layer.provide(NodeContext.layer)),
  memory: (max: number) => Layer.merge(LastWritten.layerTestWith(max), Pauses.layerTestWith(max))
}

describe.each(Object.keys(layers) as Array<keyof typeof layers>)("stores, %s layer", (kind) => {
  const layer = layers[kind]
  test("last written: nothing at first, then the last tag recorded, by repository and target (its image part of it)", async () => {
    const dir = tempDir("runner-written-")
    const got = await run(
      Effect.gen(function* () {
        const store = yield* LastWritten
        const before = yield* store.read(dir, "config")
        yield* TestClock.adjust(1000)
        yield* store.record(dir, "config", [{ ...app, tag: "1.27.3" }])
        yield* store.record(dir, "config", [{ ...app, tag: "1.27.4" }, { ...app, image: "gcr.io/x/other", tag: "2.0.0" }])
        const after = yield* store.read(dir, "config")
        const other = yield* store.read(dir, "other-repo")
        return { before: before.size, tag: after.get(writtenKey(app)), image: after.get(writtenKey({ ...app, image: "gcr.io/x/other" }))?.tag, other: other.size }
      }),
      layer(100)
    )
    expect(got).toEqual({ before: 0, tag: { tag: "1.27.4", at: 1000 }, image: "2.0.0", other: 0 })
  })

  test("last written: bounded, the oldest recorded go first", async () => {
    const dir = tempDir("runner-written-")
    const kept = await run(
      Effect.gen(function* () {
        const store = yield* LastWritten
        for (const field of ["a", "b", "c"]) {
          yield* TestClock.adjust(1000)
          yield* store.record(dir, "config", [{ ...app, field, tag: "1.0.0" }])
        }
        return [...(yield* store.read(dir, "config")).keys()].sort()
      }),
      layer(2)
    )
    expect(kept).toEqual([writtenKey({ ...app, field: "b" }), writtenKey({ ...app, field: "c" })])
  })

  test("pauses: a pause is listed until resumed; twice is once; bounded", async () => {
    const dir = tempDir("runner-pauses-")
    const target = { _tag: "Target", repoId: "config", filePath: "app.yaml", field: "image" } as const
    const image = { _tag: "Image", image: "docker.io/library/nginx" } as const
    const got = await run(
      Effect.gen(function* () {
        const pauses = yield* Pauses
        const added = [yield* pauses.pause(dir, target), yield* pauses.pause(dir, target), yield* pauses.pause(dir, image)]
        const listed = yield* pauses.list(dir)
        const full = yield* Effect.flip(pauses.pause(dir, { _tag: "Image", image: "gcr.io/x/third" }))
        const removed = [yield* pauses.resume(dir, target), yield* pauses.resume(dir, target)]
        return { added, listed, full: full.message, removed, after: yield* pauses.list(dir) }
      }),
      layer(2)
    )
    expect(got).toEqual({ added: [true, false, true], listed: [target, image], full: "pauses: 2 pauses already kept; resume some first", removed: [true, false], after: [image] })
  })
})

describe("stores on files", () => {
  test("a damaged file is read as empty, and the next write replaces it", async () => {
    const dir = tempDir("runner-damaged-")
    mkdirSync(join(dir, "written"))
    writeFileSync(join(dir, "written", "config.json"), '{"written": {"x": {"tag": 1')
    writeFileSync(join(dir, "pauses.json"), "[not json")
    const got = await run(
      Effect.gen(function* () {
        const store = yield* LastWritten
        const pauses = yield* Pauses
        const before = [(yield* store.read(dir, "config")).size, (yield* pauses.list(dir)).length]
        yield* store.record(dir, "config", [{ ...app, tag: "1.0.0" }])
        return { before, after: (yield* store.read(dir, "config")).get(writtenKey(app))?.tag }
      }),
      layers.file(10)
    )
    expect(got).toEqual({ before: [0, 0], after: "1.0.0" })
  })
})

describe("isPaused", () => {
  const pauses = [
    { _tag: "Target", repoId: "config", filePath: "app.yaml", field: "image" },
    { _tag: "Image", image: "docker.io/library/nginx" }
  ] as const
  test.each([
    ["config", "app.yaml", "image", "gcr.io/x/app", true],
    ["other", "app.yaml", "image", "gcr.io/x/app", false],
    ["config", "app.yaml", "spec.image", "gcr.io/x/app", false],
    ["any", "web.yaml", "image", "nginx", true],
    ["any", "web.yaml", "image", "docker.io/library/nginx", true],
    ["any", "web.yaml", "image", "ghcr.io/x/nginx", false]
  ] as const)("%s %s %s %s: %p", (repoId, filePath, field, image, paused) => {
    expect(isPaused(pauses, repoId, { filePath, field, image })).toBe(paused)
  })
})
