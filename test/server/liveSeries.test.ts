/** Which series /metrics shows after a reload: those of the pipelines and repositories watched now. */
import { describe, expect, test } from "bun:test"
import { MetricKey, MetricLabel } from "effect"
import { isLiveSeries } from "../../src/server/liveSeries.ts"

const watched = new Map([["a.yaml", new Set(["web", "db"])], ["b.yaml", new Set(["ops"])]])

const key = (labels: Record<string, string>) =>
  MetricKey.counter("runner_x_total").pipe(MetricKey.taggedWithLabels(Object.entries(labels).map(([k, v]) => MetricLabel.make(k, v))))

describe("isLiveSeries", () => {
  test.each([
    ["no labels", {}, true],
    ["a watched pipeline", { pipeline: "a.yaml" }, true],
    ["a removed pipeline", { pipeline: "gone.yaml" }, false],
    ["a watched repository of its pipeline", { pipeline: "a.yaml", repo: "web" }, true],
    ["a repository the reload removed", { pipeline: "a.yaml", repo: "old" }, false],
    ["a repository of another pipeline", { pipeline: "b.yaml", repo: "web" }, false],
    ["a repository without pipeline label, watched", { repo: "ops", state: "open" }, true],
    ["a repository without pipeline label, removed", { repo: "old", state: "open" }, false],
    ["counted outside any pass", { provider: "hub", code: "200", pipeline: "" }, true]
  ] as const)("%s", (_name, labels, live) => {
    expect(isLiveSeries(watched)(key(labels))).toBe(live)
  })
})
