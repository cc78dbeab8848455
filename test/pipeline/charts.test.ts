/**
 * Chart targets in a pass, in process: versions from a chart repository's index (ChartIndex's
 * fake), the default policy, a repository the config does not declare or keeps in git, and the
 * gates a chart repository cannot answer.
 */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Layer, TestClock, TestContext } from "effect"
import { ChartIndex } from "../../src/charts/ChartIndex.ts"
import type { GateConfig } from "../../src/config/model.ts"
import type { ChartRepository } from "../../src/domain/ChartSource.ts"
import { formatReport, type PassReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const NOW = Date.parse("2026-11-30T12:00:00Z")
const DAY = 86_400_000
const source = { file: "piped.yaml", line: 20 }

const repositories: ReadonlyArray<ChartRepository> = [
  { type: "HTTP", name: "bitnami", address: "https://charts.example.com/stable", insecure: false, interval: Duration.minutes(5), source },
  { type: "GIT", name: "in-git", gitRemote: "https://git.example.com/charts.git", source }
]

/** nginx's versions, dated by the index's `created`: the 1.2 line was left for newer ones long ago. */
const VERSIONS = ([["1.2.0", 300], ["1.3.1", 200], ["1.10.0", 100], ["2.0.0", 50], ["1.11.0-rc.1", 10]] as const).map(([version, days]) => ({ version, created: NOW - days * DAY }))

const chartFile = (version: string) => `apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: nginx\n    version: ${version}\n    repository: https://charts.example.com/stable\n`

const watcher = (provider: string, extra = "") => `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {chart: nginx, provider: ${provider}, filePath: Chart.yaml, field: "dependencies[0].version"${extra}}
`

const pass = async (provider: string, options: { readonly gates?: ReadonlyArray<GateConfig>; readonly extra?: string } = {}) => {
  const charts = ChartIndex.layerFake({ bitnami: { nginx: VERSIONS } })
  const w = fakeWorld(TagSource.layerTest(new Map()).pipe(Layer.provide(charts)))
  w.remotes.create(REMOTE, { "Chart.yaml": chartFile("1.2.0"), ".pipe/w.yaml": watcher(provider, options.extra) })
  const pipeline = { ...pipelineOf({ gates: options.gates ?? [] }), chartRepositories: repositories }
  const report: PassReport = await Effect.runPromise(
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      return yield* runOnce([pipeline], w.options)
    }).pipe(Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
  )
  return { report: formatReport(report), file: w.remotes.readFile(REMOTE, "Chart.yaml") }
}

const gate = (over: Partial<GateConfig>): GateConfig => ({ images: ["charts.example.com/**"], pinDigest: false, source: { file: "piped.yaml", line: 30 }, ...over })

describe("chart targets in a pass", () => {
  test("the version moves to the newest 1.x of the index by the default policy; the report names the chart", async () => {
    const { report, file } = await pass("bitnami")
    expect(file).toBe(chartFile("1.10.0"))
    expect(report.split("\n")[0]).toMatch(/^config {2}Chart\.yaml {2}dependencies\[0\]\.version {2}chart nginx \(bitnami\) {2}1\.2\.0 -> 1\.10\.0 {2}updated \([0-9a-f]{7}\) {2}\[5 tags listed, 3 kept\]$/)
  })

  test.each([
    ["a repository the config does not declare", "nope", `.pipe/w.yaml:5: no chart repository "nope" in spec.chartRepositories`],
    ["a repository in git", "in-git", ".pipe/w.yaml:5: chart repository in-git is a git repository: chart versions are not tags"]
  ])("%s fails the target alone", async (_, provider, reason) => {
    const { report, file } = await pass(provider)
    expect(file).toBe(chartFile("1.2.0"))
    expect(report).toContain(`chart nginx (${provider})  ?  failed`)
    expect(report).toContain(reason)
  })

  test.each([
    ["cosign", gate({ cosign: { publicKeyFile: "/etc/runner/cosign.pub" } }), "asks for cosign signatures, but provider bitnami is a chart repository"],
    ["platforms", gate({ platforms: ["linux/arm64"] }), "asks for platforms (linux/arm64), but provider bitnami is a chart repository"]
  ])("a %s gate on a chart fails the target", async (_, g, reason) => {
    const { report, file } = await pass("bitnami", { gates: [g] })
    expect(file).toBe(chartFile("1.2.0"))
    expect(report).toContain(reason)
  })

  test("minAge: a version new to the runner is dated by its first sighting, not by the index's created", async () => {
    const { report, file } = await pass("bitnami", { gates: [gate({ minAge: Duration.hours(24) })] })
    expect(file).toBe(chartFile("1.2.0"))
    expect(report).toContain("held: 1.10.0 too new (first seen 0s ago, needs 24h)")
  })
})
