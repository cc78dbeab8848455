/**
 * SIGHUP in service mode, through the compiled binary: a broken config is logged with its file,
 * line and key while the running one carries on; a valid one takes over. Each target's outcome is
 * one JSON event with its fields, and /metrics has the targets by state.
 */
import { describe, expect, test } from "bun:test"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { metric, startDaemon, stopDaemon, until } from "../support/daemon.ts"
import { checkEvery, ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { tempDir, writeFile } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let git: TestGitServer
let registry: TestRegistry

useServers(() => ({ git: startGitServer(), registry: startRegistry() }), (s) => ({ git, registry } = s))

const events = (stderr: string) => stderr.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)

describe("SIGHUP", () => {
  test("reloads the config: a broken one is refused and logged, a valid one takes over", async () => {
    const image = `${registry.host}/reload/app`
    await registry.pushImage("reload/app", "1.0.0")
    await registry.pushImage("reload/app", "1.1.0")
    const remote = await git.createRepo("reload", {
      "app.yaml": `spec:\n  image: ${image}:1.0.0\n`,
      ".pipe/w.yaml": watcherFile([{ image, provider: "reg", filePath: "app.yaml", field: "spec.image" }])
    })
    const dir = tempDir("runner-reload-")
    // Hourly: after the first pass, only a reload makes anything happen soon.
    const configWith = (provider: string) =>
      writePipedConfig(dir, { repoId: "reload", remote, providers: ociProvider(provider, registry.url), imageWatcher: checkEvery("1h") })
    // The watcher file's provider is `reg`: under this first config its target fails.
    const config = configWith("elsewhere")
    const d = await startDaemon(["--config", config, "--data-dir", `${dir}/data`, "--log-format", "json"])
    try {
      await until(async () => (await fetch(`${d.url}/readyz`)).status === 200, 15_000)
      expect(events(d.stderr()).some((e) => e["outcome"] === "failed" && e["reason"] === "config" && e["image"] === image)).toBe(true)

      writeFile(dir, "piped.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n  imageWatcher:\n    checkInterval: soon\n")
      d.child.kill("SIGHUP")
      await until(async () => d.stderr().includes("the running config stays"), 10_000)
      const refused = events(d.stderr()).find((e) => e["level"] === "error" && String(e["message"]).startsWith("config reload refused: "))
      expect(refused).toMatchObject({ file: config, line: 5, key: "spec.imageWatcher.checkInterval" })
      // Still serving, nothing changed.
      expect((await fetch(`${d.url}/healthz`)).status).toBe(200)
      expect(await git.readFile("reload", "app.yaml")).toContain(`${image}:1.0.0`)

      configWith("reg")
      d.child.kill("SIGHUP")
      await until(async () => (await git.readFile("reload", "app.yaml")).includes(`${image}:1.1.0`), 15_000)
      await until(async () => events(d.stderr()).some((e) => e["outcome"] === "updated"), 5_000)
      const updated = events(d.stderr()).find((e) => e["outcome"] === "updated")
      expect(updated).toMatchObject({ image, from: "1.0.0", to: "1.1.0", file: "app.yaml", field: "spec.image", repo: "reload" })
      expect(String(updated?.["commit"])).toMatch(/^[0-9a-f]{40}$/)
      expect(await metric(d, /^runner_targets\{pipeline="[^"]*piped.yaml",repo="reload",state="updated"\} (\d+)$/m)).toBe(1)
      expect(await metric(d, /^runner_targets\{pipeline="[^"]*piped.yaml",repo="reload",state="failed"\} (\d+)$/m)).toBe(0)
      expect(await metric(d, /^runner_target_failures_total\{pipeline="[^"]*piped.yaml",repo="reload",reason="push"\} (\d+)$/m)).toBe(0)
      expect(await metric(d, /^runner_build_info\{version="[^"]+"\} (\d+)$/m)).toBe(1)
      expect(await metric(d, /^process_resident_memory_bytes (\d+)$/m)).toBeGreaterThan(1_000_000)
    } finally {
      expect(await stopDaemon(d)).toBe(0)
    }
  }, 90_000)
})
