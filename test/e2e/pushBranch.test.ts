/**
 * gitRepos[].pushBranch through the binary, against the real git server: the push branch is
 * created from main, accumulates, is merged by a person, and starts again from main; every push
 * moves it forward, and main is never written by the runner. With both git backends.
 */
import { describe, expect, test } from "bun:test"
import { storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

const PUSH_BRANCH = "image-updates"
const IMAGE = "example.com/org/api"

let server: TestGitServer

useServers(() => ({ git: startGitServer() }), (s) => ({ git: server } = s))

/** A repository holding IMAGE at 1.0.0 in app.yaml, and a config that pushes its updates to PUSH_BRANCH. */
const setUp = async (name: string, env: Record<string, string>) => {
  await server.createRepo(name, {
    "app.yaml": `image: ${IMAGE}:1.0.0\n`,
    ".pipe/w.yaml": watcherFile([{ image: IMAGE, provider: "ci", filePath: "app.yaml", field: "image" }])
  })
  const dir = tempDir("runner-push-branch-")
  const config = writePipedConfig(dir, {
    repoId: name,
    remote: `${server.url}/${name}.git`,
    providers: storeProvider("ci", "1m"),
    imageWatcher: `  imageWatcher:\n    gitRepos:\n      - repoId: ${name}\n        pushBranch: ${PUSH_BRANCH}\n`
  })
  const notify = (tag: string, dataDir: string) =>
    runRunner(["notify", "--config", config, "--provider", "ci", "--image", IMAGE, "--tag", tag, "--data-dir", dataDir])
  const once = (dataDir: string) => runRunner(["--once", "--config", config, "--data-dir", dataDir], { env })
  return { dataDir: `${dir}/data`, notify, once }
}

const backends: ReadonlyArray<readonly [string, Record<string, string>]> = [
  ["system git", {}],
  ["the built-in client", { RUNNER_GIT_BACKEND: "builtin" }]
]

describe.each(backends)("a push branch through the binary, with %s", (_, env) => {
  test("created from main, accumulating, merged, started again from main; main never written", async () => {
    const name = `push-branch-${env.RUNNER_GIT_BACKEND ?? "system"}`
    const { dataDir, notify, once } = await setUp(name, env)
    const tipOf = async (branch: string) => (await server.tip(name, branch)) ?? `no ${branch}`
    let main = await tipOf("main")
    const tips: Array<string> = []

    /** Registers `tag`, runs one pass, and checks that the push branch moved to one new commit on `parent`. */
    const pass = async (from: string, tag: string, parent: string, data = dataDir) => {
      expect((await notify(tag, data)).code).toBe(0)
      const result = await once(data)
      expect(result.code).toBe(0)
      const tip = await tipOf(PUSH_BRANCH)
      expect(result.stdout).toContain(`${from} -> ${tag}  updated (${tip.slice(0, 7)} on ${PUSH_BRANCH})`)
      expect(await server.parents(name, tip)).toEqual([parent])
      expect(await server.readFile(name, "app.yaml", { branch: PUSH_BRANCH })).toBe(`image: ${IMAGE}:${tag}\n`)
      expect(await tipOf("main")).toBe(main)
      tips.push(tip)
      return tip
    }

    const created = await pass("1.0.0", "1.0.1", main)
    expect(await server.readFile(name, "app.yaml")).toBe(`image: ${IMAGE}:1.0.0\n`)
    const accumulated = await pass("1.0.1", "1.0.2", created)

    // The push branch is what the runner reads: with nothing newer, nothing changes.
    const idle = await once(dataDir)
    expect(idle.code).toBe(0)
    expect(idle.stdout).toContain("1 targets: 0 updated, 0 would update, 1 up to date, 0 failed")
    expect(await tipOf(PUSH_BRANCH)).toBe(accumulated)

    main = await server.merge(name, PUSH_BRANCH, "main")
    const restarted = await pass("1.0.2", "1.0.3", main)

    // Merged by a fast-forward, then main moves on: a new data dir clones shallow, and must look
    // deeper than its first fetch to see that the push branch is merged.
    await server.merge(name, PUSH_BRANCH, "main", { fastForward: true })
    for (const n of [1, 2, 3, 4, 5]) await server.commitAs(name, { [`other-${n}.yaml`]: `n: ${n}\n` }, `Main moves on, ${n}`)
    main = await tipOf("main")
    await pass("1.0.3", "1.0.4", main, `${tempDir("runner-push-branch-fresh-")}/data`)

    expect(tips.slice(0, 3)).toEqual([created, accumulated, restarted])
    for (const [i, tip] of tips.entries()) {
      const previous = tips[i - 1]
      if (previous !== undefined) expect(await server.isAncestor(name, previous, tip)).toBe(true)
    }
  }, 120_000)
})
