/**
 * Under systemd, the binary's stderr lines carry their syslog priority (`<4>` a failed pass, `<3>`
 * a config error), so `journalctl -p warning` shows the failures. journald is not running here: a
 * file stands in for its stream, and JOURNAL_STREAM names that file's device and inode, as systemd
 * names the socket it connects.
 */
import { beforeAll, expect, test } from "bun:test"
import { spawn, spawnSync } from "node:child_process"
import { closeSync, openSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { until } from "../support/daemon.ts"
import { ensureBuilt, RUNNER, tempDir, writeFile } from "../support/runner.ts"

beforeAll(() => ensureBuilt())

// A repository that cannot be cloned: every pass fails, which a service logs as a warning.
const failingConfig = (dir: string) =>
  writeFile(
    dir,
    "piped.yaml",
    `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  repositories:
    - repoId: gone
      remote: file://${dir}/missing.git
      branch: main
  imageProviders:
    - name: ci
      type: STORE
`
  )

const journalStream = (file: string, inodeOffset = 0n) => {
  const stat = statSync(file, { bigint: true })
  return `${stat.dev}:${stat.ino + inodeOffset}`
}

/** The service's stderr, to a file, until a pass has failed; then SIGTERM. */
const serviceLines = async (format: "text" | "json", inodeOffset = 0n) => {
  const dir = tempDir("runner-journal-")
  const config = failingConfig(dir)
  const stderrFile = join(dir, "stderr")
  const fd = openSync(stderrFile, "w")
  const child = spawn(RUNNER, ["--config", config, "--data-dir", join(dir, "data"), "--log-level", "debug", "--log-format", format], {
    stdio: ["ignore", "ignore", fd],
    env: { ...process.env, NO_COLOR: "1", JOURNAL_STREAM: journalStream(stderrFile, inodeOffset) }
  })
  closeSync(fd)
  const exited = new Promise<number | null>((done) => child.on("close", done))
  try {
    await until(async () => readFileSync(stderrFile, "utf8").includes("failed"), 30_000)
  } finally {
    child.kill("SIGTERM")
  }
  expect(await exited).toBe(0)
  return readFileSync(stderrFile, "utf8").trimEnd().split("\n")
}

test("text logs under journald: each line starts with its priority, a failed pass is a warning", async () => {
  const lines = await serviceLines("text")
  for (const line of lines) expect(line).toMatch(/^<[2-7]>timestamp=/)
  expect(lines.find((l) => l.includes("message=cloning"))).toStartWith("<7>")
  const failed = lines.filter((l) => l.includes("failed"))
  expect(failed.length).toBeGreaterThan(0)
  for (const line of failed) expect(line).toStartWith("<4>")
})

test("JSON logs under journald: the same prefix, and JSON once journald has taken it off", async () => {
  const lines = await serviceLines("json")
  const levels = { "<3>": "error", "<4>": "warn", "<6>": "info", "<7>": "debug" }
  for (const line of lines) {
    const prefix = /^<\d>/.exec(line)?.[0] ?? "none"
    expect(Object.keys(levels)).toContain(prefix)
    expect(JSON.parse(line.slice(prefix.length)).level).toBe(levels[prefix as keyof typeof levels])
  }
  expect(lines.some((l) => l.startsWith("<4>"))).toBe(true)
})

test("JOURNAL_STREAM inherited by a process whose stderr is not the journal: no prefix", async () => {
  const lines = await serviceLines("text", 1n)
  expect(lines.length).toBeGreaterThan(0)
  for (const line of lines) expect(line).toStartWith("timestamp=")
})

test("a config error under journald is an error (<3>) on every line, and exits 2", () => {
  const dir = tempDir("runner-journal-")
  const stderrFile = join(dir, "stderr")
  const fd = openSync(stderrFile, "w")
  const run = spawnSync(RUNNER, ["--once", "--config", join(dir, "absent.yaml"), "--data-dir", join(dir, "data")], {
    stdio: ["ignore", "ignore", fd],
    env: { ...process.env, JOURNAL_STREAM: journalStream(stderrFile) }
  })
  closeSync(fd)
  expect(run.status).toBe(2)
  const lines = readFileSync(stderrFile, "utf8").trimEnd().split("\n")
  expect(lines.length).toBeGreaterThan(0)
  for (const line of lines) expect(line).toMatch(/^<3>config error: /)
})
