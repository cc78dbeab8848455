/**
 * Service mode of the compiled binary against a real docker-registry and git http-backend:
 * health and readiness, polling, `runner notify --address`, the registry's own notifications,
 * tokens, metrics, JSON logs and stopping on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { spawn } from "node:child_process"
import { createServer, type Server } from "node:net"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { freePort, startRegistry, type TestRegistry } from "../support/registry.ts"
import { type Daemon, DENO, metric, startDaemon, stopDaemon as stop, until } from "../support/daemon.ts"
import { checkEvery, ociProvider, storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { ensureBuilt, RUNNER, runRunner, tempDir, writeFile } from "../support/runner.ts"

const API_TOKEN = "api-t0ken-7f3a9c1e5b"
const REGISTRY_PASSWORD = "reg-pa55-d41d8cd98f"

let git: TestGitServer
let registry: TestRegistry
/** A registry that tells the runner about each push; its address is only known once the runner's port is. */
let notifying: TestRegistry
let notifyingPort: number

beforeAll(async () => {
  ensureBuilt()
  notifyingPort = await freePort()
  ;[git, registry, notifying] = await Promise.all([
    startGitServer(),
    startRegistry(),
    startRegistry({
      htpasswd: { username: "ci", password: REGISTRY_PASSWORD },
      notifications: { url: `http://127.0.0.1:${notifyingPort}/api/v1/webhooks/distribution?token=${API_TOKEN}` }
    })
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([git?.stop(), registry?.stop(), notifying?.stop()])
}, SERVER_HOOK_TIMEOUT)

const watcher = (image: string, provider: string) => watcherFile([{ image, provider, filePath: "app.yaml", field: "spec.image" }])

interface Setup {
  readonly dir: string
  readonly config: string
  readonly dataDir: string
  readonly tokenFile: string
}

const setup = async (name: string, options: { image: string; provider: string; providers: string; checkInterval: string; remote?: string }) => {
  const remote = options.remote ?? (await git.createRepo(name, { "app.yaml": `spec:\n  image: ${options.image}:1.0.0\n`, ".pipe/w.yaml": watcher(options.image, options.provider) }))
  const dir = tempDir("runner-service-")
  const config = writePipedConfig(dir, { repoId: name, remote, providers: options.providers, imageWatcher: checkEvery(options.checkInterval) })
  return { dir, config, dataDir: `${dir}/data`, tokenFile: writeFile(dir, "token", `${API_TOKEN}\n`) } satisfies Setup
}

/** nginx watched through a tag store, checked hourly: only notifications make anything happen soon. */
const storeSetup = (name: string, remote?: string) =>
  setup(name, { image: "nginx", provider: "ci", providers: storeProvider("ci", "1h"), checkInterval: "1h", ...(remote === undefined ? {} : { remote }) })

const start = (s: Setup, options: { port?: number; api?: boolean; command?: ReadonlyArray<string> } = {}) =>
  startDaemon(
    ["--config", s.config, "--data-dir", s.dataDir, "--log-format", "json", ...(options.api === false ? [] : ["--api-token-file", s.tokenFile])],
    options
  )

/** A git server that accepts connections and never answers. */
const silentServer = async () => {
  const silent: Server = createServer(() => {})
  await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done))
  const address = silent.address()
  return { silent, port: typeof address === "object" && address !== null ? address.port : 0 }
}

const ready = (d: Daemon) => until(async () => (await fetch(`${d.url}/readyz`)).status === 200, 15_000)

const fileHas = (name: string, text: string) => async () => (await git.readFile(name, "app.yaml")).includes(text)

const postImage = (d: Daemon, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${API_TOKEN}` }, query = "") =>
  fetch(`${d.url}/api/v1/images${query}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })

/** Every log line is one JSON object with level, time and message; no secret appears anywhere. */
const checkLogs = (stderr: string, secrets: ReadonlyArray<string>) => {
  const lines = stderr.trim().split("\n")
  for (const line of lines) {
    const entry = JSON.parse(line)
    expect(typeof entry.level).toBe("string")
    expect(Number.isNaN(Date.parse(entry.time))).toBe(false)
    expect(entry.message).toBeDefined()
  }
  for (const secret of secrets) expect(stderr).not.toContain(secret)
  return lines.map((line) => JSON.parse(line))
}

describe("service mode", () => {
  test("healthz, readyz and metrics; a tag pushed to the registry lands by polling", async () => {
    const image = `${registry.host}/poll/app`
    await registry.pushImage("poll/app", "1.0.0")
    const s = await setup("poll", { image, provider: "reg", providers: ociProvider("reg", registry.url, { interval: "1s" }), checkInterval: "1s" })
    const d = await start(s, { api: false })
    try {
      await ready(d)
      expect(await (await fetch(`${d.url}/healthz`)).text()).toBe("ok\n")
      await registry.pushImage("poll/app", "1.1.0")
      await until(fileHas("poll", `${image}:1.1.0`), 15_000)
      // The push lands before the pass counts it: wait for the count rather than race it.
      await until(async () => (await metric(d, /^runner_target_updates_total\{pipeline="[^"]*piped.yaml"\} (\d+)$/m)) === 1, 5_000)
      await until(async () => (await metric(d, /^runner_passes_total\{pipeline="[^"]*piped.yaml",result="success"\} (\d+)$/m)) >= 2, 5_000)
      const metrics = await (await fetch(`${d.url}/metrics`)).text()
      expect(metrics).toContain("# TYPE runner_passes_total counter")
      expect(await metric(d, /^runner_registry_requests_total\{provider="reg",code="200",pipeline="[^"]*piped.yaml"\} (\d+)$/m)).toBeGreaterThanOrEqual(2)
      expect(await metric(d, /^runner_last_pass_success_timestamp_seconds\{pipeline="[^"]*piped.yaml"\} ([\d.]+)$/m)).toBeGreaterThan(Date.now() / 1000 - 60)
      expect(metrics).toMatch(/^runner_pass_duration_seconds_count\{pipeline="[^"]*piped.yaml"\} \d+$/m)
      // The API is off without a token file.
      expect((await postImage(d, { image, tag: "1.1.0" })).status).toBe(404)
    } finally {
      expect(await stop(d)).toBe(0)
    }
    const logs = checkLogs(d.stderr(), [])
    expect(logs.some((l) => l.pipeline?.endsWith("piped.yaml") && l.message.includes("1.0.0 -> 1.1.0  updated"))).toBe(true)
  }, 60_000)

  test("--dry-run logs the diff each pass would commit, and commits nothing", async () => {
    const s = await storeSetup("dryrun")
    const notify = await runRunner(["notify", "--config", s.config, "--provider", "ci", "--image", "nginx", "--tag", "1.1.0", "--data-dir", s.dataDir])
    expect(notify.code).toBe(0)
    const d = await startDaemon(["--config", s.config, "--data-dir", s.dataDir, "--log-format", "json", "--dry-run"])
    try {
      await ready(d)
      await until(async () => d.stderr().includes("+  image: nginx:1.1.0"), 5_000)
      expect(await git.readFile("dryrun", "app.yaml")).toContain("nginx:1.0.0")
    } finally {
      expect(await stop(d)).toBe(0)
    }
    const logs = checkLogs(d.stderr(), [])
    expect(logs.some((l) => l.message === "-  image: nginx:1.0.0")).toBe(true)
  }, 60_000)

  test("a tag registered with runner notify --address lands within seconds, with a one hour interval", async () => {
    const s = await storeSetup("notify")
    const d = await start(s)
    try {
      await ready(d)
      const notify = await runRunner(["notify", "--address", d.url, "--token-file", s.tokenFile, "--image", "nginx", "--tag", "1.2.0"])
      expect(notify.stderr).toBe("")
      expect(notify.code).toBe(0)
      expect(notify.stdout).toBe(`registered nginx:1.2.0 in provider(s) ci; checking now: ${s.config}/notify\n`)
      // Within seconds: `until` throws past its limit.
      await until(fileHas("notify", "nginx:1.2.0"), 5_000)
      // An image nobody watches is refused with a reason, and notify says so.
      const unknown = await runRunner(["notify", "--address", d.url, "--token-file", s.tokenFile, "--image", "redis", "--tag", "7.0.0"])
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toContain("refused (404): no pipeline watches image docker.io/library/redis")
      // Bodies are validated.
      const badTag = await postImage(d, { image: "nginx", tag: "-x" })
      expect(badTag.status).toBe(400)
      const withTag = await postImage(d, { image: "nginx:1.3.0", tag: "1.3.0" })
      expect(withTag.status).toBe(400)
      const huge = await postImage(d, { image: "nginx", tag: "1.3.0", padding: "x".repeat(100_000) })
      expect(huge.status).toBe(413)
    } finally {
      expect(await stop(d)).toBe(0)
    }
    checkLogs(d.stderr(), [API_TOKEN])
  }, 60_000)

  test("a tag written into the store by runner notify --config reaches the running daemon at its next pass", async () => {
    // Checked every second, while the provider's listing is kept for an hour: only a changed store file shows the tag.
    const s = await setup("storefile", { image: "nginx", provider: "ci", providers: storeProvider("ci", "1h"), checkInterval: "1s" })
    const d = await start(s, { api: false })
    try {
      await ready(d)
      const notify = await runRunner(["notify", "--config", s.config, "--provider", "ci", "--image", "nginx", "--tag", "1.6.0", "--data-dir", s.dataDir])
      expect(notify.code).toBe(0)
      await until(fileHas("storefile", "nginx:1.6.0"), 10_000)
    } finally {
      expect(await stop(d)).toBe(0)
    }
  }, 60_000)

  test("--listen on an address in use fails at once with that cause, and exit code 2", async () => {
    const s = await storeSetup("inuse")
    const { silent, port } = await silentServer()
    try {
      const result = await runRunner(["--config", s.config, "--data-dir", s.dataDir, "--listen", `127.0.0.1:${port}`], { timeoutMs: 20_000 })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`runner: cannot listen on 127.0.0.1:${port}: address in use (EADDRINUSE)`)
    } finally {
      silent.close()
    }
  }, 30_000)

  test("wrong or missing tokens get 401 and change nothing", async () => {
    const s = await storeSetup("tokens")
    const d = await start(s)
    try {
      await ready(d)
      const body = { image: "nginx", tag: "9.9.9" }
      const refused = [
        await postImage(d, body, {}),
        await postImage(d, body, { authorization: "Bearer wrong" }),
        await postImage(d, body, { authorization: `Bearer ${API_TOKEN}x` }),
        await postImage(d, body, { authorization: `Basic ${btoa(`x:${API_TOKEN}`)}` }),
        // ?token= is for webhook senders only.
        await postImage(d, body, {}, `?token=${API_TOKEN}`),
        await fetch(`${d.url}/api/v1/webhooks/dockerhub?token=nope`, {
          method: "POST",
          body: JSON.stringify({ push_data: { tag: "9.9.9" }, repository: { repo_name: "library/nginx" } })
        })
      ]
      for (const r of refused) {
        expect(r.status).toBe(401)
        expect(await r.json()).toEqual({ error: "missing or wrong token" })
      }
      const wrongFile = writeFile(s.dir, "wrong-token", "nope\n")
      const notify = await runRunner(["notify", "--address", d.url, "--token-file", wrongFile, "--image", "nginx", "--tag", "9.9.9"])
      expect(notify.code).toBe(1)
      expect(notify.stderr).toContain("refused (401): missing or wrong token")
      await Bun.sleep(500)
      expect(await git.readFile("tokens", "app.yaml")).toContain("nginx:1.0.0")
      expect((await git.log("tokens")).length).toBe(1)
      expect(await metric(d, /^runner_passes_total\{pipeline="[^"]*piped.yaml",result="failure"\} (\d+)$/m)).toBe(1)
    } finally {
      expect(await stop(d)).toBe(0)
    }
    // No pass ran after the refusals: no store file was written, and the next start sees the tag still missing.
    const once = await runRunner(["--once", "--config", s.config, "--data-dir", s.dataDir])
    expect(once.stdout).toContain("failed: no tag out of 0 listed")
    checkLogs(d.stderr(), [API_TOKEN])
  }, 60_000)

  test("a real docker-registry's push notification triggers the update despite a one hour interval", async () => {
    const image = `${notifying.host}/hooked/app`
    await notifying.pushImage("hooked/app", "1.0.0")
    const passwordFile = writeFile(tempDir("runner-pw-"), "password", REGISTRY_PASSWORD)
    const s = await setup("hooked", {
      image,
      provider: "reg",
      providers: ociProvider("reg", notifying.url, { interval: "1h", config: ["username: ci", `passwordFile: ${passwordFile}`] }),
      checkInterval: "1h"
    })
    const d = await start(s, { port: notifyingPort })
    try {
      await ready(d)
      const listed = await metric(d, /^runner_registry_requests_total\{provider="reg",code="200",pipeline="[^"]*piped.yaml"\} (\d+)$/m)
      await notifying.pushImage("hooked/app", "1.1.0")
      await until(fileHas("hooked", `${image}:1.1.0`), 10_000)
      const [last] = await git.log("hooked")
      expect(last?.subject).toBe(`Update ${image}:1.0.0 in app.yaml to 1.1.0`)
      // The notification, not the interval, made the runner list the tags again.
      expect(await metric(d, /^runner_registry_requests_total\{provider="reg",code="200",pipeline="[^"]*piped.yaml"\} (\d+)$/m)).toBeGreaterThan(listed)
    } finally {
      expect(await stop(d)).toBe(0)
    }
    const logs = checkLogs(d.stderr(), [API_TOKEN, REGISTRY_PASSWORD])
    expect(logs.some((l) => l.image === `${notifying.host}/hooked/app` && l.message === "distribution webhook: pushed 1.1.0")).toBe(true)
    expect(logs.some((l) => l.image === `${notifying.host}/hooked/app` && l.message === "checking 1 repository now")).toBe(true)
  }, 60_000)

  test("SIGTERM during a push lets it finish, exits 0, and the next start finds a clean state", async () => {
    const s = await storeSetup("sigterm")
    const d = await start(s)
    let signalled = false
    try {
      await ready(d)
      git.beforeNextPush(async () => {
        d.child.kill("SIGTERM")
        signalled = true
        await Bun.sleep(1_000)
      })
      expect((await postImage(d, { image: "nginx", tag: "1.4.0" })).status).toBe(200)
      expect(await d.exited).toBe(0)
    } finally {
      d.child.kill("SIGKILL")
    }
    expect(signalled).toBe(true)
    expect(await git.readFile("sigterm", "app.yaml")).toContain("nginx:1.4.0")
    const logs = checkLogs(d.stderr(), [API_TOKEN])
    expect(logs.some((l) => l.message.startsWith("stopping: letting the pass in flight finish"))).toBe(true)
    const again = await runRunner(["--once", "--config", s.config, "--data-dir", s.dataDir])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("1 targets: 0 updated, 0 would update, 1 up to date, 0 failed")
  }, 60_000)

  test("SIGTERM during a pass that hangs abandons it after the grace period and exits 0; not ready until then", async () => {
    const { silent, port } = await silentServer()
    const s = await storeSetup("hang", `http://127.0.0.1:${port}/hang.git`)
    const d = await start(s)
    try {
      await Bun.sleep(500)
      const readyz = await fetch(`${d.url}/readyz`)
      expect(readyz.status).toBe(503)
      expect(await readyz.text()).toBe("not ready: 0 of 1 pipelines have completed a pass\n")
      // Before the first pass, the runner cannot tell which store an image goes to: retry later.
      const early = await postImage(d, { image: "nginx", tag: "1.0.1" })
      expect(early.status).toBe(404)
      expect((await early.json()).error).toContain("not known yet")
      const started = performance.now()
      expect(await stop(d)).toBe(0)
      expect(performance.now() - started).toBeLessThan(25_000)
    } finally {
      d.child.kill("SIGKILL")
      silent.close()
    }
    const logs = checkLogs(d.stderr(), [API_TOKEN])
    expect(logs.some((l) => l.message.startsWith("stopping: abandoning the pass in flight"))).toBe(true)
  }, 60_000)

  test("SIGINT or SIGTERM during --once leaves the pass unfinished: exit 130, not 0", async () => {
    const { silent, port } = await silentServer()
    try {
      const s = await storeSetup("hang-once", `http://127.0.0.1:${port}/hang.git`)
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        const child = spawn(RUNNER, ["--once", "--config", s.config, "--data-dir", s.dataDir], { stdio: "ignore" })
        const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)))
        await Bun.sleep(500)
        child.kill(signal)
        expect(await exited).toBe(130)
      }
    } finally {
      silent.close()
    }
  }, 60_000)

  test("the same source serves under Deno: readiness, the API, a clean stop", async () => {
    const s = await storeSetup("deno")
    const d = await start(s, { command: DENO })
    try {
      await ready(d)
      expect((await postImage(d, { image: "nginx", tag: "1.5.0" }, { authorization: "Bearer nope" })).status).toBe(401)
      expect((await postImage(d, { image: "nginx", tag: "1.5.0" })).status).toBe(200)
      await until(fileHas("deno", "nginx:1.5.0"), 10_000)
      // The push lands before the pass counts it: wait for the count rather than race it.
      await until(async () => (await metric(d, /^runner_target_updates_total\{pipeline="[^"]*piped.yaml"\} (\d+)$/m)) === 1, 5_000)
    } finally {
      expect(await stop(d)).toBe(0)
    }
    checkLogs(d.stderr(), [API_TOKEN])
  }, 120_000)
})
