/**
 * The built-in tag store fed by `runner notify`, a repository reached through the system git
 * (file:// remote), the same source under Deno, and the command line's other verbs.
 */
import { describe, expect, test } from "bun:test"
import { spawn } from "node:child_process"
import { resolve } from "node:path"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { storeProvider, writePipedConfig } from "../support/config.ts"
import { exec, RUNNER, runRunner, tempDir, writeFile } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"
import { PACKAGE_VERSION } from "../../src/version.ts"

let git: TestGitServer

useServers(() => ({ git: startGitServer() }), (s) => ({ git } = s))

const WATCHER = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - image: nginx
      provider: ci
      filePath: web.yaml
      field: spec.containers[0].image
`

/** The RFC's spelling: imageWatcher as a list with .pipe/-prefixed includes. */
const setup = async (name: string, watcher = WATCHER) => {
  await git.createRepo(name, {
    "web.yaml": "spec:\n  containers:\n    - image: nginx:1.25.0 # web\n",
    ".pipe/imagewatcher-dev.yaml": watcher,
    ".pipe/ignored.yaml": "not: [valid\n"
  })
  const dir = tempDir("runner-store-")
  const config = writePipedConfig(dir, {
    repoId: name,
    remote: `file://${git.root}/${name}.git`,
    providers: storeProvider("ci", "30s"),
    imageWatcher: `  imageWatcher:\n    - repoId: ${name}\n      includes:\n        - .pipe/imagewatcher-dev.yaml\n`
  })
  return { config, dataDir: `${dir}/data` }
}

describe("STORE provider and system git", () => {
  test("tags registered with runner notify land through a file:// remote", async () => {
    // A team's own images, registered by its CI: `^` takes each new minor, where the default
    // would wait on a line registered a moment ago.
    const { config, dataDir } = await setup("store1", `${WATCHER}      policy: {version: "^"}\n`)
    for (const tag of ["1.25.1", "1.26.0", "1.27.0-rc.1"]) {
      const r = await runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", tag, "--data-dir", dataDir])
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
    }
    const result = await runRunner(["--once", "--config", config, "--data-dir", dataDir])
    expect(result.code).toBe(0)
    expect(await git.readFile("store1", "web.yaml")).toBe("spec:\n  containers:\n    - image: nginx:1.26.0 # web\n")
    const [last] = await git.log("store1")
    expect(last?.subject).toBe("Update nginx:1.25.0 in web.yaml to 1.26.0")
    expect(last?.author).toBe("piped")
    expect(last?.email).toBe("pipecd.dev@gmail.com")
  }, 60_000)

  test("notify refuses a provider that is not a tag store, and a bad tag", async () => {
    const { config, dataDir } = await setup("store2")
    const unknown = await runRunner(["notify", "--config", config, "--provider", "nope", "--image", "nginx", "--tag", "1.0.0", "--data-dir", dataDir])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no provider "nope" of type STORE')
    const badTag = await runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", "-bad", "--data-dir", dataDir])
    expect(badTag.code).toBe(2)
  })

  test("the same source runs under Deno", async () => {
    const { config, dataDir } = await setup("store3")
    await runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", "1.25.2", "--data-dir", dataDir])
    const root = resolve(import.meta.dir, "../..")
    const deno = await exec(
      resolve(root, "node_modules/.bin/deno"),
      ["run", "--quiet", "--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-run", "--allow-sys", resolve(root, "src/main.ts"), "--once", "--config", config, "--data-dir", dataDir],
      { timeoutMs: 120_000, env: { DENO_NO_UPDATE_CHECK: "1" } }
    )
    expect(deno.stderr).not.toContain("error:")
    expect(deno.code).toBe(0)
    expect(await git.readFile("store3", "web.yaml")).toContain("nginx:1.25.2")
  }, 150_000)
})

describe("service mode", () => {
  test("passes at start, keeps running, and stops cleanly on SIGTERM", async () => {
    const { config, dataDir } = await setup("daemon1")
    await runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", "1.25.3", "--data-dir", dataDir])
    const child = spawn(RUNNER, ["--config", config, "--data-dir", dataDir, "--log-format", "json"], { stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    const exited = new Promise<number | null>((done) => child.on("close", done))
    let landed = false
    for (let i = 0; i < 100 && !landed; i++) {
      await Bun.sleep(100)
      landed = (await git.readFile("daemon1", "web.yaml")).includes("nginx:1.25.3")
    }
    expect(landed).toBe(true)
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    // Every log line is one JSON object.
    for (const line of stderr.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow()
  }, 30_000)
})

describe("command line", () => {
  test("every example in pipelines/ is valid", async () => {
    const root = resolve(import.meta.dir, "../..")
    const files = ["rfc-example.yaml", "sidecar.yaml", "vm.yaml"].flatMap((f) => ["--config", resolve(root, "pipelines", f)])
    const result = await runRunner(["validate", ...files, resolve(root, "pipelines/imagewatcher-example.yaml")])
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
  })

  test("config errors at start-up are JSON events under --log-format json, plain lines otherwise", async () => {
    const dir = tempDir("runner-config-errors-")
    const config = writeFile(dir, "piped.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n  imageWatcher:\n    checkInterval: soon\n")
    for (const mode of [["--once"], []]) {
      const json = await runRunner([...mode, "--config", config, "--data-dir", `${dir}/data`, "--log-format", "json"])
      expect(json.code).toBe(2)
      const events = json.stderr.trim().split("\n").map((line) => JSON.parse(line))
      expect(events.length).toBeGreaterThan(0)
      expect(events.some((e) => e.level === "error" && e.file === config && e.key === "spec.imageWatcher.checkInterval" && e.line === 5)).toBe(true)
      expect(events.every((e) => String(e.message).startsWith("config error: ") || e.level !== "error")).toBe(true)
    }
    const text = await runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`])
    expect(text.code).toBe(2)
    expect(text.stderr).toStartWith(`config error: ${config}:5`)
  })

  test("--version and --help", async () => {
    const version = await runRunner(["--version"])
    // The build names its commit (test/cli/deploy.test.ts checks which).
    expect(version.stdout).toMatch(new RegExp(`^runner ${PACKAGE_VERSION.replaceAll(".", "\\.")}\\+[0-9a-f]{12}(\\.dirty)?\n$`))
    const help = await runRunner(["--help"])
    expect(help.code).toBe(0)
    for (const word of ["--once", "--dry-run", "--data-dir", "validate", "notify", "Exit codes", "spec.chartRepositories", "spec.imageWatcher.notifications", "platforms"]) expect(help.stdout).toContain(word)
  })

  test("validate checks config and watcher files without touching anything", async () => {
    const dir = tempDir("runner-validate-")
    const { config } = await setup("store4")
    const good = writeFile(dir, "good.yaml", WATCHER)
    const ok = await runRunner(["validate", "--config", config, good])
    expect(ok.code).toBe(0)
    const bad = writeFile(dir, "bad.yaml", WATCHER.replace("filePath: web.yaml", "filePath: web.yaml\n      policy: { semver: \"not a range\" }"))
    const refused = await runRunner(["validate", bad])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(`${bad}:5`)
    expect(refused.stderr).toContain("invalid semver range")
  })
})
