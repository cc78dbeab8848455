/**
 * The runner as a sidecar: a service (`--listen`) over the quiet configuration, its resident memory
 * once its first pass is over and it has sat idle, beside what any program of this runtime holds:
 * an empty compiled program, and the runner's own code loaded (`runner validate`).
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { freePort } from "../test/support/registry.ts"
import { measure, median } from "./measure.ts"
import { BINARY, RUNS } from "./options.ts"
import type { Watched } from "./passes.ts"

/** How long the service sits idle after its first pass before its memory is read. */
const IDLE_MS = 10_000

const statusKb = (pid: number, field: "VmRSS" | "VmHWM") => {
  const line = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  if (line === null) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(line[1])
}

const ready = async (port: number, deadline: number) => {
  while (Date.now() < deadline) {
    const answer = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)
    if (answer?.status === 200) return
    await Bun.sleep(50)
  }
  throw new Error("the service did not turn ready")
}

/** One service run: ready after its first pass, then idle; its RSS then, and its peak. */
const idleService = async (w: Watched, dataDir: string) => {
  const port = await freePort()
  const child = spawn(BINARY, ["--config", w.config, "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`], { stdio: "ignore" })
  try {
    const pid = child.pid
    if (pid === undefined) throw new Error("the service did not start")
    await ready(port, Date.now() + 120_000)
    await Bun.sleep(IDLE_MS)
    return { idleMb: statusKb(pid, "VmRSS") / 1024, peakMb: statusKb(pid, "VmHWM") / 1024 }
  } finally {
    child.kill("SIGTERM")
  }
}

/** Lines to print: the idle service's memory beside the runtime's and the loaded program's. */
export const serviceMemory = async (w: Watched, work: string, emptyProgram: string): Promise<ReadonlyArray<string>> => {
  // The working copy of the bench's warm passes: the service's first pass is a warm one.
  const dataDir = join(work, `${w.name}-data`)
  const runs: Array<{ idleMb: number; peakMb: number }> = []
  const [empty, loaded]: [Array<number>, Array<number>] = [[], []]
  for (let i = 0; i < RUNS; i++) {
    runs.push(await idleService(w, dataDir))
    empty.push((await measure(emptyProgram, [])).rssMb)
    loaded.push((await measure(BINARY, ["validate", "--config", w.config])).rssMb)
  }
  const mb = (values: ReadonlyArray<number>) => `${median(values).toFixed(0)} MB`
  return [
    "",
    `the service (--listen) over the quiet configuration, median of ${RUNS}:`,
    `  idle ${IDLE_MS / 1000} s after its first pass: ${mb(runs.map((r) => r.idleMb))} RSS (peak ${mb(runs.map((r) => r.peakMb))}; goal: under 64 MB idle)`,
    `  an empty compiled program: ${mb(empty)}; the runner's code loaded (runner validate): ${mb(loaded)}`
  ]
}
