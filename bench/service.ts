/**
 * The runner as a sidecar: a service (`--listen`) over the quiet configuration. Its resident memory
 * once its first pass is over and it has sat idle, beside what any program of this runtime holds:
 * an empty compiled program, and the runner's own code loaded (`runner validate`). And the passes
 * it makes once running, every 2 s with the tags listed anew each time, beside the warm bound.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { git } from "../test/support/gitServer.ts"
import { type Daemon, metric, startDaemon, stopDaemon, until } from "../test/support/daemon.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { elapsed, fetchIn, listTagsDirectly, measure, median } from "./measure.ts"
import { BINARY, RUNS } from "./options.ts"
import type { Watched } from "./passes.ts"

/** How long the service sits idle after its first pass before its memory is read. */
const IDLE_MS = 10_000

const statusKb = (pid: number, field: "VmRSS" | "VmHWM") => {
  const line = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  if (line === null) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(line[1])
}

/** The service over `config`, started as the bench's binary: `work` runs while it is up, then it stops. */
const withService = async <A>(config: string, dataDir: string, work: (daemon: Daemon) => Promise<A>): Promise<A> => {
  const daemon = await startDaemon(["--config", config, "--data-dir", dataDir], { command: [BINARY] })
  try {
    return await work(daemon)
  } finally {
    await stopDaemon(daemon)
  }
}

const readyz = (daemon: Daemon) => async () => (await fetch(`${daemon.url}/readyz`).catch(() => undefined))?.status === 200

/** One service run: ready after its first pass, then idle; its RSS then, and its peak. */
const idleService = (w: Watched, dataDir: string) =>
  withService(w.config, dataDir, async (daemon) => {
    const pid = daemon.child.pid
    if (pid === undefined) throw new Error("the service did not start")
    await until(readyz(daemon), 120_000)
    await Bun.sleep(IDLE_MS)
    return { idleMb: statusKb(pid, "VmRSS") / 1024, peakMb: statusKb(pid, "VmHWM") / 1024 }
  })

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

/** Passes of a running service that are timed, after its first. */
const SERVICE_PASSES = 6
const EVERY = "2s"

/** `w`'s config, passing and listing every EVERY instead of every 5 minutes. */
const everyFewSeconds = (w: Watched, work: string): string => {
  const text = readFileSync(w.config, "utf8")
    .replace("checkInterval: 5m", `checkInterval: ${EVERY}`)
    .replace("      type: OCI\n", `      type: OCI\n      pullInterval: ${EVERY}\n`)
  if (!text.includes(`pullInterval: ${EVERY}`)) throw new Error(`cannot set the intervals of ${w.config}`)
  const config = join(work, `${w.name}-every-${EVERY}.yaml`)
  writeFileSync(config, text)
  return config
}

const passCount = /^runner_pass_duration_seconds_count\{[^}]*\} (\S+)$/m
const passSeconds = /^runner_pass_duration_seconds_sum\{[^}]*\} (\S+)$/m
const requests = /^runner_registry_requests_total\{[^}]*\} (\S+)$/m

/** The service's pass count, total pass time (s) and registry requests so far, once it has made `passes` passes. */
const afterPasses = async (daemon: Daemon, passes: number) => {
  await until(async () => (await metric(daemon, passCount)) >= passes, 120_000)
  return { count: await metric(daemon, passCount), seconds: await metric(daemon, passSeconds), requests: await metric(daemon, requests) }
}

/**
 * The mean time of a running service's passes after its first (which pays for the code's first
 * run), and its requests per pass, from its own metrics: no debug log, which costs a line per request.
 */
const runningPasses = (config: string, dataDir: string) =>
  withService(config, dataDir, async (daemon) => {
    const first = await afterPasses(daemon, 1)
    const last = await afterPasses(daemon, first.count + SERVICE_PASSES)
    const passes = last.count - first.count
    return { ms: ((last.seconds - first.seconds) * 1000) / passes, requests: (last.requests - first.requests) / passes }
  })

/** Lines to print: the passes of a running service beside the warm bound, measured in the same rounds. */
export const servicePasses = async (registry: TestRegistry, w: Watched, work: string): Promise<ReadonlyArray<string>> => {
  const config = everyFewSeconds(w, work)
  const dataDir = join(work, `${w.name}-data`)
  const clone = join(work, `${w.name}-service-clone`)
  await git(["clone", "--quiet", "--no-checkout", w.remotes[0] as string, clone])
  const runs: Array<{ ms: number; requests: number }> = []
  const bound: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    runs.push(await runningPasses(config, dataDir))
    bound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, w.repositories)
      await fetchIn(clone)
    }))
  }
  const ms = median(runs.map((r) => r.ms))
  const b = median(bound)
  return [
    `  a pass of the running service, every ${EVERY} with the tags listed anew (the mean of ${SERVICE_PASSES} passes after its first, ` +
      `median of ${RUNS}; ${median(runs.map((r) => r.requests)).toFixed(0)} requests a pass): ` +
      `${ms.toFixed(0)} ms against ${b.toFixed(0)} ms for the tag lists and git fetch, x${(ms / b).toFixed(2)}`
  ]
}
