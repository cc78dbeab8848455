/** A target's log event fields: what a held target's event says, and why. */
import { describe, expect, test } from "bun:test"
import { targetFields } from "../../src/pipeline/events.ts"
import type { Outcome, TargetReport } from "../../src/pipeline/report.ts"

const target = (outcome: Outcome): TargetReport => ({
  pipeline: "p",
  repoId: "config",
  watcherFile: ".pipe/w.yaml",
  line: 5,
  filePath: "app.yaml",
  field: "spec.image",
  image: "gcr.io/org/app",
  current: "1.27.1",
  chosen: undefined,
  listed: 4,
  kept: 4,
  outcome
})

describe("the event of a held target", () => {
  test.each([
    ["rolled back", { _tag: "Held", reason: { _tag: "RolledBack", below: "1.27.3" } }, { reason: "rolled_back", held: "rolled back below 1.27.3: held until a newer tag" }],
    ["suspended on the target", { _tag: "Held", reason: { _tag: "Suspended", by: "target" } }, { reason: "suspended", held: "suspended (target)" }],
    ["suspended by its watcher file", { _tag: "Held", reason: { _tag: "Suspended", by: "watcher file" } }, { reason: "suspended", held: "suspended (watcher file)" }],
    ["suspended on the repository", { _tag: "Held", reason: { _tag: "Suspended", by: "repository" } }, { reason: "suspended", held: "suspended (repository)" }],
    ["paused through the API", { _tag: "Held", reason: { _tag: "Paused" } }, { reason: "paused", held: "paused (API)" }],
    // Held by the gates alone: their notes say why, the event has neither key.
    ["held by the gates", { _tag: "Held" }, {}]
  ] satisfies ReadonlyArray<readonly [string, Outcome, Record<string, string>]>)("%s", (_name, outcome, extra) => {
    expect(targetFields(target(outcome))).toEqual({
      image: "gcr.io/org/app",
      from: "1.27.1",
      file: "app.yaml",
      field: "spec.image",
      repo: "config",
      outcome: "held",
      ...extra
    })
  })
})
