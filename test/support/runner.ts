import { spawn, spawnSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"

/** The compiled binary is what the integration tests exercise. */
export const RUNNER = resolve(import.meta.dir, "../../dist/runner")

/** Builds dist/runner when a plain `bun test` runs before any build. */
export const ensureBuilt = (): void => {
  if (existsSync(RUNNER)) return
  const built = spawnSync(process.execPath, ["build.ts"], { cwd: resolve(import.meta.dir, "../.."), stdio: "inherit" })
  if (built.status !== 0) throw new Error("bun build.ts failed")
}

export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to completion (asynchronously: the servers under test live in this process). */
export const exec = (command: string, args: ReadonlyArray<string>, options: { env?: Record<string, string>; timeoutMs?: number } = {}) =>
  new Promise<RunResult>((resolvePromise, reject) => {
    const child = spawn(command, [...args], {
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr })
    })
  })

export const runRunner = (args: ReadonlyArray<string>, options: { env?: Record<string, string>; timeoutMs?: number } = {}) =>
  exec(RUNNER, args, options)

export { tempDir } from "./tempDirs.ts"

/** Writes `text` to `dir/name`; a secret is given `mode` 0o600, as runner validate expects of one. */
export const writeFile = (dir: string, name: string, text: string, mode?: number): string => {
  const path = join(dir, name)
  writeFileSync(path, text, mode === undefined ? {} : { mode })
  return path
}
