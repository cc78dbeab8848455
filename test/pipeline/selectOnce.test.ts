/**
 * The selector runs once per target and current tag in a pass, whatever the gates and pinned
 * digests make `resolve` look up: a whole pass in process, counting the calls of the very
 * selectors the pass compiles.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { Duration, Effect, Either, TestClock, TestContext } from "effect"
import type { GateConfig } from "../../src/config/model.ts"
import { decodeWatcherFile } from "../../src/config/WatcherFile.ts"
import { resolveTarget } from "../../src/domain/Target.ts"
import { Signatures } from "../../src/gates/Signatures.ts"
import { compileTarget } from "../../src/pipeline/plan.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import type { Selector } from "../../src/policy/select.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const NOW = Date.parse("2026-11-30T12:00:00Z")
const HOUR = 3_600_000
const digest = (c: string) => `sha256:${c.repeat(64)}`

const WATCHER = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: gcr.io/org/plain, provider: registry, filePath: app.yaml, field: plain}
    - {image: gcr.io/org/plain, provider: registry, filePath: app.yaml, field: older}
    - {image: gcr.io/org/plain, provider: registry, filePath: other.yaml, field: plain}
    - {image: gcr.io/org/aged, provider: registry, filePath: app.yaml, field: aged}
    - {image: gcr.io/org/signed, provider: registry, filePath: app.yaml, field: signed}
    - {image: gcr.io/org/pinned, provider: registry, filePath: app.yaml, field: pinned}
`

const APP = `plain: gcr.io/org/plain:1.0.0
older: gcr.io/org/plain:0.9.0
aged: gcr.io/org/aged:1.0.0
signed: gcr.io/org/signed:1.0.0@${digest("0")}
pinned: gcr.io/org/pinned:1.0.0@${digest("a")}
`

const gates: ReadonlyArray<GateConfig> = [
  { images: ["gcr.io/org/aged"], minAge: Duration.hours(24), pinDigest: false, source: { file: "piped.yaml", line: 30 } },
  { images: ["gcr.io/org/signed"], cosign: { publicKeyFile: "/keys/cosign.pub" }, pinDigest: true, source: { file: "piped.yaml", line: 40 } }
]

type Counted = { select: Selector["select"]; inTurn: Selector["inTurn"] }
const restore: Array<() => void> = []
afterEach(() => {
  for (const undo of restore.splice(0)) undo()
})

/** Counts every call of the selectors the pass will compile for the watcher's targets, by current tag. */
const countCalls = () => {
  const calls: Array<string> = []
  const file = Either.getOrThrow(decodeWatcherFile(".pipe/w.yaml", WATCHER))
  const selectors = new Set(file.targets.map((t) => Either.getOrThrow(compileTarget(resolveTarget(t, undefined))).selector))
  for (const selector of selectors) {
    // The pass compiles the same specs to these very objects.
    const counted = selector as unknown as Counted
    const { select, inTurn } = counted
    counted.select = (tags, current) => (calls.push(`select ${current}`), select(tags, current))
    counted.inTurn = (tags, current) => (calls.push(`inTurn ${current}`), inTurn(tags, current))
    restore.push(() => Object.assign(counted, { select, inTurn }))
  }
  return calls
}

describe("the selector in a pass", () => {
  test("runs once per target and current tag, through gates that pass candidates over and digests looked up", async () => {
    const w = fakeWorld(undefined, Signatures.layerTest((_image, d) => (d === digest("c") ? Either.void : Either.left("no signature"))))
    w.remotes.create(REMOTE, { "app.yaml": APP, "other.yaml": "plain: gcr.io/org/plain:1.0.0\n", ".pipe/w.yaml": WATCHER })
    w.images.set("gcr.io/org/plain", [{ tag: "0.9.0" }, { tag: "1.0.0" }, { tag: "1.1.0" }])
    // Two candidates too new for the gate before one old enough.
    w.images.set("gcr.io/org/aged", [
      { tag: "1.0.0", pushed: new Date(NOW - 90 * 24 * HOUR) },
      { tag: "1.1.0", pushed: new Date(NOW - 48 * 24 * HOUR) },
      { tag: "1.2.0", pushed: new Date(NOW - 2 * HOUR) },
      { tag: "1.3.0", pushed: new Date(NOW - HOUR) }
    ])
    // The best candidate unsigned, the next signed.
    w.images.set("gcr.io/org/signed", [
      { tag: "1.0.0", digest: digest("0") },
      { tag: "1.1.0", digest: digest("c") },
      { tag: "1.2.0", digest: digest("d") }
    ])
    w.images.set("gcr.io/org/pinned", [{ tag: "1.0.0", digest: digest("a") }, { tag: "1.1.0", digest: digest("b") }])
    const calls = countCalls()
    const report = await Effect.runPromise(
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        return yield* runOnce([pipelineOf({ gates })], w.options)
      }).pipe(Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
    )
    expect(report.targets.map((t) => `${t.field} ${t.current} -> ${t.chosen} ${t.outcome._tag}`)).toEqual([
      "plain 1.0.0 -> 1.1.0 Updated",
      "older 0.9.0 -> 0.9.0 UpToDate",
      "plain 1.0.0 -> 1.1.0 Updated",
      "aged 1.0.0 -> 1.1.0 Updated",
      "signed 1.0.0 -> 1.1.0 Updated",
      "pinned 1.0.0 -> 1.1.0 Updated"
    ])
    // One choice per (image, selector, current tag): the two `plain` fields at 1.0.0 share theirs.
    // The gated images' rank order is read once more, in one go, for the gates to walk.
    expect(calls.toSorted()).toEqual(["inTurn 1.0.0", "inTurn 1.0.0", "select 0.9.0", "select 1.0.0", "select 1.0.0", "select 1.0.0", "select 1.0.0"])
  })
})
