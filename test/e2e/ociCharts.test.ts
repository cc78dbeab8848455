/**
 * A chart in an OCI registry through the binary: the real `docker-registry` behind basic auth with
 * charts pushed as `helm push` does (1.10.0+build.5 stored as 1.10.0_build.5), the credentials
 * from Piped's spec.chartRegistries, and the real git server. One pass writes the newest 1.x with
 * its `+`; the next is quiet.
 */
import { describe, expect, test } from "bun:test"
import { storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

const credentials = { username: "bot", password: "s3cret-chart-pw" }
let git: TestGitServer
let registry: TestRegistry

useServers(() => ({ git: startGitServer(), registry: startRegistry({ htpasswd: credentials }) }), (s) => ({ git, registry } = s))

const chartYaml = (v: string) => `apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: nginx\n    version: ${v} # pinned\n    repository: oci://REGISTRY/charts\n`

describe("charts in OCI registries through the binary", () => {
  test("one pass updates the version from the registry's tags, _ written as +; a second is quiet", async () => {
    for (const version of ["1.2.0", "1.9.0", "1.10.0+build.5", "2.0.0"]) await registry.pushChart("charts/nginx", version)
    await git.createRepo("ocicharts1", {
      "Chart.yaml": chartYaml("1.2.0"),
      ".pipe/w.yaml": watcherFile([
        { chart: "nginx", repository: `oci://${registry.host}/charts`, filePath: "Chart.yaml", field: "dependencies[0].version", policy: { semver: "^1" } }
      ])
    })
    const dir = tempDir("runner-ocicharts-")
    const config = writePipedConfig(dir, {
      repoId: "ocicharts1",
      remote: `${git.url}/ocicharts1.git`,
      providers: storeProvider("ci", "1m"),
      spec: `  chartRegistries:\n    - type: OCI\n      address: ${registry.host}\n      username: ${credentials.username}\n      password: ${credentials.password}\n`,
      imageWatcher: "  imageWatcher:\n    gitRepos:\n      - repoId: ocicharts1\n"
    })
    const run = () => runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`])
    const label = `chart nginx (oci://${registry.host}/charts)`

    const first = await run()
    expect(first.stdout + first.stderr).not.toContain(credentials.password)
    expect(first.stdout).toContain(`ocicharts1  Chart.yaml  dependencies[0].version  ${label}  1.2.0 -> 1.10.0+build.5  updated`)
    expect(first.code).toBe(0)
    expect(await git.readFile("ocicharts1", "Chart.yaml")).toBe(chartYaml("1.10.0+build.5"))
    const [commit] = await git.log("ocicharts1")
    expect(commit?.subject).toBe("Update chart nginx 1.2.0 in Chart.yaml to 1.10.0+build.5")

    const second = await run()
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(`${label}  1.10.0+build.5  up to date`)
    expect(second.stdout).toContain("1 targets: 0 updated, 0 would update, 1 up to date, 0 failed")
    expect((await git.log("ocicharts1")).length).toBe(2)
  }, 60_000)
})
