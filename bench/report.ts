/** The bench's figures: each a runner median beside its lower bound's, and the table they print as. */
import { readFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { log } from "./options.ts"
import { median, type Sample } from "./measure.ts"

export interface Figure {
  readonly scenario: string
  readonly runnerMs: number
  readonly boundMs: number
  readonly ratio: number
  readonly bound: string
  readonly rssMb: number
  readonly goal: string
  readonly samples: { readonly runnerMs: ReadonlyArray<number>; readonly boundMs: ReadonlyArray<number>; readonly rssMb: ReadonlyArray<number> }
}

export const figures: Array<Figure> = []

/** How much `a` is over (or under) `b`, as a signed whole percentage. */
export const percent = (a: number, b: number) => `${a >= b ? "+" : ""}${((a / b - 1) * 100).toFixed(0)}%`

/** Adds the medians of `runner` and `boundMs` to the figures, logs and returns them. */
export const record = (scenario: string, bound: string, goal: string, runner: ReadonlyArray<Sample>, boundMs: ReadonlyArray<number>): Figure => {
  const figure: Figure = {
    scenario,
    runnerMs: median(runner.map((s) => s.ms)),
    boundMs: median(boundMs),
    ratio: median(runner.map((s) => s.ms)) / median(boundMs),
    bound,
    rssMb: median(runner.map((s) => s.rssMb)),
    goal,
    samples: { runnerMs: runner.map((s) => Math.round(s.ms)), boundMs: boundMs.map(Math.round), rssMb: runner.map((s) => Math.round(s.rssMb)) }
  }
  figures.push(figure)
  log(`${scenario}: runner ${figure.runnerMs.toFixed(0)} ms, bound ${figure.boundMs.toFixed(0)} ms, x${figure.ratio.toFixed(2)}, ${figure.rssMb.toFixed(0)} MB`)
  return figure
}

export const machine = () => {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8")
  return {
    nproc: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown"
  }
}

/** A Markdown table of `header` and `lines`, columns padded to their widest cell. */
export const markdownTable = (header: ReadonlyArray<string>, lines: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)))
  const row = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`
  return [row(header), row(widths.map((w) => "-".repeat(w))), ...lines.map(row)].join("\n")
}

export const table = (rows: ReadonlyArray<Figure>) =>
  markdownTable(
    ["scenario", "runner", "lower bound", "ratio", "peak RSS", "goal", "lower bound is"],
    rows.map((f) => [f.scenario, `${f.runnerMs.toFixed(0)} ms`, `${f.boundMs.toFixed(0)} ms`, `${f.ratio.toFixed(2)}x`, `${f.rssMb.toFixed(0)} MB`, f.goal, f.bound])
  )
