/**
 * `bun bench/profile.ts [--images N] [--targets-per-image K] [--passes P] [--heap] [--binary] [--serve]`:
 * the bench's quiet scenario on the same local servers, then P warm passes of the runner under
 * Bun's profiler: from source, or with `--binary` the executable as built (`dist/runner-profile`,
 * names kept), profiled through BUN_OPTIONS. Writes a CPU profile (with `--heap`, a heap profile)
 * per pass, as Chrome DevTools JSON and as Markdown, to `dist/bench/profiles/`. The Markdown's
 * times count idle gaps against whatever ran next; sample counts in the JSON do not. `--serve`
 * first prints the command line of a pass and keeps the servers up until Ctrl-C, for experiments
 * by hand.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { startGitServer } from "../test/support/gitServer.ts"
import { startRegistry } from "../test/support/registry.ts"
import { exec } from "../test/support/runner.ts"
import { inParallel, pad, pipedConfig, PUSH_CONCURRENCY, pushTags, watchedRepoFiles } from "./fixtures.ts"

const argv = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : Number(argv[i + 1])
}
const IMAGES = option("--images", 200)
const TARGETS_PER_IMAGE = option("--targets-per-image", 5)
const PASSES = option("--passes", 2)
const HEAP = argv.includes("--heap")
const BINARY = argv.includes("--binary")
const PROFILED = resolve(import.meta.dir, "../dist/runner-profile")
const TAGS = Array.from({ length: 10 }, (_, i) => `1.${i}.0`)
const OUT = resolve("dist/bench/profiles")
const CLI = resolve(import.meta.dir, "../src/cli.ts")

if (BINARY) await exec(process.execPath, [resolve(import.meta.dir, "../build.ts"), "--profile"], { timeoutMs: 300_000 })
const work = mkdtempSync(join(tmpdir(), "runner-profile-"))
const [registry, server] = await Promise.all([startRegistry(), startGitServer()])
try {
  const images = Array.from({ length: IMAGES }, (_, i) => `bench/img-${pad(i, 3)}`)
  await inParallel(images, PUSH_CONCURRENCY, (r) => pushTags(registry, r, TAGS))
  const remote = await server.createRepo(
    "quiet",
    watchedRepoFiles({
      images: images.map((r) => `${registry.host}/${r}`),
      targetsPerImage: TARGETS_PER_IMAGE,
      files: Math.max(1, Math.round((IMAGES * TARGETS_PER_IMAGE) / 10)),
      extraFiles: 300,
      watcherFiles: Math.max(1, Math.round((IMAGES * TARGETS_PER_IMAGE) / 100)),
      tag: TAGS[TAGS.length - 1] as string
    })
  )
  const config = pipedConfig(work, "quiet", [{ repoId: "quiet", remote }], registry.url)
  const dataDir = join(work, "data")
  rmSync(OUT, { recursive: true, force: true })
  mkdirSync(OUT, { recursive: true })
  if (argv.includes("--serve")) {
    // Keeps the servers up for experiments by hand until interrupted.
    console.log(`runner --once --config ${config} --data-dir ${dataDir}`)
    await new Promise((resolveServe) => process.once("SIGINT", resolveServe))
  }
  for (let pass = 0; pass <= PASSES; pass++) {
    // Pass 0 clones; the profiled passes are warm.
    const name = `${HEAP ? "heap" : "cpu"}-${pass}`
    const profiler =
      pass === 0
        ? []
        : HEAP
          ? ["--heap-prof", "--heap-prof-md", `--heap-prof-dir=${OUT}`, `--heap-prof-name=${name}`]
          : ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${OUT}`, `--cpu-prof-name=${name}`, "--cpu-prof-interval=250"]
    const started = performance.now()
    const args = ["--once", "--config", config, "--data-dir", dataDir]
    const run = BINARY
      ? await exec(PROFILED, args, { env: { BUN_OPTIONS: profiler.join(" ") } })
      : await exec(process.execPath, [...profiler, CLI, ...args])
    const took = performance.now() - started
    const summary = run.stdout.trim().split("\n").pop() ?? ""
    console.log(`pass ${pass}: ${took.toFixed(0)} ms, exit ${run.code}: ${summary}`)
    if (run.code !== 0) console.log(run.stderr.slice(-3000))
  }
  console.log(`profiles in ${OUT}`)
} finally {
  await Promise.all([registry.stop(), server.stop()])
  rmSync(work, { recursive: true, force: true })
}
