/** One runner pass under GNU time, and the quiet passes (cold, warm) of a watched configuration beside their lower bounds. */
import { rmSync } from "node:fs"
import { join } from "node:path"
import type { TestGitServer } from "../test/support/gitServer.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { inParallel, pad, pipedConfig, watchedRepoFiles } from "./fixtures.ts"
import { elapsed, fetchIn, listTagsDirectly, measure, type Sample, shallowClone } from "./measure.ts"
import { BINARY, RUNS } from "./options.ts"
import { type Figure, record } from "./report.ts"

const SUMMARY = /(\d+) targets: (\d+) updated, (\d+) would update, (\d+) up to date, (\d+) failed/

/** One `runner --once` pass under GNU time; the pass must end as `expect` says, or the figure would be about something else. */
export const runPass = async (config: string, dataDir: string, expect: { readonly updated: number; readonly upToDate: number }) => {
  const sample = await measure(BINARY, ["--once", "--config", config, "--data-dir", dataDir])
  const summary = SUMMARY.exec(sample.stdout)
  if (summary === null || Number(summary[2]) !== expect.updated || Number(summary[4]) !== expect.upToDate) {
    throw new Error(`unexpected pass (wanted ${expect.updated} updated, ${expect.upToDate} up to date): ${sample.stdout.split("\n").slice(-3).join(" / ")}\n${sample.stderr.slice(-3000)}`)
  }
  return sample
}

export const fresh = (dir: string) => {
  rmSync(dir, { recursive: true, force: true })
  return dir
}

export const repeat = async (work: (round: number) => Promise<void>) => {
  for (let round = 0; round < RUNS; round++) await work(round)
}

/** A Piped config and what it watches: one repository or several, `targets` targets over `repositories` images in all. */
export interface Watched {
  readonly name: string
  readonly remotes: ReadonlyArray<string>
  readonly config: string
  readonly repositories: ReadonlyArray<string>
  readonly targets: number
}

/** The bound's git side takes repositories as many at a time as the runner does (its REPO_CONCURRENCY). */
export const GIT_CONCURRENCY = 4

const gitBound = (w: Watched) =>
  w.remotes.length === 1 ? "" : ` of ${w.remotes.length} repositories, ${GIT_CONCURRENCY} at a time`

/**
 * Quiet passes, cold (empty data dir) and warm (the working copies the cold pass left), each beside
 * its lower bound. Rounds interleave all four, so drift in a shared machine's load hits them alike.
 */
export const quietPasses = async (
  registry: TestRegistry,
  w: Watched,
  work: string,
  goal: { readonly cold: string; readonly warm: string }
): Promise<{ readonly cold: Figure; readonly warm: Figure }> => {
  const dataDir = join(work, `${w.name}-data`)
  const clones = join(work, `${w.name}-clone`)
  const remotes = w.remotes.map((remote, i) => ({ remote, dir: join(clones, pad(i, 3)) }))
  const quiet = { updated: 0, upToDate: w.targets }
  const [cold, warm]: [Array<Sample>, Array<Sample>] = [[], []]
  const [coldBound, warmBound]: [Array<number>, Array<number>] = [[], []]
  await repeat(async () => {
    cold.push(await runPass(w.config, fresh(dataDir), quiet))
    fresh(clones)
    coldBound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, w.repositories)
      await inParallel(remotes, GIT_CONCURRENCY, (r) => shallowClone(r.remote, r.dir))
    }))
    warm.push(await runPass(w.config, dataDir, quiet))
    warmBound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, w.repositories)
      await inParallel(remotes, GIT_CONCURRENCY, (r) => fetchIn(r.dir))
    }))
  })
  return {
    cold: record(`${w.name}: quiet pass, cold`, `tag lists 8 at a time + git clone --depth 1 --no-checkout${gitBound(w)}`, goal.cold, cold, coldBound),
    warm: record(`${w.name}: quiet pass, warm`, `tag lists 8 at a time + git fetch${gitBound(w)}`, goal.warm, warm, warmBound)
  }
}

export interface RepoLayout {
  readonly targetsPerImage: number
  readonly files: number
  readonly extraFiles: number
  readonly tag: string
  readonly address?: string
  /** More `spec.git` lines of the config. */
  readonly git?: ReadonlyArray<string>
}

/** A configuration repository `name` on the git server watching `repositories` of `registry`. */
export const createWatchedRepo = (registry: TestRegistry, server: TestGitServer, name: string, repositories: ReadonlyArray<string>, layout: RepoLayout) =>
  server.createRepo(
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

/** A config watching one configuration repository that watches `repositories` of `registry`, `layout.targetsPerImage` targets each. */
export const watchedRepo = async (
  registry: TestRegistry,
  server: TestGitServer,
  work: string,
  name: string,
  repositories: ReadonlyArray<string>,
  layout: RepoLayout
): Promise<Watched> => {
  const remote = await createWatchedRepo(registry, server, name, repositories, layout)
  const config = pipedConfig(work, name, [{ repoId: name, remote }], layout.address ?? registry.url, layout.git)
  return { name, remotes: [remote], config, repositories, targets: repositories.length * layout.targetsPerImage }
}
