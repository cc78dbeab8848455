/**
 * `npm run bench`: the runner's cost against the cost of the work a pass cannot avoid, on real
 * local servers (the Debian `docker-registry`, `git http-backend`). Every figure is the median of
 * several runs of `dist/runner` beside the median of its lower bound measured in the same run.
 *
 *   bun bench/bench.ts [--quick] [--only NAME[,NAME]] [--runs N] [--out FILE] [--runner BINARY]
 *
 * `--only` runs some scenarios alone: startup, quiet, dated, scale, large, update, requests, bucket, discover, charts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { startGitServer, type TestGitServer } from "../test/support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../test/support/registry.ts"
import { ensureBuilt, RUNNER } from "../test/support/runner.ts"
import { inParallel, pad, PUSH_CONCURRENCY, pushTags } from "./fixtures.ts"
import { whereTimeGoes } from "./breakdown.ts"
import { datedPasses } from "./dated.ts"
import { discoverPasses } from "./discover.ts"
import { largeRepository } from "./large.ts"
import { requireGnuTime, type Sample } from "./measure.ts"
import { BINARY, CURRENT, log, ONLY, OUT, quick, RUNS, selected, SIZE, TAGS, TARGETS_PER_IMAGE } from "./options.ts"
import { quietPasses, watchedRepo } from "./passes.ts"
import { figures, machine, record, table } from "./report.ts"
import { requestCounts, requestLines } from "./requests.ts"
import { scale } from "./scale.ts"
import { serviceMemory, servicePasses } from "./service.ts"
import { compileEmpty, startup } from "./startup.ts"
import { TOKEN_BUCKET_IDEAL_MS, tokenBucketRun } from "./tokenBucket.ts"
import { updatePass } from "./update.ts"

/** The quiet passes, where their time goes, and the memory of the service over the same configuration. */
const quiet = async (registry: TestRegistry, server: TestGitServer, work: string, images: ReadonlyArray<string>) => {
  const layout = { targetsPerImage: TARGETS_PER_IMAGE, files: SIZE.files, extraFiles: SIZE.extraFiles, tag: CURRENT }
  const w = await watchedRepo(registry, server, work, "quiet", images, layout)
  log(`quiet: ${w.targets} targets in ${SIZE.files} files, ${SIZE.extraFiles} extra files`)
  const passes = await quietPasses(registry, w, work, { cold: "at most 1.5x; peak RSS under 100 MB", warm: "at most 1.5x; peak RSS under 100 MB" })
  log("quiet: where the time goes")
  const breakdown = await whereTimeGoes(registry, w, work, passes)
  log("quiet: the idle service")
  return { passes, lines: [...breakdown, ...(await serviceMemory(w, work, await compileEmpty(work))), ...(await servicePasses(registry, w, work))] }
}

const bucket = async () => {
  const runs: Array<Sample & { readonly refused: number; readonly requests: number }> = []
  for (let i = 0; i < RUNS; i++) runs.push({ ...(await tokenBucketRun()), rssMb: 0, stdout: "", stderr: "", code: 0 })
  log(`token-bucket registry: ${runs.map((r) => `${r.refused} of ${r.requests}`).join(", ")} requests refused`)
  record("100 listings, registry at 10 req/s burst 10 (429 past it)", "the bucket's ideal time", "at most 1.3x; at most 5% refused", runs, runs.map(() => TOKEN_BUCKET_IDEAL_MS))
}

/** The selected scenarios in order; what they add to the JSON and print below the table. */
const scenarios = async (registry: TestRegistry, server: TestGitServer, work: string) => {
  const extra: Record<string, unknown> = {}
  const lines: Array<string> = []
  const images = Array.from({ length: SIZE.images }, (_, i) => `bench/img-${pad(i, 3)}`)
  if (selected("quiet") || selected("large") || selected("update") || selected("discover")) {
    log(`pushing ${images.length} images x ${TAGS.length} tags`)
    await inParallel(images, PUSH_CONCURRENCY, (r) => pushTags(registry, r, TAGS))
  }
  if (selected("startup")) {
    const { emptyRssMb } = await startup(work)
    extra["emptyProgramRssMb"] = emptyRssMb
    lines.push("", `an empty compiled program peaks at ${emptyRssMb.toFixed(0)} MB RSS`)
  }
  const plain = selected("quiet") ? await quiet(registry, server, work, images) : undefined
  if (plain !== undefined) lines.push(...plain.lines)
  if (selected("dated")) lines.push(...(await datedPasses(registry, server, work, plain?.passes)))
  if (selected("scale")) {
    const { result, lines: scaleLines } = await scale(registry, server, work)
    extra["scale"] = result
    lines.push("", ...scaleLines)
  }
  if (selected("large")) {
    log("large repository")
    await largeRepository(registry, server, work, images[0] as string)
  }
  if (selected("update")) {
    log("update pass")
    await updatePass(registry, server, work, images)
  }
  if (selected("requests")) {
    log("request counts")
    const requests = await requestCounts(server, work)
    extra["requests"] = requests
    lines.push("", ...requestLines(requests))
  }
  if (selected("bucket")) {
    log("token-bucket registry")
    await bucket()
  }
  if (selected("discover")) lines.push(...(await discoverPasses(registry, server, work, images)))
  if (selected("charts")) {
    log("charts: a 20 MB index.yaml, in a process of its own")
    const read = Bun.spawnSync(["bun", join(import.meta.dir, "chartIndex.ts")], { stderr: "inherit" })
    lines.push("", `chart repositories: ${read.stdout.toString().trim()}`)
  }
  return { extra, lines }
}

const main = async () => {
  requireGnuTime()
  if (BINARY === RUNNER) ensureBuilt()
  const work = mkdtempSync(join(tmpdir(), "runner-bench-"))
  const [registry, server] = await Promise.all([startRegistry(), startGitServer()])
  const started = performance.now()
  try {
    const { extra, lines } = await scenarios(registry, server, work)
    const result = { machine: machine(), runner: BINARY, quick, runs: RUNS, scenarios: [...ONLY], figures, ...extra }
    mkdirSync(dirname(OUT), { recursive: true })
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`)
    const m = result.machine
    console.log(`\nrunner bench${quick ? " (--quick)" : ""}: median of ${RUNS} runs; ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB\n`)
    console.log(table(figures))
    for (const line of lines) console.log(line)
    console.log(`\nfigures written to ${OUT} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  } finally {
    await Promise.all([registry.stop(), server.stop()])
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
