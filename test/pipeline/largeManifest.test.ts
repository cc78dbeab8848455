/**
 * Huge manifests, through a pass in process: one over the limit is refused quickly and without
 * parsing, one under it is planned and patched within bounds of time and memory.
 */
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { MAX_MANIFEST_MIB } from "../../src/pipeline/sizeLimit.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { fakeWorld, pipelineOf, REMOTE, WATCHER } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"
const HEAD = `image: ${IMAGE}:1.0.0\n`

/** `count` small YAML documents after the one that holds the image. */
const documents = (count: number) => {
  const parts = [HEAD]
  for (let i = 0; i < count; i++) {
    parts.push(`---\nkind: ConfigMap\nmetadata:\n  name: config-${i}\n  namespace: default\n  labels: {app: demo, tier: backend}\ndata:\n  key: value-${i}\n  note: "a small document among many"\n`)
  }
  return parts.join("")
}

/** One document: the image, then a list of `count` small maps. */
const listOfMaps = (count: number) => {
  const parts = [HEAD, "items:\n"]
  for (let i = 0; i < count; i++) parts.push(`  - name: item-${i}\n    value: value-${i}\n    enabled: true\n`)
  return parts.join("")
}

/** A pass over `app.yaml` holding `text`: the target's outcome, with the wall time and RSS growth. */
const measured = async (text: string) => {
  const w = fakeWorld()
  w.remotes.create(REMOTE, { "app.yaml": text, ".pipe/w.yaml": WATCHER })
  w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
  Bun.gc(true)
  const rss = process.memoryUsage().rss
  const started = performance.now()
  let peak = rss
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  const report = await Effect.runPromise(runOnce([pipelineOf()], w.options).pipe(Effect.provide(w.layer)))
  clearInterval(sampler)
  const seconds = (performance.now() - started) / 1000
  const grownMB = (Math.max(peak, process.memoryUsage().rss) - rss) / 2 ** 20
  const outcome = report.targets[0]?.outcome
  const result = outcome?._tag === "Failed" ? outcome.failure.message : outcome?._tag
  console.log(`${(text.length / 1e6).toFixed(1)} MB: ${result} in ${seconds.toFixed(2)} s, RSS +${grownMB.toFixed(0)} MB`)
  return { result, seconds, grownMB, file: w.remotes.readFile(REMOTE, "app.yaml") }
}

describe("manifests of 50 MB are refused, quickly", () => {
  test.each([
    ["314,061 small documents", () => documents(314_060)],
    ["a list of small maps", () => listOfMaps(880_000)]
  ])("%s", async (_name, make) => {
    const text = make()
    expect(text.length).toBeGreaterThan(50 * 2 ** 20)
    const { file, grownMB, result, seconds } = await measured(text)
    expect(result).toBe(`app.yaml is ${Math.round(text.length / 1e5) / 10} MB; manifests over ${MAX_MANIFEST_MIB} MiB are left alone`)
    expect(file).toBe(text)
    expect(seconds).toBeLessThan(10)
    expect(grownMB).toBeLessThan(500)
  }, 120_000)
})

describe("manifests just under the limit are planned and patched within bounds", () => {
  test.each([
    ["small documents", () => documents(9_000)],
    ["a list of small maps", () => listOfMaps(24_700)]
  ])("%s", async (_name, make) => {
    const text = make()
    expect(text.length).toBeGreaterThan((MAX_MANIFEST_MIB - 0.1) * 2 ** 20)
    expect(text.length).toBeLessThan(MAX_MANIFEST_MIB * 2 ** 20)
    const { file, grownMB, result, seconds } = await measured(text)
    expect(result).toBe("Updated")
    expect(file).toBe(text.replace(`${IMAGE}:1.0.0`, `${IMAGE}:1.1.0`))
    expect(seconds).toBeLessThan(10)
    expect(grownMB).toBeLessThan(500)
  }, 120_000)
})
