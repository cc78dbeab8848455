/**
 * spec.discover through the binary, against the real registry and git server: a tree of manifests
 * updated in one pass with no target declared, then a pass that has nothing to do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { ociProvider, writePipedConfig } from "../support/config.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let registry: TestRegistry
let git: TestGitServer

useServers(() => ({ registry: startRegistry(), git: startGitServer() }), (s) => ({ registry, git } = s))

const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ${image}\n`
const kustomization = (host: string, tag: string) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: web\n    newName: ${host}/acme/web\n    newTag: ${tag}\n`
const WATCHER = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  discover:
    - paths: ["apps/**", "!apps/legacy/**"]
`

beforeAll(async () => {
  for (const [repository, tags] of [["acme/api", ["1.0.0", "1.1.0"]], ["acme/web", ["2.0.0", "2.1.0"]]] as const) {
    for (const tag of tags) await registry.pushImage(repository, tag)
  }
  await git.createRepo("discovered", {
    ".pipe/w.yaml": WATCHER,
    "apps/api/deployment.yaml": deployment(`${registry.host}/acme/api:1.0.0`),
    "apps/overlay/kustomization.yaml": kustomization(registry.host, "2.0.0"),
    "apps/legacy/deployment.yaml": deployment(`${registry.host}/acme/api:1.0.0`)
  })
}, 120_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), git?.stop()])
}, SERVER_HOOK_TIMEOUT)

describe("discovered targets through the binary", () => {
  test("one pass updates the discovered tree, found by the provider of its registry's address; the next does nothing", async () => {
    const dir = tempDir("runner-discover-")
    // No provider is named: the one whose address is the images' registry serves them.
    const config = writePipedConfig(dir, { repoId: "discovered", remote: `${git.url}/discovered.git`, providers: ociProvider("local", registry.url) })
    const run = () => runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`])

    const first = await run()
    expect(first.stderr).not.toContain("error")
    expect(first.code).toBe(0)
    expect(first.stdout).toContain("2 targets: 2 updated")
    expect(await git.readFile("discovered", "apps/api/deployment.yaml")).toBe(deployment(`${registry.host}/acme/api:1.1.0`))
    expect(await git.readFile("discovered", "apps/overlay/kustomization.yaml")).toBe(kustomization(registry.host, "2.1.0"))
    expect(await git.readFile("discovered", "apps/legacy/deployment.yaml")).toBe(deployment(`${registry.host}/acme/api:1.0.0`))
    const commits = (await git.log("discovered")).length
    expect(commits).toBe(3)

    const second = await run()
    expect(second.code).toBe(0)
    expect(second.stdout).toContain("2 targets: 0 updated, 0 would update, 2 up to date, 0 failed")
    expect((await git.log("discovered")).length).toBe(commits)
  }, 60_000)
})
