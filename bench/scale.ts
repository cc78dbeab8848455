/**
 * Scale: one Piped config watching many configuration repositories (20, each with 250 images of 4
 * targets: 5,000 images and 20,000 targets), quiet passes cold and warm beside their lower bounds,
 * at five sizes whose differences give the per-image and per-target slopes. Also the older scale
 * figure, 2,000 images of 1 target in one repository, on the same images.
 */
import type { TestGitServer } from "../test/support/gitServer.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { type ConfigRepo, inParallel, pad, pipedConfig, pushRetagged, splitAcross } from "./fixtures.ts"
import { elapsed } from "./measure.ts"
import { log, MANY, SCALE_CURRENT, SCALE_TAGS, SIZE } from "./options.ts"
import { createWatchedRepo, GIT_CONCURRENCY, quietPasses, type Watched, watchedRepo } from "./passes.ts"
import { type Growth, growths, type ScalePoint, type ScalePoints, type Slope, slopeLines, slopes, type Verdict, verdicts } from "./slopes.ts"

/** Deployments hold 10 targets each, so files grow with targets; the unrelated files stay at 50 per repository. */
const TARGETS_PER_FILE = 10
const EXTRA_FILES = 50

interface Size {
  readonly key: "quarter" | "half" | "one" | "two" | "full"
  readonly images: number
  readonly targetsPerImage: number
}

const SIZES: ReadonlyArray<Size> = [
  { key: "quarter", images: Math.floor(MANY.images / 4), targetsPerImage: MANY.targetsPerImage },
  { key: "half", images: Math.floor(MANY.images / 2), targetsPerImage: MANY.targetsPerImage },
  { key: "one", images: MANY.images, targetsPerImage: 1 },
  { key: "two", images: MANY.images, targetsPerImage: 2 },
  { key: "full", images: MANY.images, targetsPerImage: MANY.targetsPerImage }
]

const n = (value: number) => value.toLocaleString("en-US")

/** A config watching `MANY.repos` repositories that share `images` out, `size.targetsPerImage` targets each. */
const manyRepos = async (registry: TestRegistry, server: TestGitServer, work: string, images: ReadonlyArray<string>, size: Size): Promise<Watched> => {
  const name = `scale, ${MANY.repos} repositories: ${n(size.images)} images x ${size.targetsPerImage} target${size.targetsPerImage === 1 ? "" : "s"} (${n(size.images * size.targetsPerImage)} targets)`
  const slices = splitAcross(images.slice(0, size.images), MANY.repos).map((slice, i) => ({ slice, repoId: `many-${size.key}-${pad(i, 2)}` }))
  const repos: Array<ConfigRepo> = []
  await inParallel(slices, GIT_CONCURRENCY, async ({ repoId, slice }) => {
    const files = Math.max(1, Math.ceil((slice.length * size.targetsPerImage) / TARGETS_PER_FILE))
    const remote = await createWatchedRepo(registry, server, repoId, slice, { targetsPerImage: size.targetsPerImage, files, extraFiles: EXTRA_FILES, tag: SCALE_CURRENT })
    repos.push({ repoId, remote })
  })
  repos.sort((a, b) => a.repoId.localeCompare(b.repoId))
  const config = pipedConfig(work, `many-${size.key}`, repos, registry.url)
  return { name, remotes: repos.map((r) => r.remote), config, repositories: images.slice(0, size.images), targets: size.images * size.targetsPerImage }
}

export interface ScaleResult {
  readonly repos: number
  readonly setupMs: { readonly push: number; readonly repositories: number }
  readonly slopes: ReadonlyArray<Slope>
  readonly growth: ReadonlyArray<Growth>
  readonly verdicts: ReadonlyArray<Verdict>
}

/** The scale scenarios; what they print below the table. */
export const scale = async (registry: TestRegistry, server: TestGitServer, work: string): Promise<{ readonly result: ScaleResult; readonly lines: ReadonlyArray<string> }> => {
  const images = Array.from({ length: Math.max(MANY.images, SIZE.scaleImages) }, (_, i) => `scale/img-${pad(i, 4)}`)
  log(`scale: pushing ${n(images.length)} images x ${SCALE_TAGS.length} tags`)
  const push = await elapsed(() => pushRetagged(registry, images, SCALE_TAGS))
  const watched = new Map<Size["key"], Watched>()
  const repositories = await elapsed(async () => {
    for (const size of SIZES) watched.set(size.key, await manyRepos(registry, server, work, images, size))
  })
  log(`scale: set-up ${(push / 1000).toFixed(1)} s pushing, ${(repositories / 1000).toFixed(1)} s creating ${SIZES.length * MANY.repos} repositories`)

  const layout = { targetsPerImage: 1, files: SIZE.files, extraFiles: SIZE.extraFiles, tag: SCALE_CURRENT }
  const one = await watchedRepo(registry, server, work, "scale", images.slice(0, SIZE.scaleImages), layout)
  log(`scale: ${one.targets} images, 1 target each, 1 repository`)
  await quietPasses(registry, one, work, { cold: "-", warm: "-" })

  const points = new Map<Size["key"], ScalePoint>()
  for (const size of SIZES) {
    const w = watched.get(size.key)
    if (w === undefined) continue
    log(w.name)
    const goal = size.key === "full" ? "cost grows no faster than the work (slopes below)" : "-"
    const figures = await quietPasses(registry, w, work, { cold: goal, warm: goal })
    points.set(size.key, { images: size.images, targetsPerImage: size.targetsPerImage, ...figures })
  }
  const point = (key: Size["key"]) => {
    const p = points.get(key)
    if (p === undefined) throw new Error(`no figures for the ${key} size`)
    return p
  }
  const byKey: ScalePoints = { quarter: point("quarter"), half: point("half"), one: point("one"), two: point("two"), full: point("full") }
  const [all, grown] = [slopes(byKey), growths(byKey)]
  const result = { repos: MANY.repos, setupMs: { push: Math.round(push), repositories: Math.round(repositories) }, slopes: all, growth: grown, verdicts: verdicts(all) }
  const setup = `scale set-up: ${(push / 1000).toFixed(1)} s to push ${n(images.length)} images x ${SCALE_TAGS.length} tags, ${(repositories / 1000).toFixed(1)} s to create ${SIZES.length * MANY.repos} repositories`
  return { result, lines: [...slopeLines(all, grown, MANY.repos), "", setup] }
}

