/** Watcher files are anyone's with a commit: one too large or broken fails alone, and is read and parsed once per blob. */
import { describe, expect, test } from "bun:test"
import { Effect, Option } from "effect"
import type { Blob, Checkout, Listed } from "../../src/git/GitRepo.ts"
import { parseCache } from "../../src/pipeline/ParseCache.ts"
import { formatReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { MAX_MANIFEST_MIB } from "../../src/pipeline/sizeLimit.ts"
import { loadWatcherFiles } from "../../src/pipeline/watchers.ts"
import { fakeWorld, pipelineOf, REMOTE, WATCHER } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"

describe("a watcher file over the manifests' size limit", () => {
  test("fails that file alone, saying why; the other files' targets run", async () => {
    const w = fakeWorld()
    // Valid YAML the parser would take whole: a comment line, then the same target as the small file.
    const big = `# ${"x".repeat(MAX_MANIFEST_MIB * 2 ** 20)}\n${WATCHER.replace("app.yaml", "other.yaml")}`
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, "other.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/big.yaml": big, ".pipe/w.yaml": WATCHER })
    w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
    const report = await Effect.runPromise(runOnce([pipelineOf()], w.options).pipe(Effect.provide(w.layer)))
    expect(report.failures.map((f) => [f.scope, f.failure.message])).toEqual([
      ["config/.pipe/big.yaml", `.pipe/big.yaml is ${Math.round(big.length / 1e5) / 10} MB; watcher files over ${MAX_MANIFEST_MIB} MiB are left alone`],
    ])
    expect(report.targets.map((t) => [t.filePath, t.outcome._tag])).toEqual([["app.yaml", "Updated"]])
    expect(w.remotes.readFile(REMOTE, "other.yaml")).toBe(`image: ${IMAGE}:1.0.0\n`)
    expect(formatReport(report)).toContain("config/.pipe/big.yaml  failed: .pipe/big.yaml is 1.6 MB; watcher files over 1.5 MiB are left alone")
  })
})

/** A checkout at a fixed head that counts the paths it is asked to read. */
const countingCheckout = (files: Record<string, { oid: string; text: string }>) => {
  const reads: Array<string> = []
  const blobOf = (path: string): Option.Option<Blob> => {
    const file = files[path]
    return file === undefined ? Option.none() : Option.some({ oid: file.oid, text: file.text, kind: "text", size: new TextEncoder().encode(file.text).length })
  }
  const checkout: Checkout = {
    repoId: "config",
    sync: Effect.succeed("head"),
    head: Effect.succeed("head"),
    readFiles: (paths) => Effect.sync(() => paths.map((path) => (reads.push(path), blobOf(path)))),
    listFiles: (dir) =>
      Effect.succeed(
        Object.entries(files).flatMap(([path, { oid }]): ReadonlyArray<Listed> => (path.startsWith(`${dir}/`) ? [{ name: path.slice(dir.length + 1), oid }] : []))
      ),
    listTree: Effect.succeed([]),
    commitAll: () => Effect.succeed([]),
    push: Effect.succeed({ _tag: "Pushed" }),
    branches: {
      fetch: () => Effect.succeed(Option.none()),
      commitOnto: () => Effect.succeed([]),
      merge: () => Effect.succeed({ _tag: "UpToDate" }),
      push: () => Effect.succeed({ _tag: "Pushed" }),
      authorOf: () => Effect.succeed({ name: "", email: "" })
    }
  }
  return { checkout, reads }
}

const REJECTED = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: image}
    - {image: ${IMAGE}, provider: registry, filePath: ../escape.yaml, field: image}
`

describe("a watcher file that failed is remembered by its blob", () => {
  const cases = [
    { name: "not YAML", text: "spec: [", files: 0 },
    { name: "not an ImageWatcher", text: "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec: {targets: 3}\n", files: 0 },
    { name: "too large", text: `# ${"x".repeat(MAX_MANIFEST_MIB * 2 ** 20)}\n`, files: 0 },
    { name: "one target rejected, the other kept", text: REJECTED, files: 1 },
  ]
  test.each(cases)("$name: read and parsed once, failing the same way in every pass, and again once it changes", async ({ text, files }) => {
    const world = { ".pipe/broken.yaml": { oid: "b1", text }, ".pipe/w.yaml": { oid: "w1", text: WATCHER } }
    const { checkout, reads } = countingCheckout(world)
    const load = (cache: ReturnType<typeof parseCache>) => Effect.runPromise(loadWatcherFiles(checkout, undefined, cache))

    const cache = parseCache(undefined)
    const first = await load(cache)
    expect(first.failures.length).toBeGreaterThan(0)
    expect(first.failures.every((f) => f.path === ".pipe/broken.yaml")).toBe(true)
    expect(first.files.map((f) => f.path)).toEqual([...(files === 1 ? [".pipe/broken.yaml"] : []), ".pipe/w.yaml"])
    expect(reads).toEqual([".pipe/broken.yaml", ".pipe/w.yaml"])

    // The next pass, in this process and in the next one (the cache saved and loaded): nothing is read.
    const again = await load(cache)
    const reloaded = await load(parseCache(cache.save()))
    expect(again).toEqual(first)
    expect(reloaded).toEqual(first)
    expect(reads).toEqual([".pipe/broken.yaml", ".pipe/w.yaml"])

    // Another blob at the same path is read and parsed afresh.
    world[".pipe/broken.yaml"] = { oid: "b2", text: WATCHER.replace("app.yaml", "fixed.yaml") }
    const fixed = await load(cache)
    expect(fixed.failures).toEqual([])
    expect(reads).toEqual([".pipe/broken.yaml", ".pipe/w.yaml", ".pipe/broken.yaml"])
  })
})
