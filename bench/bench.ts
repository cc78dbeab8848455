/**
 * `npm run bench`: the runner's cost against the cost of the work a pass cannot avoid, on real
 * local servers (the Debian `docker-registry`, `git http-backend`). Every figure is the median of
 * several runs of `dist/runner` beside the median of its lower bound measured in the same run.
 *
 *   bun bench/bench.ts [--quick] [--runs N] [--out FILE] [--runner BINARY]
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir, totalmem } from "node:os"
import { dirname, join } from "node:path"
import { git, startGitServer, type TestGitServer } from "../test/support/gitServer.ts"
import { startPagingProxy, startRegistry, type TestRegistry } from "../test/support/registry.ts"
import { ensureBuilt, exec, RUNNER, writeFile } from "../test/support/runner.ts"
import { startCountingProxy } from "./countingProxy.ts"
import { TOKEN_BUCKET_IDEAL_MS, tokenBucketRun } from "./tokenBucket.ts"
import {
  appendLargeRepoCommit,
  createLargeRepo,
  inParallel,
  pad,
  pipedConfig,
  PUSH_CONCURRENCY,
  pushTags,
  retag,
  watchedRepoFiles
} from "./fixtures.ts"
import { elapsed, fetchIn, listTagsDirectly, measure, median, requireGnuTime, type Sample, shallowClone } from "./measure.ts"

const argv = process.argv.slice(2)
const option = (name: string) => {
  const i = argv.indexOf(name)
  return i === -1 ? undefined : argv[i + 1]
}
const quick = argv.includes("--quick")
const RUNS = Number(option("--runs") ?? (quick ? 2 : 3))
const OUT = option("--out") ?? "dist/bench/figures.json"
/** Another build of the runner, e.g. one made from a given commit, to compare. */
const BINARY = option("--runner") ?? RUNNER

/** The issue's scenario, or a quarter of it with `--quick`. */
const SIZE = quick
  ? { images: 50, files: 25, extraFiles: 75, updated: 25, scaleImages: 500, largeFiles: 5_000, largeCommits: 1_000, startups: 7 }
  : { images: 200, files: 100, extraFiles: 300, updated: 100, scaleImages: 2_000, largeFiles: 20_000, largeCommits: 5_000, startups: 15 }
const TARGETS_PER_IMAGE = 5
const TAGS = Array.from({ length: 10 }, (_, i) => `1.${i}.0`)
const CURRENT = TAGS[TAGS.length - 1] as string
// A minor release: the default policy keeps each target on its major version.
const NEW_TAG = "1.10.0"
const SCALE_TAGS = ["1.0.0", "1.1.0", "1.2.0"]
/** Tags per page the paging proxy serves when counting requests: 10 tags are 3 pages. */
const PAGE_SIZE = 4

const log = (text: string) => console.error(`[bench] ${text}`)

interface Figure {
  readonly scenario: string
  readonly runnerMs: number
  readonly boundMs: number
  readonly ratio: number
  readonly bound: string
  readonly rssMb: number
  readonly goal: string
  readonly samples: { readonly runnerMs: ReadonlyArray<number>; readonly boundMs: ReadonlyArray<number>; readonly rssMb: ReadonlyArray<number> }
}

const figures: Array<Figure> = []

const record = (scenario: string, bound: string, goal: string, runner: ReadonlyArray<Sample>, boundMs: ReadonlyArray<number>) => {
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
}

const SUMMARY = /(\d+) targets: (\d+) updated, (\d+) would update, (\d+) up to date, (\d+) failed/

/** One `runner --once` pass under GNU time; the pass must end as `expect` says, or the figure would be about something else. */
const runPass = async (config: string, dataDir: string, expect: { readonly updated: number; readonly upToDate: number }) => {
  const sample = await measure(BINARY, ["--once", "--config", config, "--data-dir", dataDir])
  const summary = SUMMARY.exec(sample.stdout)
  if (summary === null || Number(summary[2]) !== expect.updated || Number(summary[4]) !== expect.upToDate) {
    throw new Error(`unexpected pass (wanted ${expect.updated} updated, ${expect.upToDate} up to date): ${sample.stdout.split("\n").slice(-3).join(" / ")}\n${sample.stderr.slice(-3000)}`)
  }
  return sample
}

const fresh = (dir: string) => {
  rmSync(dir, { recursive: true, force: true })
  return dir
}

const repeat = async (work: (round: number) => Promise<void>) => {
  for (let round = 0; round < RUNS; round++) await work(round)
}

interface Watched {
  readonly name: string
  readonly remote: string
  readonly config: string
  readonly repositories: ReadonlyArray<string>
  readonly targets: number
}

/**
 * Quiet passes, cold (empty data dir) and warm (the working copy the cold pass left), each beside
 * its lower bound. Rounds interleave all four, so drift in a shared machine's load hits them alike.
 */
const quietPasses = async (registry: TestRegistry, w: Watched, work: string, goal: { readonly cold: string; readonly warm: string }) => {
  const dataDir = join(work, `${w.name}-data`)
  const clone = join(work, `${w.name}-clone`)
  const quiet = { updated: 0, upToDate: w.targets }
  const [cold, warm]: [Array<Sample>, Array<Sample>] = [[], []]
  const [coldBound, warmBound]: [Array<number>, Array<number>] = [[], []]
  await repeat(async () => {
    cold.push(await runPass(w.config, fresh(dataDir), quiet))
    coldBound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, w.repositories)
      await shallowClone(w.remote, fresh(clone))
    }))
    warm.push(await runPass(w.config, dataDir, quiet))
    warmBound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, w.repositories)
      await fetchIn(clone)
    }))
  })
  record(`${w.name}: quiet pass, cold`, "tag lists 8 at a time + git clone --depth 1 --no-checkout", goal.cold, cold, coldBound)
  record(`${w.name}: quiet pass, warm`, "tag lists 8 at a time + git fetch", goal.warm, warm, warmBound)
}

/** A configuration repository watching `repositories` of `registry`, with `targetsPerImage` targets each. */
const watchedRepo = async (
  registry: TestRegistry,
  server: TestGitServer,
  work: string,
  name: string,
  repositories: ReadonlyArray<string>,
  layout: {
    readonly targetsPerImage: number
    readonly files: number
    readonly extraFiles: number
    readonly tag: string
    readonly address?: string
    /** More `spec.git` lines of the config. */
    readonly git?: ReadonlyArray<string>
  }
): Promise<Watched> => {
  const remote = await server.createRepo(
    name,
    watchedRepoFiles({
      images: repositories.map((r) => `${registry.host}/${r}`),
      targetsPerImage: layout.targetsPerImage,
      files: layout.files,
      extraFiles: layout.extraFiles,
      watcherFiles: Math.max(1, Math.round(layout.files / 10)),
      tag: layout.tag
    })
  )
  const config = pipedConfig(work, { repoId: name, remote }, layout.address ?? registry.url, layout.git)
  return { name, remote, config, repositories, targets: repositories.length * layout.targetsPerImage }
}

/** A repository whose pass will update `SIZE.updated` images, its data dir after a quiet pass, and how to put the remote back. */
const updateRepo = async (registry: TestRegistry, server: TestGitServer, work: string, images: ReadonlyArray<string>, name: string, gitLines: ReadonlyArray<string>) => {
  const w = await watchedRepo(registry, server, work, name, images, {
    targetsPerImage: TARGETS_PER_IMAGE,
    files: SIZE.files,
    extraFiles: SIZE.extraFiles,
    tag: CURRENT,
    git: gitLines
  })
  const bare = join(server.root, `${name}.git`)
  const seed = (await git(["rev-parse", "refs/heads/main"], { cwd: bare })).trim()
  const dataDir = join(work, `${name}-data`)
  const snapshot = join(work, `${name}-data-seed`)
  await runPass(w.config, dataDir, { updated: 0, upToDate: w.targets })
  cpSync(dataDir, snapshot, { recursive: true })
  return { w, dataDir, snapshot, resetRemote: () => git(["update-ref", "refs/heads/main", seed], { cwd: bare }) }
}

/**
 * The update pass, unsigned and with every commit signed (an Ed25519 ssh key): both repositories
 * have their quiet pass before the registry gets the new tags.
 */
const updatePass = async (registry: TestRegistry, server: TestGitServer, work: string, images: ReadonlyArray<string>) => {
  const key = join(work, "signing-key")
  const keygen = await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench@example.com", "-f", key])
  if (keygen.code !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr}`)
  const repos = [
    { label: "", repo: await updateRepo(registry, server, work, images, "update", []) },
    { label: ", signed", repo: await updateRepo(registry, server, work, images, "update-signed", [`signingKeyFile: ${key}`]) }
  ]
  const changed = images.slice(0, SIZE.updated)
  await inParallel(changed, PUSH_CONCURRENCY, (r) => retag(registry, r, CURRENT, [NEW_TAG]))
  for (const { label, repo } of repos) await measureUpdate(registry, work, images, changed, label, repo)
}

/** 500 targets change: 500 commits and one push, from a kept working copy, beside fetch + push of the same commits by system git. */
const measureUpdate = async (
  registry: TestRegistry,
  work: string,
  images: ReadonlyArray<string>,
  changed: ReadonlyArray<string>,
  label: string,
  { dataDir, resetRemote, snapshot, w }: Awaited<ReturnType<typeof updateRepo>>
) => {
  const expected = { updated: changed.length * TARGETS_PER_IMAGE, upToDate: w.targets - changed.length * TARGETS_PER_IMAGE }
  const clone = join(work, `${w.name}-clone`)
  const runner: Array<Sample> = []
  const bound: Array<number> = []
  await repeat(async (round) => {
    await resetRemote()
    cpSync(snapshot, fresh(dataDir), { recursive: true })
    runner.push(await runPass(w.config, dataDir, expected))
    if (round === 0) {
      // The runner's commits, kept by system git so that the bound pushes the same objects.
      await git(["clone", "--quiet", "--single-branch", "--branch", "main", w.remote, clone])
      await git(["update-ref", "refs/bench/updated", "refs/remotes/origin/main"], { cwd: clone })
    }
    await resetRemote()
    bound.push(
      await elapsed(async () => {
        await listTagsDirectly(registry.url, images)
        await fetchIn(clone)
        await git(["push", "--quiet", "origin", "refs/bench/updated:refs/heads/main"], { cwd: clone })
      })
    )
  })
  record(
    `update: ${expected.updated} targets change (${expected.updated} commits, 1 push${label}), warm`,
    "tag lists 8 at a time + git fetch + git push of the same commits",
    "under 10 s",
    runner,
    bound
  )
}

/** A repository of many files and commits: the runner's clone and fetch beside system git's. */
const largeRepository = async (registry: TestRegistry, server: TestGitServer, work: string, image: string) => {
  const remote = await createLargeRepo(server, "large", {
    files: SIZE.largeFiles,
    commits: SIZE.largeCommits,
    watched: watchedRepoFiles({ images: [`${registry.host}/${image}`], targetsPerImage: 1, files: 1, extraFiles: 0, watcherFiles: 1, tag: CURRENT })
  })
  const config = pipedConfig(work, { repoId: "large", remote }, registry.url)
  const dataDir = join(work, "large-data")
  const clone = join(work, "large-clone")
  const quiet = { updated: 0, upToDate: 1 }
  const label = `${SIZE.largeFiles} files, ${SIZE.largeCommits} commits`
  const cold: Array<Sample> = []
  const coldBound: Array<number> = []
  await repeat(async () => {
    cold.push(await runPass(config, fresh(dataDir), quiet))
    coldBound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, [image])
      await shallowClone(remote, fresh(clone))
    }))
  })
  record(`large repository (${label}): clone`, "1 tag list + git clone --depth 1 --no-checkout", "at most 3x", cold, coldBound)
  const warm: Array<Sample> = []
  const warmBound: Array<number> = []
  let commit = SIZE.largeCommits
  await repeat(async () => {
    await appendLargeRepoCommit(server, "large", commit++)
    warm.push(await runPass(config, dataDir, quiet))
    await appendLargeRepoCommit(server, "large", commit++)
    warmBound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, [image])
      await fetchIn(clone)
    }))
  })
  record(`large repository (${label}): fetch of 1 new commit`, "1 tag list + git fetch", "at most 2x", warm, warmBound)
}

/** `--version` beside an empty program compiled the same way: the Bun runtime's own start-up. */
const startup = async (work: string) => {
  const source = writeFile(work, "empty.ts", "export {}\n")
  const empty = join(work, "empty")
  const built = await exec(process.execPath, ["build", source, "--compile", "--minify", "--bytecode", "--outfile", empty])
  if (built.code !== 0) throw new Error(`cannot compile the empty program: ${built.stderr}`)
  const runner: Array<Sample> = []
  const bound: Array<Sample> = []
  for (let i = 0; i < SIZE.startups; i++) {
    runner.push(await measure(BINARY, ["--version"]))
    bound.push(await measure(empty, []))
  }
  record("runner --version (start-up)", "an empty program compiled with bun build --compile", "under 40 ms", runner, bound.map((s) => s.ms))
  return { emptyRssMb: median(bound.map((s) => s.rssMb)) }
}

interface RequestCounts {
  readonly images: number
  readonly targets: number
  readonly pagesPerImage: number
  readonly passes: ReadonlyArray<{
    readonly pass: string
    readonly tagListRequestsPerImage: number
    readonly challengedPerImage: number
    readonly manifestRequests: number
    readonly tokenRequests: number
    readonly tokenScopes: number
    readonly otherRequests: number
  }>
}

/**
 * What the runner sends a registry that wants Bearer tokens and pages its tag lists: the runner
 * talks to a paging proxy, which talks to a counting proxy in front of the real registry.
 */
const requestCounts = async (server: TestGitServer, work: string): Promise<RequestCounts> => {
  const registry = await startRegistry({ tokenAuth: {} })
  const counting = await startCountingProxy(registry.url)
  const paging = await startPagingProxy({ ...registry, url: counting.url }, PAGE_SIZE)
  try {
    const images = Array.from({ length: 40 }, (_, i) => `count/img-${pad(i, 2)}`)
    await inParallel(images, PUSH_CONCURRENCY, async (r) => {
      for (const tag of TAGS) await registry.pushImage(r, tag)
    })
    const w = await watchedRepo(registry, server, work, "counted", images, {
      targetsPerImage: TARGETS_PER_IMAGE,
      files: 20,
      extraFiles: 0,
      tag: CURRENT,
      address: paging.url
    })
    const dataDir = join(work, "counted-data")
    const passes: Array<RequestCounts["passes"][number]> = []
    for (const pass of ["cold", "warm"]) {
      const [exchangesBefore, tokensBefore] = [counting.exchanges.length, registry.tokenRequests.length]
      await runPass(w.config, dataDir, { updated: 0, upToDate: w.targets })
      const exchanges = counting.exchanges.slice(exchangesBefore)
      const tokens = registry.tokenRequests.slice(tokensBefore)
      const tagLists = exchanges.filter((e) => /\/tags\/list/.test(e.path))
      passes.push({
        pass,
        tagListRequestsPerImage: tagLists.length / images.length,
        challengedPerImage: tagLists.filter((e) => e.status === 401).length / images.length,
        manifestRequests: exchanges.filter((e) => /\/manifests\//.test(e.path)).length,
        tokenRequests: tokens.length,
        tokenScopes: new Set(tokens.map((t) => new URL(t, "http://token.invalid").searchParams.get("scope"))).size,
        otherRequests: exchanges.length - tagLists.length - exchanges.filter((e) => /\/manifests\//.test(e.path)).length
      })
    }
    return { images: images.length, targets: w.targets, pagesPerImage: Math.ceil(TAGS.length / PAGE_SIZE), passes }
  } finally {
    await Promise.all([paging.stop(), counting.stop()])
    await registry.stop()
  }
}

const machine = () => {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8")
  return {
    nproc: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown"
  }
}

const table = (rows: ReadonlyArray<Figure>) => {
  const header = ["scenario", "runner", "lower bound", "ratio", "peak RSS", "goal", "lower bound is"]
  const lines = rows.map((f) => [
    f.scenario,
    `${f.runnerMs.toFixed(0)} ms`,
    `${f.boundMs.toFixed(0)} ms`,
    `${f.ratio.toFixed(2)}x`,
    `${f.rssMb.toFixed(0)} MB`,
    f.goal,
    f.bound
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)))
  const row = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`
  return [row(header), row(widths.map((w) => "-".repeat(w))), ...lines.map(row)].join("\n")
}

const main = async () => {
  requireGnuTime()
  if (BINARY === RUNNER) ensureBuilt()
  const work = mkdtempSync(join(tmpdir(), "runner-bench-"))
  const [registry, server] = await Promise.all([startRegistry(), startGitServer()])
  const started = performance.now()
  try {
    const images = Array.from({ length: SIZE.images }, (_, i) => `bench/img-${pad(i, 3)}`)
    const scaleImages = Array.from({ length: SIZE.scaleImages }, (_, i) => `scale/img-${pad(i, 4)}`)
    log(`pushing ${images.length} images x ${TAGS.length} tags and ${scaleImages.length} images x ${SCALE_TAGS.length} tags`)
    await inParallel(images, PUSH_CONCURRENCY, (r) => pushTags(registry, r, TAGS))
    await inParallel(scaleImages, PUSH_CONCURRENCY, (r) => pushTags(registry, r, SCALE_TAGS))

    const { emptyRssMb } = await startup(work)
    const layout = { targetsPerImage: TARGETS_PER_IMAGE, files: SIZE.files, extraFiles: SIZE.extraFiles, tag: CURRENT }
    const quiet = await watchedRepo(registry, server, work, "quiet", images, layout)
    log(`quiet: ${quiet.targets} targets in ${SIZE.files} files, ${SIZE.extraFiles} extra files`)
    await quietPasses(registry, quiet, work, { cold: "at most 1.5x; peak RSS under 120 MB", warm: "at most 1.5x" })
    const scale = await watchedRepo(registry, server, work, "scale", scaleImages, { ...layout, targetsPerImage: 1, tag: SCALE_TAGS[SCALE_TAGS.length - 1] as string })
    log(`scale: ${scale.targets} images, 1 target each`)
    await quietPasses(registry, scale, work, { cold: "-", warm: "-" })
    log("large repository")
    await largeRepository(registry, server, work, images[0] as string)
    log("update pass")
    await updatePass(registry, server, work, images)
    log("request counts")
    const requests = await requestCounts(server, work)
    log("token-bucket registry")
    const bucketRuns: Array<Sample & { readonly refused: number; readonly requests: number }> = []
    for (let i = 0; i < RUNS; i++) bucketRuns.push({ ...(await tokenBucketRun()), rssMb: 0, stdout: "", stderr: "", code: 0 })
    log(`token-bucket registry: ${bucketRuns.map((r) => `${r.refused} of ${r.requests}`).join(", ")} requests refused`)
    record("100 listings, registry at 10 req/s burst 10 (429 past it)", "the bucket's ideal time", "at most 1.3x; at most 5% refused", bucketRuns, bucketRuns.map(() => TOKEN_BUCKET_IDEAL_MS))

    const result = { machine: machine(), runner: BINARY, quick, runs: RUNS, emptyProgramRssMb: emptyRssMb, figures, requests }
    mkdirSync(dirname(OUT), { recursive: true })
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`)
    const m = result.machine
    console.log(`\nrunner bench${quick ? " (--quick)" : ""}: median of ${RUNS} runs; ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB\n`)
    console.log(table(figures))
    console.log(`\nan empty compiled program peaks at ${emptyRssMb.toFixed(0)} MB RSS`)
    console.log(`\nrequests per pass, ${requests.images} images (${requests.targets} targets), Bearer tokens, ${requests.pagesPerImage} tag-list pages per image:`)
    for (const p of requests.passes) {
      console.log(
        `  ${p.pass}: ${p.tagListRequestsPerImage} tag-list requests per image (${p.challengedPerImage} answered 401), ` +
          `${p.manifestRequests} manifest requests, ${p.tokenRequests} token requests for ${p.tokenScopes} scopes, ${p.otherRequests} other`
      )
    }
    console.log(`\nfigures written to ${OUT} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  } finally {
    await Promise.all([registry.stop(), server.stop()])
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
