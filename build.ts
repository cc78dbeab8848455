/**
 * Builds the single executable: `bun build.ts` writes dist/runner for this machine.
 * `bun build.ts --target bun-linux-arm64` (repeatable, or `--all`) cross-compiles to
 * dist/runner-<target> (dist/runner-windows-x64.exe for Windows). `bun build.ts --profile` writes
 * dist/runner-profile, the same program with its function names kept, for CPU profiles that can be
 * read.
 *
 * A cross build needs the Bun runtime of the target: Bun downloads the npm package
 * @oven/bun-<os>-<arch> of its own version from registry.npmjs.org into its install cache
 * (BUN_INSTALL_CACHE_DIR, default ~/.bun/install/cache). The README's Building section says how
 * to seed that cache for a build without network.
 */
import { $ } from "bun"

export const CROSS = ["bun-linux-x64", "bun-linux-x64-baseline", "bun-linux-arm64", "bun-darwin-arm64", "bun-darwin-x64", "bun-windows-x64"]

/** Scale of the JIT's tier-up thresholds in the executable (1 is Bun's default). */
const JIT_POLICY = 100

/** Where a build goes: Windows executables end in `.exe` (Bun would add it to the file, not to our name). */
export const outfileFor = (target: string | undefined, profile: boolean): string =>
  target === undefined
    ? profile ? "dist/runner-profile" : "dist/runner"
    : `dist/runner-${target.replace(/^bun-/, "")}${target.includes("windows") ? ".exe" : ""}`

const USAGE = `usage: bun build.ts [--profile] [--target bun-<os>-<arch>]... [--all]
  (no option)   dist/runner for this machine
  --target T    cross-compile to dist/runner-<T without bun->, e.g. bun-linux-arm64 (repeatable)
  --all         every target: ${CROSS.join(", ")}
  --profile     dist/runner-profile, with function names kept
Cross builds fetch @oven/bun-<os>-<arch> from the npm registry into BUN_INSTALL_CACHE_DIR
(default ~/.bun/install/cache) unless it is there already: see the README's Building section.`

const build = async (target: string | undefined, profile: boolean) => {
  const outfile = outfileFor(target, profile)
  const cross = target === undefined ? [] : [`--target=${target}`]
  const minify = profile ? [] : ["--minify"]
  // A pass is short and mostly runs code once per image or file: compiling it to machine code
  // sooner costs more CPU and memory than it saves. Quiet pass of 1,000 targets, interleaved runs:
  // 1x: 145 MB cold; 10x: 127 MB cold, 109 MB warm; 100x: 113 MB cold, 106 MB warm, and a tenth
  // less CPU cold; 1000x: 107 and 103 MB, but the cold pass's YAML runs interpreted, 25% slower.
  await $`bun build src/cli.ts --compile ${minify} --bytecode --compile-jit-policy=${JIT_POLICY} ${cross} --outfile ${outfile}`.quiet()
  console.log(`built ${outfile}`)
}

if (import.meta.main) {
  const args = process.argv.slice(2)
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE)
    process.exit(0)
  }
  const profile = args.includes("--profile")
  const targets = args.includes("--all")
    ? CROSS
    : args.flatMap((a, i) => (a === "--target" && args[i + 1] !== undefined ? [args[i + 1] as string] : []))
  if (targets.length === 0) await build(undefined, profile)
  for (const target of targets) await build(target, profile)
}
