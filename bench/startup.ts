/** `--version` beside an empty program compiled the same way: the Bun runtime's own start-up. */
import { join } from "node:path"
import { exec, writeFile } from "../test/support/runner.ts"
import { measure, median, type Sample } from "./measure.ts"
import { BINARY, SIZE } from "./options.ts"
import { record } from "./report.ts"

/** An empty program compiled as the runner is: what the runtime alone costs. */
export const compileEmpty = async (work: string) => {
  const source = writeFile(work, "empty.ts", "export {}\n")
  const empty = join(work, "empty")
  const built = await exec(process.execPath, ["build", source, "--compile", "--minify", "--bytecode", "--outfile", empty])
  if (built.code !== 0) throw new Error(`cannot compile the empty program: ${built.stderr}`)
  return empty
}

export const startup = async (work: string) => {
  const empty = await compileEmpty(work)
  const runner: Array<Sample> = []
  const bound: Array<Sample> = []
  for (let i = 0; i < SIZE.startups; i++) {
    runner.push(await measure(BINARY, ["--version"]))
    bound.push(await measure(empty, []))
  }
  record("runner --version (start-up)", "an empty program compiled with bun build --compile", "under 40 ms", runner, bound.map((s) => s.ms))
  return { emptyRssMb: median(bound.map((s) => s.rssMb)) }
}
