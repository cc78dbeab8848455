/**
 * Charts in OCI registries in a pass, in process: versions are the tags of HOST/PATH/CHART on the
 * in-memory registry, `_` read as `+`; the registry is reached with the chart registry whose
 * address covers the repository, else an image provider that serves its host, else not at all.
 */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Redacted, TestClock, TestContext } from "effect"
import type { ChartRegistry } from "../../src/domain/ChartSource.ts"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { formatReport, type PassReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { providerConfig } from "../support/config.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const NOW = Date.parse("2026-11-30T12:00:00Z")
const DAY = 86_400_000
const source = { file: "piped.yaml", line: 20 }

/** nginx's tags as Helm pushed them: 1.10.0+build.5 is stored as 1.10.0_build.5; the 1.2 line was left long ago. */
const TAGS: ReadonlyArray<TagInfo> = ([["1.2.0", 300], ["1.9.0", 200], ["1.10.0_build.5", 100], ["2.0.0", 50]] as const).map(([tag, days]) => ({
  tag,
  created: new Date(NOW - days * DAY),
  digest: `sha256:${String(days).padStart(64, "0")}`
}))

const chartFile = (version: string) => `apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: nginx\n    version: ${version}\n    repository: oci://registry.example.com/charts\n`

const WATCHER = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {chart: nginx, repository: "oci://registry.example.com/charts", filePath: Chart.yaml, field: "dependencies[0].version", policy: {semver: "^1"}}
`

const registry = (address: string): ChartRegistry => ({ type: "OCI", address, username: "bot", password: Redacted.make("s3cret"), interval: Duration.minutes(5), source })

const pass = async (options: { readonly chartRegistries?: ReadonlyArray<ChartRegistry>; readonly providers?: ReadonlyArray<ProviderConfig>; readonly current?: string }) => {
  const w = fakeWorld(TagSource.layerTest(new Map([["registry.example.com/charts/nginx", TAGS]])))
  w.remotes.create(REMOTE, { "Chart.yaml": chartFile(options.current ?? "1.2.0"), ".pipe/w.yaml": WATCHER })
  const pipeline = { ...pipelineOf({ providers: options.providers ?? [] }), chartRegistries: options.chartRegistries ?? [] }
  const report: PassReport = await Effect.runPromise(
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      return yield* runOnce([pipeline], w.options)
    }).pipe(Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
  )
  return { report: formatReport(report), file: w.remotes.readFile(REMOTE, "Chart.yaml") }
}

const LABEL = "chart nginx (oci://registry.example.com/charts)"

describe("charts in OCI registries in a pass", () => {
  test.each([
    ["a chart registry covering the repository", { chartRegistries: [registry("registry.example.com")] }],
    ["the longest of two chart registries", { chartRegistries: [registry("registry.example.com"), registry("registry.example.com/charts")] }],
    ["no chart registry: the image provider serving the host", { providers: [providerConfig({ name: "corp", address: "https://registry.example.com" })] }]
  ])("%s: the version moves to the newest 1.x by semver, its tag's _ written as +", async (_, options) => {
    const { report, file } = await pass(options)
    expect(file).toBe(chartFile("1.10.0+build.5"))
    expect(report.split("\n")[0]).toMatch(new RegExp(`^config {2}Chart\\.yaml {2}dependencies\\[0\\]\\.version {2}${LABEL.replace(/[().]/g, "\\$&")} {2}1\\.2\\.0 -> 1\\.10\\.0\\+build\\.5 {2}updated`))
  })

  test("a version with + in the field is the tag with _: up to date", async () => {
    const { report, file } = await pass({ chartRegistries: [registry("registry.example.com")], current: "1.10.0+build.5" })
    expect(file).toBe(chartFile("1.10.0+build.5"))
    expect(report).toContain(`${LABEL}  1.10.0+build.5  up to date`)
  })

  test.each([
    ["an image provider without address: it is nobody's by host", { providers: [providerConfig({ name: "anywhere" })] }],
    ["a chart registry of another host", { chartRegistries: [registry("registry.example.com.attacker.test")] }],
    ["a chart registry of a deeper path only", { chartRegistries: [registry("registry.example.com/charts/team")] }],
    ["an image provider of another host", { providers: [providerConfig({ name: "corp", address: "https://other.example.com" })] }]
  ])("%s: the target fails alone, before any request", async (_, options) => {
    const { report, file } = await pass(options)
    expect(file).toBe(chartFile("1.2.0"))
    expect(report).toContain(`${LABEL}  ?  failed`)
    expect(report).toContain(".pipe/w.yaml:5: no chart registry or image provider serves registry.example.com (spec.chartRegistries, imageProviders)")
  })
})
