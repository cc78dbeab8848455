/**
 * Builds the single executable: `bun build.ts` writes dist/runner for this machine.
 * `bun build.ts --target bun-linux-arm64` (repeatable, or `--all`) cross-compiles to
 * dist/runner-<target>. `bun build.ts --profile` writes dist/runner-profile, the same program with
 * its function names kept, for CPU profiles that can be read.
 */
import { $ } from "bun"

const CROSS = ["bun-linux-x64", "bun-linux-x64-baseline", "bun-linux-arm64", "bun-darwin-arm64", "bun-darwin-x64", "bun-windows-x64"]

/** Scale of the JIT's tier-up thresholds in the executable (1 is Bun's default). */
const JIT_POLICY = 10

const args = process.argv.slice(2)
const profile = args.includes("--profile")
const targets = args.includes("--all")
  ? CROSS
  : args.flatMap((a, i) => (a === "--target" && args[i + 1] !== undefined ? [args[i + 1] as string] : []))

const build = async (target: string | undefined) => {
  const outfile = target === undefined ? (profile ? "dist/runner-profile" : "dist/runner") : `dist/runner-${target.replace(/^bun-/, "")}`
  const cross = target === undefined ? [] : [`--target=${target}`]
  const minify = profile ? [] : ["--minify"]
  // A pass is short and mostly runs code once per image or file: compiling it to machine code
  // sooner costs more CPU and memory than it saves (bench: 10x the default tier-up thresholds
  // took the quiet pass from 145 to 127 MB peak RSS, and its CPU time down by a tenth).
  await $`bun build src/cli.ts --compile ${minify} --bytecode --compile-jit-policy=${JIT_POLICY} ${cross} --outfile ${outfile}`.quiet()
  console.log(`built ${outfile}`)
}

if (targets.length === 0) await build(undefined)
for (const target of targets) await build(target)
