/**
 * A chart target through the binary: an HTTP chart repository on loopback behind basic auth, its
 * index.yaml in helm's layout, and the real git server. One pass writes the newest version of the
 * line; the next is quiet and, within the repository's interval, does not ask for the index again.
 */
import { describe, expect, test } from "bun:test"
import { helmIndex, type IndexVersion } from "../support/chartIndex.ts"
import { startChartServer, type ChartServer } from "../support/chartServer.ts"
import { storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

const credentials = { username: "bot", password: "s3cret" }
let git: TestGitServer
let charts: ChartServer

useServers(() => ({ git: startGitServer(), charts: startChartServer(credentials) }), (s) => ({ git, charts } = s))

const version = (v: string, created: string, n: number): IndexVersion => ({ version: v, created, digest: `f${n.toString(16).padStart(63, "0")}` })

/** The 1.2 line was left for 1.10 long ago; 2.0.0 is a new major, which the default policy does not take. */
const INDEX = helmIndex([
  ["nginx", [version("2.0.0", "2024-05-01T00:00:00Z", 4), version("1.10.0", "2024-03-01T00:00:00Z", 3), version("1.3.1", "2024-02-01T00:00:00Z", 2), version("1.2.0", "2024-01-01T00:00:00Z", 1)]],
  ["redis", [version("7.0.0", "2024-01-01T00:00:00Z", 5)]]
])

const chartYaml = (v: string) => `apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: nginx\n    version: ${v} # pinned\n    repository: CHARTS\n`

describe("chart targets through the binary", () => {
  test("one pass updates the version from index.yaml; a second is quiet and does not read index.yaml within the interval", async () => {
    charts.serve("/private", { "index.yaml": INDEX })
    await git.createRepo("charts1", {
      "Chart.yaml": chartYaml("1.2.0"),
      ".pipe/w.yaml": watcherFile([{ chart: "nginx", provider: "stable", filePath: "Chart.yaml", field: "dependencies[0].version" }])
    })
    const dir = tempDir("runner-charts-")
    const config = writePipedConfig(dir, {
      repoId: "charts1",
      remote: `${git.url}/charts1.git`,
      providers: storeProvider("ci", "1m"),
      spec: `  chartRepositories:\n    - name: stable\n      address: ${charts.url}/private\n      username: ${credentials.username}\n      password: ${credentials.password}\n`,
      imageWatcher: "  imageWatcher:\n    gitRepos:\n      - repoId: charts1\n"
    })
    const run = () => runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`])

    const first = await run()
    expect(first.code).toBe(0)
    expect(first.stdout).toContain("charts1  Chart.yaml  dependencies[0].version  chart nginx (stable)  1.2.0 -> 1.10.0  updated")
    expect(await git.readFile("charts1", "Chart.yaml")).toBe(chartYaml("1.10.0"))
    const [commit] = await git.log("charts1")
    expect(commit?.subject).toBe("Update chart nginx 1.2.0 in Chart.yaml to 1.10.0")
    expect(charts.indexRequests("/private").map((r) => r.status)).toEqual([200])

    const second = await run()
    expect(second.code).toBe(0)
    expect(second.stdout).toContain("chart nginx (stable)  1.10.0  up to date")
    expect(second.stdout).toContain("1 targets: 0 updated, 0 would update, 1 up to date, 0 failed")
    expect((await git.log("charts1")).length).toBe(2)
    expect(charts.indexRequests("/private")).toHaveLength(1)
  }, 60_000)
})
