/** Write-back options through the binary, against the real git server: message templates and grouping. */
import { describe, expect, test } from "bun:test"
import { storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let git: TestGitServer

useServers(() => ({ git: startGitServer() }), (s) => ({ git } = s))

/** A repository with two images in one file and one in another, a tag store that has newer tags, and these gitRepos options. */
const setUp = async (name: string, options: string) => {
  await git.createRepo(name, {
    "apps.yaml": "api: example.com/org/api:1.0.0\nworker: example.com/org/worker:2.0.0\n",
    "web.yaml": "image: example.com/org/web:3.0.0\n",
    ".pipe/w.yaml": watcherFile([
      { image: "example.com/org/api", provider: "ci", filePath: "apps.yaml", field: "api" },
      { image: "example.com/org/worker", provider: "ci", filePath: "apps.yaml", field: "worker" },
      { image: "example.com/org/web", provider: "ci", filePath: "web.yaml", field: "image" }
    ])
  })
  const dir = tempDir("runner-writeback-")
  const config = writePipedConfig(dir, {
    repoId: name,
    remote: `${git.url}/${name}.git`,
    providers: storeProvider("ci", "1m"),
    imageWatcher: `  imageWatcher:\n    gitRepos:\n      - repoId: ${name}\n${options}`
  })
  const dataDir = `${dir}/data`
  for (const [image, tag] of [["example.com/org/api", "1.0.1"], ["example.com/org/worker", "2.1.0"], ["example.com/org/web", "3.0.2"]] as const) {
    await runRunner(["notify", "--config", config, "--provider", "ci", "--image", image, "--tag", tag, "--data-dir", dataDir])
  }
  return () => runRunner(["--once", "--config", config, "--data-dir", dataDir])
}

describe("commit messages and grouping through the binary", () => {
  test("a template per change, one commit per file", async () => {
    const run = await setUp("group1", '        group: file\n        commitMessage: "chore({{repoId}}): {{image}} {{old}} -> {{tag}}"\n')
    const result = await run()
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("3 targets: 3 updated")
    expect((await git.log("group1")).slice(0, 2).map((c) => c.subject)).toEqual([
      "chore(group1): example.com/org/web 3.0.0 -> 3.0.2",
      "Update 2 images in apps.yaml"
    ])
  }, 60_000)

  test("one commit for the pass", async () => {
    const run = await setUp("group2", "        group: pass\n")
    expect((await run()).code).toBe(0)
    const log = await git.log("group2")
    expect(log.map((c) => c.subject)).toEqual(["Update 3 images in group2", "Initial commit"])
    expect(await git.readFile("group2", "web.yaml")).toBe("image: example.com/org/web:3.0.2\n")
  }, 60_000)

  test("an unknown placeholder stops the runner before it does anything", async () => {
    const run = await setUp("group3", '        commitMessage: "bump {{version}}"\n')
    const result = await run()
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/piped\.yaml:\d+: spec\.imageWatcher\.gitRepos\[0\]\.commitMessage: unknown placeholder \{\{version\}\}/)
    expect((await git.log("group3")).length).toBe(1)
  }, 60_000)
})
