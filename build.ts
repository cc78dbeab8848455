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
 *
 * The version the executable reports (`runner --version`, runner_build_info, the user agent) is
 * RUNNER_VERSION when it is set (a container build passes it as a build argument: its context has
 * no .git), else package.json's version with the commit of the checkout: `0.1.0+<12 hex>`, and
 * `.dirty` when the work tree has uncommitted changes.
 */
import { $ } from "bun"
import { readFileSync } from "node:fs"

export const CROSS = ["bun-linux-x64", "bun-linux-x64-baseline", "bun-linux-arm64", "bun-darwin-arm64", "bun-darwin-x64", "bun-windows-x64"]

/** Scale of the JIT's tier-up thresholds in the executable (1 is Bun's default). */
const JIT_POLICY = 100

/** Where a build goes: Windows executables end in `.exe` (Bun would add it to the file, not to our name). */
export const outfileFor = (target: string | undefined, profile: boolean): string =>
  target === undefined
    ? profile ? "dist/runner-profile" : "dist/runner"
    : `dist/runner-${target.replace(/^bun-/, "")}${target.includes("windows") ? ".exe" : ""}`

/** What a version may hold: it ends up in a metric label and an HTTP header. */
const VERSION_FORM = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,127}$/

/**
 * The version a build reports: `given` (RUNNER_VERSION) if set, else the package's version with
 * the commit (when the build runs in a git checkout). Throws on a version of another form.
 */
export const versionOf = (given: string | undefined, packageVersion: string, commit: { readonly sha: string; readonly dirty: boolean } | undefined): string => {
  const version = given !== undefined && given !== "" ? given : commit === undefined ? packageVersion : `${packageVersion}+${commit.sha.slice(0, 12)}${commit.dirty ? ".dirty" : ""}`
  if (!VERSION_FORM.test(version)) throw new Error(`RUNNER_VERSION ${JSON.stringify(version)}: only letters, digits and . + _ -, at most 128`)
  return version
}

/** The checkout's commit, or undefined outside a git checkout (a container build's context). */
const commitOfCheckout = async (): Promise<{ sha: string; dirty: boolean } | undefined> => {
  const head = await $`git rev-parse HEAD`.quiet().nothrow()
  if (head.exitCode !== 0) return undefined
  const status = await $`git status --porcelain --untracked-files=no`.quiet().nothrow()
  return { sha: head.stdout.toString().trim(), dirty: status.stdout.toString().trim() !== "" }
}

const USAGE = `usage: bun build.ts [--profile] [--target bun-<os>-<arch>]... [--all]
  (no option)   dist/runner for this machine
  --target T    cross-compile to dist/runner-<T without bun->, e.g. bun-linux-arm64 (repeatable)
  --all         every target: ${CROSS.join(", ")}
  --profile     dist/runner-profile, with function names kept
RUNNER_VERSION sets the version the executable reports (default: package.json's + the commit).
Cross builds fetch @oven/bun-<os>-<arch> from the npm registry into BUN_INSTALL_CACHE_DIR
(default ~/.bun/install/cache) unless it is there already: see the README's Building section.`

const build = async (target: string | undefined, profile: boolean, version: string) => {
  const outfile = outfileFor(target, profile)
  const cross = target === undefined ? [] : [`--target=${target}`]
  const minify = profile ? [] : ["--minify"]
  // A pass is short and mostly runs code once per image or file: compiling it to machine code
  // sooner costs more CPU and memory than it saves. Quiet pass of 1,000 targets, interleaved runs:
  // 1x: 145 MB cold; 10x: 127 MB cold, 109 MB warm; 100x: 113 MB cold, 106 MB warm, and a tenth
  // less CPU cold; 1000x: 107 and 103 MB, but the cold pass's YAML runs interpreted, 25% slower.
  const define = `RUNNER_BUILD_VERSION=${JSON.stringify(version)}`
  await $`bun build src/cli.ts --compile ${minify} --bytecode --compile-jit-policy=${JIT_POLICY} --define ${define} ${cross} --outfile ${outfile}`.quiet()
  console.log(`built ${outfile} (${version})`)
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
  const packageVersion: string = JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")).version
  const version = versionOf(process.env["RUNNER_VERSION"], packageVersion, await commitOfCheckout())
  if (targets.length === 0) await build(undefined, profile, version)
  for (const target of targets) await build(target, profile, version)
}
