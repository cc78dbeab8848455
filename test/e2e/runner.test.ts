/**
 * The compiled binary against a real `docker-registry` and a real `git http-backend`, both on
 * loopback: the contract's flows end to end.
 */
import { describe, expect, test } from "bun:test"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { ociProvider, shippedWatcher, watcherFile, writePipedConfig } from "../support/config.ts"
import { type RunResult, runRunner, tempDir, writeFile } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let registry: TestRegistry
let git: TestGitServer
let seq = 0

useServers(() => ({ registry: startRegistry(), git: startGitServer() }), (s) => ({ registry, git } = s))

interface Scenario {
  readonly name: string
  readonly remote: string
  readonly image: (repo: string) => string
  readonly config: string
  readonly dataDir: string
  readonly run: (...extra: Array<string>) => Promise<RunResult>
}

/** Targets of this file's tests use the provider `local`. */
const watcher = (targets: ReadonlyArray<Record<string, unknown>>) => watcherFile(targets.map((t) => ({ provider: "local", ...t })))

/** A fresh repository holding `files`, and a Piped config (shipped spelling) that watches it. */
const scenario = async (files: (image: (repo: string) => string) => Record<string, string>, configExtra = ""): Promise<Scenario> => {
  const name = `repo${++seq}`
  const image = (repo: string) => `${registry.host}/${name}/${repo}`
  const remote = await git.createRepo(name, files(image))
  const dir = tempDir("runner-e2e-")
  const config = writePipedConfig(dir, {
    repoId: name,
    remote,
    spec: "  projectID: ignored\n  pipedID: ignored\n",
    git: "    username: image-bot\n    email: image-bot@example.com\n",
    providers: ociProvider("local", registry.url),
    imageWatcher: shippedWatcher(name, "1m") + configExtra
  })
  const dataDir = `${dir}/data`
  return { name, remote, image, config, dataDir, run: (...extra) => runRunner(["--once", "--config", config, "--data-dir", dataDir, ...extra]) }
}

const push = async (repo: string, ...tags: Array<string>) => {
  for (const tag of tags) await registry.pushImage(repo, tag)
}

describe("runner --once against real servers", () => {
  test("updates an image tag, commits with the contract's message and author, pushes once", async () => {
    const s = await scenario((image) => ({
      "helloworld/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: helloworld
spec:
  template:
    spec:
      containers:
        - name: helloworld
          image: ${image("helloworld")}:0.1.0
`,
      ".pipe/imagewatcher-dev.yaml": watcher([
        { image: image("helloworld"), filePath: "helloworld/deployment.yaml", field: "spec.template.spec.containers[0].image" }
      ])
    }))
    // In release order: 0.1 is not patched after 0.2 came out, so the default follows 0.2.
    await push(`${s.name}/helloworld`, "0.1.0", "0.1.5", "0.2.0", "latest", "0.3.0-rc.1")
    const before = git.stats.receivePacks
    const result = await s.run()
    expect(result.stderr).not.toContain("Error")
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("0.1.0 -> 0.2.0")
    expect(result.stdout).toContain("updated")
    expect(await git.readFile(s.name, "helloworld/deployment.yaml")).toContain(`image: ${s.image("helloworld")}:0.2.0\n`)
    const [last] = await git.log(s.name)
    expect(last?.subject).toBe(`Update ${s.image("helloworld")}:0.1.0 in helloworld/deployment.yaml to 0.2.0`)
    expect(last?.author).toBe("image-bot")
    expect(last?.email).toBe("image-bot@example.com")
    expect(git.stats.receivePacks - before).toBe(1)

    // A second pass finds nothing to do: no commit, no push.
    const quiet = await s.run()
    expect(quiet.code).toBe(0)
    expect(quiet.stdout).toContain("up to date")
    expect(git.stats.receivePacks - before).toBe(1)
    expect((await git.log(s.name)).length).toBe(2)
  }, 60_000)

  test("the built-in git backend, loaded only when chosen, updates and pushes from the executable", async () => {
    const s = await scenario((image) => ({
      "app/deployment.yaml": `image: ${image("app")}:1.0.0\n`,
      ".pipe/watch.yaml": watcher([{ image: image("app"), filePath: "app/deployment.yaml", field: "image" }])
    }))
    await push(`${s.name}/app`, "1.0.0", "1.1.0")
    const result = await runRunner(["--once", "--config", s.config, "--data-dir", s.dataDir, "--log-level", "debug"], {
      env: { RUNNER_GIT_BACKEND: "builtin" }
    })
    expect(result.code).toBe(0)
    expect(result.stderr).toContain("git backend for http(s) remotes: builtin")
    expect(result.stdout).toContain("1.0.0 -> 1.1.0")
    expect(await git.readFile(s.name, "app/deployment.yaml")).toBe(`image: ${s.image("app")}:1.1.0\n`)
  }, 60_000)

  test("keeps comments, quoting, flow style, other documents and the final newline byte for byte", async () => {
    const original = (image: (r: string) => string) => `# header comment
apiVersion: v1   # trailing comment
kind: Pod
metadata: {name: web, labels: {app: "web"}}
spec:
  containers:
    - name: web
      image: "${image("web")}:1.0.0"   # pinned by the image watcher
      args: ['--flag', "x"]
---
# second document: another image, untouched
kind: Pod
spec:
  containers:
    - image: '${image("web")}:1.0.0'
...
`
    const s = await scenario((image) => ({
      "app/pod.yaml": original(image),
      ".pipe/w.yaml": watcher([{ image: image("web"), filePath: "app/pod.yaml", field: "$.spec.containers[0].image" }])
    }))
    await push(`${s.name}/web`, "1.0.0", "1.1.0")
    const result = await s.run()
    expect(result.code).toBe(0)
    expect(await git.readFile(s.name, "app/pod.yaml")).toBe(
      original(s.image).replace(`"${s.image("web")}:1.0.0"`, `"${s.image("web")}:1.1.0"`).replace(`'${s.image("web")}:1.0.0'`, `'${s.image("web")}:1.1.0'`)
    )
  }, 60_000)

  test("two targets in one file both land, one commit each, in one push", async () => {
    const s = await scenario((image) => ({
      "app/values.yaml": `frontend:
  image: ${image("frontend")}:1.0.0
backend:
  image:
    repository: ${image("backend")}
    tag: 2.0.0
`,
      ".pipe/w.yaml": watcher([
        { image: image("frontend"), filePath: "app/values.yaml", field: "frontend.image" },
        { image: image("backend"), filePath: "app/values.yaml", field: "backend.image.tag", format: "tag" }
      ])
    }))
    await push(`${s.name}/frontend`, "1.0.0", "1.0.1")
    await push(`${s.name}/backend`, "2.0.0", "2.1.0")
    const before = git.stats.receivePacks
    const result = await s.run()
    expect(result.code).toBe(0)
    expect(await git.readFile(s.name, "app/values.yaml")).toBe(`frontend:
  image: ${s.image("frontend")}:1.0.1
backend:
  image:
    repository: ${s.image("backend")}
    tag: 2.1.0
`)
    const log = await git.log(s.name)
    expect(log.slice(0, 2).map((c) => c.subject)).toEqual([
      `Update ${s.image("backend")}:2.0.0 in app/values.yaml to 2.1.0`,
      `Update ${s.image("frontend")}:1.0.0 in app/values.yaml to 1.0.1`
    ])
    expect(git.stats.receivePacks - before).toBe(1)
  }, 60_000)

  test("a path resolving in several documents is patched in each", async () => {
    const s = await scenario((image) => ({
      "multi.yaml": `spec:
  image: ${image("svc")}:1.0.0
---
spec:
  other: 1
---
spec:
  image: ${image("svc")}:1.0.0
`,
      ".pipe/w.yaml": watcher([{ image: image("svc"), filePath: "multi.yaml", field: "spec.image" }])
    }))
    await push(`${s.name}/svc`, "1.0.0", "1.2.0")
    const result = await s.run()
    expect(result.code).toBe(0)
    const text = await git.readFile(s.name, "multi.yaml")
    expect(text.match(/:1\.2\.0/g)?.length).toBe(2)
    expect(text).toContain("other: 1")
  }, 60_000)

  test("--dry-run prints the diff and pushes nothing", async () => {
    const s = await scenario((image) => ({
      "d.yaml": `image: ${image("dry")}:1.0.0\n`,
      ".pipe/w.yaml": watcher([{ image: image("dry"), filePath: "d.yaml", field: "image" }])
    }))
    await push(`${s.name}/dry`, "1.0.0", "1.0.1")
    const before = git.stats.receivePacks
    const result = await s.run("--dry-run")
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`--- a/d.yaml\n+++ b/d.yaml\n@@ -1,1 +1,1 @@\n-image: ${s.image("dry")}:1.0.0\n+image: ${s.image("dry")}:1.0.1\n`)
    expect(result.stdout).toContain("would update")
    expect(git.stats.receivePacks).toBe(before)
    expect(await git.readFile(s.name, "d.yaml")).toBe(`image: ${s.image("dry")}:1.0.0\n`)
  }, 60_000)

  test("another writer pushing between our fetch and our push loses nothing, and our change lands", async () => {
    const s = await scenario((image) => ({
      "a.yaml": `image: ${image("race")}:1.0.0\n`,
      "other.txt": "one\n",
      ".pipe/w.yaml": watcher([{ image: image("race"), filePath: "a.yaml", field: "image" }])
    }))
    await push(`${s.name}/race`, "1.0.0", "1.1.0")
    git.beforeNextPush(async () => {
      await git.commitAs(s.name, { "other.txt": "two\n" }, "Another writer's change")
    })
    const result = await s.run()
    expect(result.code).toBe(0)
    const log = await git.log(s.name)
    expect(log.map((c) => c.subject)).toContain("Another writer's change")
    expect(log[0]?.subject).toBe(`Update ${s.image("race")}:1.0.0 in a.yaml to 1.1.0`)
    expect(await git.readFile(s.name, "other.txt")).toBe("two\n")
    expect(await git.readFile(s.name, "a.yaml")).toBe(`image: ${s.image("race")}:1.1.0\n`)
  }, 60_000)

  test("a branch that moves before every push is retried a bounded number of times, losing nothing", async () => {
    const s = await scenario((image) => ({
      "a.yaml": `image: ${image("busy")}:1.0.0\n`,
      "log.txt": "0\n",
      ".pipe/w.yaml": watcher([{ image: image("busy"), filePath: "a.yaml", field: "image" }])
    }))
    await push(`${s.name}/busy`, "1.0.0", "1.1.0")
    let races = 0
    const race = async () => {
      races++
      await git.commitAs(s.name, { "log.txt": `${races}\n` }, `Busy writer ${races}`)
      // Exactly as many races as attempts: a sixth attempt would succeed and fail the test.
      if (races < 5) git.beforeNextPush(race)
    }
    git.beforeNextPush(race)
    const result = await s.run()
    expect(result.code).toBe(1)
    expect(result.stdout).toContain("push rejected 5 times")
    expect(races).toBe(5)
    const subjects = (await git.log(s.name)).map((c) => c.subject)
    for (let i = 1; i <= 5; i++) expect(subjects).toContain(`Busy writer ${i}`)
    expect(await git.readFile(s.name, "a.yaml")).toBe(`image: ${s.image("busy")}:1.0.0\n`)
  }, 60_000)

  test("a change another writer already made upstream is not made twice", async () => {
    const s = await scenario((image) => ({
      "a.yaml": `image: ${image("same")}:1.0.0\n`,
      ".pipe/w.yaml": watcher([{ image: image("same"), filePath: "a.yaml", field: "image" }])
    }))
    await push(`${s.name}/same`, "1.0.0", "1.1.0")
    git.beforeNextPush(async () => {
      await git.commitAs(s.name, { "a.yaml": `image: ${s.image("same")}:1.1.0\n` }, "Bump by hand")
    })
    const result = await s.run()
    expect(result.code).toBe(0)
    const log = await git.log(s.name)
    expect(log[0]?.subject).toBe("Bump by hand")
    expect(log.length).toBe(2)
  }, 60_000)

  test("a kept data dir sees what changed upstream since its last pass, obeys a rollback, and shrugs off a damaged parse cache", async () => {
    const s = await scenario((image) => ({
      "a.yaml": `image: ${image("kept")}:1.1.0\n`,
      "b.yaml": `image: ${image("kept")}:1.0.0\n`,
      ".pipe/w.yaml": watcher([{ image: image("kept"), filePath: "a.yaml", field: "image" }])
    }))
    await push(`${s.name}/kept`, "1.0.0", "1.1.0")
    expect((await s.run()).stdout).toContain("1 targets: 0 updated, 0 would update, 1 up to date")
    // A file moved back by hand, and a new target in the watcher file.
    await git.commitAs(s.name, {
      "a.yaml": `image: ${s.image("kept")}:1.0.0\n`,
      ".pipe/w.yaml": watcher([
        { image: s.image("kept"), filePath: "a.yaml", field: "image" },
        { image: s.image("kept"), filePath: "b.yaml", field: "image" }
      ])
    }, "By hand")
    expect((await s.run()).stdout).toContain("2 targets: 2 updated")
    const [cacheFile] = readdirSync(`${s.dataDir}/repos`).filter((f) => f.endsWith(".parsed.json"))
    expect(cacheFile).toBeDefined()
    writeFileSync(`${s.dataDir}/repos/${cacheFile}`, "{\"version\": [")
    // A person sets back what the runner wrote: it sees the change, and obeys it.
    await git.commitAs(s.name, { "b.yaml": `image: ${s.image("kept")}:1.0.0\n` }, "By hand again")
    const last = await s.run()
    expect(last.code).toBe(0)
    expect(last.stdout).toContain("b.yaml  image  ")
    expect(last.stdout).toContain("1.0.0  rolled back below 1.1.0: held until a newer tag")
    expect(last.stdout).toContain("2 targets: 0 updated, 0 would update, 1 up to date, 0 failed, 1 held")
    expect(await git.readFile(s.name, "b.yaml")).toBe(`image: ${s.image("kept")}:1.0.0\n`)
  }, 60_000)

  test("two pipelines watching one repository each work in a clone of their own; the change lands once", async () => {
    const s = await scenario((image) => ({
      "a.yaml": `image: ${image("shared")}:1.0.0\n`,
      ".pipe/w.yaml": watcher([{ image: image("shared"), filePath: "a.yaml", field: "image" }])
    }))
    await push(`${s.name}/shared`, "1.0.0", "1.1.0")
    const second = writeFile(tempDir("runner-e2e-"), "second.yaml", readFileSync(s.config, "utf8"))
    const result = await runRunner(["--once", "--config", s.config, "--config", second, "--data-dir", s.dataDir])
    expect(result.code).toBe(0)
    expect(readdirSync(`${s.dataDir}/repos`).filter((f) => !f.endsWith(".json")).length).toBe(2)
    const updates = (await git.log(s.name)).filter((c) => c.subject.startsWith("Update "))
    expect(updates.length).toBe(1)
    expect(await git.readFile(s.name, "a.yaml")).toBe(`image: ${s.image("shared")}:1.1.0\n`)
  }, 60_000)

  test("broken watcher file, missing field, other image and escaping path each fail alone; the rest lands", async () => {
    const s = await scenario((image) => ({
      "ok.yaml": `image: ${image("good")}:1.0.0\n`,
      "bad.yaml": `image: ${image("unrelated")}:1.0.0\nname: x\n`,
      ".pipe/broken.yaml": "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  targets:\n    - image: [unclosed\n",
      ".pipe/w.yaml": watcher([
        { image: image("good"), filePath: "ok.yaml", field: "image" },
        { image: image("good"), filePath: "bad.yaml", field: "spec.missing" },
        { image: image("good"), filePath: "bad.yaml", field: "image" },
        { image: image("good"), filePath: "ok.yaml", field: "image", policy: { semver: "not a range" } },
        { image: image("good"), filePath: "../outside.yaml", field: "image" }
      ])
    }))
    await push(`${s.name}/good`, "1.0.0", "1.0.1")
    const result = await s.run()
    expect(result.code).toBe(1)
    expect(await git.readFile(s.name, "ok.yaml")).toBe(`image: ${s.image("good")}:1.0.1\n`)
    expect(await git.readFile(s.name, "bad.yaml")).toBe(`image: ${s.image("unrelated")}:1.0.0\nname: x\n`)
    expect(result.stdout).toMatch(/\.pipe\/broken\.yaml  failed: \.pipe\/broken\.yaml:\d+: invalid YAML/)
    expect(result.stdout).toMatch(/spec\.missing.*failed: field spec\.missing not found in bad\.yaml/)
    expect(result.stdout).toMatch(/bad\.yaml  image .*failed: line 1: the field holds .*unrelated:1\.0\.0, not the watched image/)
    expect(result.stdout).toMatch(/\.pipe\/w\.yaml  failed: \.pipe\/w\.yaml:\d+: spec\.targets\[4\]\.filePath: .*outside\.yaml/)
    expect(result.stdout).toMatch(/failed: \.pipe\/w\.yaml:\d+: invalid semver range "not a range"/)
    expect(result.stdout).toContain("1 updated")
  }, 60_000)
})

describe("unusable config", () => {
  test("exits 2 naming the file, the line and the key, and does nothing", async () => {
    const dir = tempDir("runner-bad-")
    const config = writeFile(
      dir,
      "piped.yaml",
      `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  repositories:
    - repoId: a
      remote: https://example.invalid/a.git
  imageProviders:
    - name: p
      type: DOCKR
`
    )
    const result = await runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${config}:9: spec.imageProviders[0].type:`)
    expect(result.stdout).toBe("")
  })

  test("an unknown flag exits 2 with a pointer to --help", async () => {
    const result = await runRunner(["--nope"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("unknown option --nope")
  })
})
