/** Tag selection against a real registry: creation times, pinned digests, Helm values and quoting. */
import { describe, expect, test } from "bun:test"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { ociProvider, writePipedConfig } from "../support/config.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let registry: TestRegistry
let git: TestGitServer

useServers(() => ({ registry: startRegistry(), git: startGitServer() }), (s) => ({ registry, git } = s))

/** One repository with `files` and one watcher target, run once (optionally as a dry run). */
const runOn = async (name: string, files: Record<string, string>, target: string, extra: ReadonlyArray<string> = []) => {
  await git.createRepo(name, {
    ...files,
    ".pipe/w.yaml": `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
${target}`
  })
  const dir = tempDir("runner-select-")
  const config = writePipedConfig(dir, { repoId: name, remote: `${git.url}/${name}.git`, providers: ociProvider("local", registry.url) })
  return runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`, ...extra])
}

describe("tag selection on a real registry", () => {
  test("newest picks the image created last, whatever its tag says", async () => {
    const image = `${registry.host}/sel1/app`
    await registry.pushImage("sel1/app", "build-a", { created: "2024-01-01T00:00:00Z" })
    await registry.pushImage("sel1/app", "build-c", { created: "2024-03-01T00:00:00Z" })
    await registry.pushImage("sel1/app", "build-b", { created: "2024-02-01T00:00:00Z" })
    const result = await runOn(
      "sel1",
      { "app.yaml": `image: ${image}:build-a\n` },
      `    - image: ${image}\n      provider: local\n      filePath: app.yaml\n      field: image\n      policy: { newest: true }\n`
    )
    expect(result.stdout).toContain("build-a -> build-c")
    expect(result.code).toBe(0)
    expect(await git.readFile("sel1", "app.yaml")).toBe(`image: ${image}:build-c\n`)
  }, 60_000)

  test("a digest-pinned field gets the new tag's digest", async () => {
    const image = `${registry.host}/sel2/app`
    const old = await registry.pushImage("sel2/app", "1.0.0", { created: "2024-01-01T00:00:00Z" })
    const fresh = await registry.pushImage("sel2/app", "1.1.0", { created: "2024-02-01T00:00:00Z" })
    const result = await runOn(
      "sel2",
      { "app.yaml": `image: ${image}:1.0.0@${old} # pinned\n` },
      `    - image: ${image}\n      provider: local\n      filePath: app.yaml\n      field: image\n`
    )
    expect(result.code).toBe(0)
    expect(await git.readFile("sel2", "app.yaml")).toBe(`image: ${image}:1.1.0@${fresh} # pinned\n`)
    const [last] = await git.log("sel2")
    expect(last?.subject).toBe(`Update ${image}:1.0.0@${old} in app.yaml to 1.1.0@${fresh}`)
  }, 60_000)

  test("a Helm values tag field moves to 1.10, written quoted so it stays a string", async () => {
    const image = `${registry.host}/sel3/chart-app`
    // Released in this order, a week apart: 1.9 was not patched with or after 1.10.
    for (const [i, tag] of ["1.8", "1.9", "1.10"].entries()) {
      await registry.pushImage("sel3/chart-app", tag, { created: new Date(Date.UTC(2024, 0, 1 + 7 * i)).toISOString() })
    }
    const values = `image:\n  repository: ${image}\n  tag: 1.9 # app version\n  pullPolicy: IfNotPresent\n`
    const result = await runOn(
      "sel3",
      { "chart/values.yaml": values },
      `    - image: ${image}\n      provider: local\n      filePath: chart/values.yaml\n      field: image.tag\n      format: tag\n`
    )
    expect(result.code).toBe(0)
    expect(await git.readFile("sel3", "chart/values.yaml")).toBe(values.replace("tag: 1.9 #", 'tag: "1.10" #'))
  }, 60_000)

  test("--dry-run explains why nothing changes: up to date, ahead, no candidate", async () => {
    const image = `${registry.host}/sel4/app`
    for (const tag of ["1.0.0", "1.1.0", "latest"]) await registry.pushImage("sel4/app", tag, { created: "2024-01-01T00:00:00Z" })
    const target = (file: string, policy = "") =>
      `    - image: ${image}\n      provider: local\n      filePath: ${file}\n      field: image\n${policy}`
    const result = await runOn(
      "sel4",
      { "a.yaml": `image: ${image}:1.1.0\n`, "b.yaml": `image: ${image}:2.0.0\n`, "c.yaml": `image: ${image}:1.0.0\n` },
      target("a.yaml") + target("b.yaml") + target("c.yaml", `      policy: { semver: "^3" }\n`),
      ["--dry-run"]
    )
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/a\.yaml .* 1\.1\.0  up to date  \[3 tags listed, 2 kept\]/)
    expect(result.stdout).toMatch(/b\.yaml .* 2\.0\.0  up to date \(ahead of the best candidate 1\.1\.0; downgrades are off\)/)
    expect(result.stdout).toMatch(/c\.yaml .*failed: no tag out of 3 listed matches semver \^3/)
  }, 60_000)
})
