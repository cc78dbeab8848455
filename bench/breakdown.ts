/**
 * Where the time of a quiet pass goes, part by part, beside the part of the lower bound it
 * compares with: the runner's debug log times each stage of a repository's pass
 * (`stage resolve took 201ms`), and the parts between and around the stages are what is left of the
 * wall time. The bound's parts are measured alone: the tag lists, and the clone or fetch.
 */
import { join } from "node:path"
import type { TestRegistry } from "../test/support/registry.ts"
import { exec } from "../test/support/runner.ts"
import { elapsed, fetchIn, listTagsDirectly, median, shallowClone } from "./measure.ts"
import { BINARY, RUNS } from "./options.ts"
import { fresh, repeat, type Watched } from "./passes.ts"
import { type Figure, markdownTable } from "./report.ts"

/** The parts of a one-repository pass, in order; `bound` names the part of the lower bound it stands beside. */
const PARTS = [
  { part: "start-up: load the program, read the config", stage: undefined, bound: undefined },
  { part: "open: clone or fetch the repository", stage: "open", bound: "git" },
  { part: "watchers: read the ImageWatcher files", stage: "watchers", bound: undefined },
  { part: "prepare the targets, read their fields", stage: undefined, bound: undefined },
  { part: "resolve and decide: list the tags, decide every target", stage: "resolve", bound: "tags" },
  { part: "patch: splice the updates", stage: "patch", bound: undefined },
  { part: "report, parse cache, exit", stage: undefined, bound: undefined }
] as const

interface LogLine {
  readonly time: number
  readonly message: string
}

const logLines = (stderr: string): ReadonlyArray<LogLine> =>
  stderr.split("\n").flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as { time?: string; message?: string }
      return parsed.time === undefined || parsed.message === undefined ? [] : [{ time: Date.parse(parsed.time), message: parsed.message }]
    } catch {
      return []
    }
  })

/** The milliseconds of each part of one pass, from its log and the wall-clock times of its start and end. */
const partsOf = (started: number, ended: number, stderr: string): ReadonlyArray<number> => {
  const lines = logLines(stderr)
  const stages = new Map<string, { end: number; took: number }>()
  for (const { message, time } of lines) {
    const stage = /^stage (\w+) took (\d+)ms$/.exec(message)
    if (stage !== null) stages.set(stage[1] as string, { end: time, took: Number(stage[2]) })
  }
  // A runner built before resolve and decide were one stage logs `stage fetch`, and plans in `stage patch`.
  const at = (name: string, older?: string) => {
    const found = stages.get(name) ?? (older === undefined ? undefined : stages.get(older))
    if (found === undefined) throw new Error(`no "stage ${name}" line in the runner's debug log:\n${stderr.slice(-2000)}`)
    return { start: found.end - found.took, end: found.end, took: found.took }
  }
  const [open, watchers, fetch, patch] = [at("open"), at("watchers"), at("resolve", "fetch"), at("patch")]
  return [
    open.start - started,
    open.took,
    watchers.start - open.end + watchers.took,
    fetch.start - watchers.end,
    fetch.took,
    patch.took + Math.max(0, patch.start - fetch.end),
    ended - patch.end
  ]
}

const passParts = async (w: Watched, dataDir: string) => {
  const started = Date.now()
  const run = await exec(BINARY, ["--once", "--config", w.config, "--data-dir", dataDir, "--log-level", "debug", "--log-format", "json"], {
    timeoutMs: 600_000
  })
  const ended = Date.now()
  if (run.code !== 0) throw new Error(`runner exited ${run.code}: ${run.stderr.slice(-2000)}`)
  return partsOf(started, ended, run.stderr)
}

/**
 * The median of each part over the bench's runs, cold and warm, for a configuration of one
 * repository, beside the bound's parts measured in the same rounds; as lines to print.
 */
export const whereTimeGoes = async (
  registry: TestRegistry,
  w: Watched,
  work: string,
  quiet: { readonly cold: Figure; readonly warm: Figure }
): Promise<ReadonlyArray<string>> => {
  if (w.remotes.length !== 1) throw new Error("the breakdown reads the stages of one repository's pass")
  const remote = w.remotes[0] as string
  const dataDir = join(work, `${w.name}-breakdown-data`)
  const clone = join(work, `${w.name}-breakdown-clone`)
  const runs = { cold: [] as Array<ReadonlyArray<number>>, warm: [] as Array<ReadonlyArray<number>> }
  const bounds = { tags: [] as Array<number>, clone: [] as Array<number>, fetch: [] as Array<number> }
  await repeat(async () => {
    runs.cold.push(await passParts(w, fresh(dataDir)))
    runs.warm.push(await passParts(w, dataDir))
    bounds.tags.push(await elapsed(() => listTagsDirectly(registry.url, w.repositories)))
    bounds.clone.push(await elapsed(() => shallowClone(remote, fresh(clone))))
    bounds.fetch.push(await elapsed(() => fetchIn(clone)))
  })
  const lines: Array<string> = []
  for (const pass of ["cold", "warm"] as const) {
    const git = median(pass === "cold" ? bounds.clone : bounds.fetch)
    const boundOf = { git, tags: median(bounds.tags) }
    const rows = PARTS.map(({ part, bound }, i) => {
      const ms = median(runs[pass].map((parts) => parts[i] ?? 0))
      const b = bound === undefined ? 0 : boundOf[bound]
      return { part, ms, bound: b }
    })
    const total = rows.reduce((sum, r) => sum + r.ms, 0)
    const boundTotal = boundOf.git + boundOf.tags
    lines.push(
      "",
      `where the ${pass} quiet pass of ${w.targets} targets goes (median of ${RUNS}; the stages from the runner's debug log, the bound's parts measured alone):`,
      "",
      markdownTable(
        ["part", "runner", "lower bound", "above the bound"],
        [
          ...rows.map((r) => [r.part, `${r.ms.toFixed(0)} ms`, `${r.bound.toFixed(0)} ms`, `${(r.ms - r.bound).toFixed(0)} ms`]),
          ["whole pass", `${total.toFixed(0)} ms`, `${boundTotal.toFixed(0)} ms`, `${(total - boundTotal).toFixed(0)} ms`]
        ]
      ),
      // The debug log writes a line per registry request; the passes timed without it are the reference.
      `(the same pass without the debug log, in the table above: ${quiet[pass].runnerMs.toFixed(0)} ms)`
    )
  }
  return lines
}
