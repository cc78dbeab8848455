/**
 * A person's rollback is obeyed: the tag the runner last wrote, and every candidate at or below
 * it, are held while the field ranks below it; a newer tag is written as usual. Decided by the
 * target's own policy, pure, as a table.
 */
import { describe, expect, test } from "bun:test"
import { Duration } from "effect"
import { holdText, stopOf } from "../../src/pipeline/holds.ts"
import { checkRow, DAY, gate, HOUR, IMAGE, type Row, tag } from "../support/decision.ts"

const img = (t: string) => `image: ${IMAGE}:${t}\n`
const HELD = "Held (rolled back below 1.27.3: held until a newer tag): "
const auto = { policy: { _tag: "version", range: "auto" } } as const

const rows: ReadonlyArray<Row> = [
  { name: "rolled back below the tag written: held", text: img("1.26.0"), lastWritten: "1.27.3", listing: [tag("1.26.0"), tag("1.27.3")], expect: HELD },
  {
    name: "rolled back: candidates between the field and the tag written are held too",
    text: img("1.26.0"),
    lastWritten: "1.27.3",
    listing: [tag("1.26.0"), tag("1.26.5"), tag("1.27.0"), tag("1.27.3")],
    expect: HELD
  },
  {
    name: "rolled back, a newer tag than the one written: written as usual",
    text: img("1.26.0"),
    lastWritten: "1.27.3",
    listing: [tag("1.26.0"), tag("1.27.3"), tag("1.27.4")],
    expect: `Update 1.27.4 (image: ${IMAGE}:1.27.4)`
  },
  { name: "the field holds the tag written: as usual", text: img("1.27.3"), lastWritten: "1.27.3", listing: [tag("1.27.3"), tag("1.28.0")], expect: `Update 1.28.0 (image: ${IMAGE}:1.28.0)` },
  { name: "the field ranks above the tag written: as usual", text: img("1.28.0"), lastWritten: "1.27.3", listing: [tag("1.27.3"), tag("1.28.0")], expect: "UpToDate 1.28.0" },
  { name: "nothing written yet (store empty): as usual", text: img("1.26.0"), listing: [tag("1.26.0"), tag("1.27.3")], expect: `Update 1.27.3 (image: ${IMAGE}:1.27.3)` },
  {
    name: "variants: a field set back on its variant is held",
    text: img("1.26.0-alpine"),
    target: { policy: { _tag: "version", range: "^" } },
    lastWritten: "1.27.3-alpine",
    listing: [tag("1.26.0-alpine"), tag("1.27.3-alpine"), tag("1.28.0")],
    expect: HELD.replace("1.27.3", "1.27.3-alpine")
  },
  {
    name: "variants: a field moved to another variant is not a rollback",
    text: img("1.26.0-alpine"),
    target: auto,
    lastWritten: "1.27.3",
    listing: [tag("1.26.0-alpine"), tag("1.26.1-alpine"), tag("1.27.3")],
    expect: `Update 1.26.1-alpine (image: ${IMAGE}:1.26.1-alpine)`
  },
  {
    name: "a floating tag cannot rank below anything: left alone as before",
    text: img("latest"),
    target: { policy: { _tag: "version", range: "^" } },
    lastWritten: "1.27.3",
    listing: [tag("latest"), tag("1.27.3")],
    expect: "LeftAlone latest: floating tag: name a policy to manage it"
  },
  {
    name: "rolled back under a gate: only candidates above the tag written are walked",
    text: img("1.26.0"),
    lastWritten: "1.27.3",
    gates: [gate({ minAge: Duration.hours(24) })],
    listing: [tag("1.26.0", { pushed: 9 * DAY }), tag("1.27.3", { pushed: 5 * DAY }), tag("1.27.4", { pushed: HOUR })],
    expect: `${HELD}held: 1.27.4 too new (pushed 1h ago, needs 24h)`
  }
]

describe("rollbacks", () => {
  test.each(rows.map((r) => [r.name, r] as const))("%s", (_name, row) => checkRow(row))
})

describe("suspensions and pauses", () => {
  const table = [
    [undefined, false, false, undefined],
    ["target", false, false, "suspended (target)"],
    ["watcher file", false, true, "suspended (watcher file)"],
    [undefined, true, true, "suspended (repository)"],
    [undefined, false, true, "paused (API)"]
  ] as const
  test.each(table)("target %p, repository suspended %p, paused %p: %p", (suspended, repo, paused, said) => {
    const stop = stopOf(suspended, repo, paused)
    expect(stop === undefined ? undefined : holdText(stop)).toBe(said)
  })
})
