/** The runner as a daemon for integration tests: a Piped config to run, the process, and its endpoints. */
import { type ChildProcess, spawn } from "node:child_process"
import { resolve } from "node:path"
import { freePort } from "./registry.ts"
import { RUNNER } from "./runner.ts"

/** The same source under Deno instead of the compiled binary. */
export const DENO = (() => {
  const root = resolve(import.meta.dir, "../..")
  return [resolve(root, "node_modules/.bin/deno"), "run", "--quiet", "--allow-all", resolve(root, "src/main.ts")]
})()

export interface Daemon {
  readonly url: string
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  stderr(): string
}

/** Polls until `check` holds; returns the milliseconds waited, or throws after `timeoutMs`. */
export const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const started = performance.now()
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await Bun.sleep(50)
  }
  return performance.now() - started
}

/** Starts `runner ARGS --listen 127.0.0.1:PORT` and waits for /healthz. */
export const startDaemon = async (
  args: ReadonlyArray<string>,
  options: { readonly port?: number; readonly command?: ReadonlyArray<string> } = {}
): Promise<Daemon> => {
  const port = options.port ?? (await freePort())
  const [command = RUNNER, ...prefix] = options.command ?? [RUNNER]
  const child = spawn(command, [...prefix, ...args, "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" }
  })
  let stderr = ""
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
  const exited = new Promise<number | null>((done) => child.on("close", done))
  const url = `http://127.0.0.1:${port}`
  await until(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 60_000)
  return { url, child, exited, stderr: () => stderr }
}

/** SIGTERM; resolves to the exit code. */
export const stopDaemon = async (daemon: Daemon) => {
  daemon.child.kill("SIGTERM")
  return daemon.exited
}

/** The value of the first /metrics line matching `line` (its first group), NaN when there is none. */
export const metric = async (daemon: Daemon, line: RegExp) => {
  const text = await (await fetch(`${daemon.url}/metrics`)).text()
  return Number(line.exec(text)?.[1] ?? Number.NaN)
}
