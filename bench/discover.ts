/**
 * Discovery at scale: one repository of deployments holding `SIZE.discoverFiles` × 5 image
 * references, watched once by a single `spec.discover` rule and once by the same references
 * declared as explicit targets. Every reference is at the quiet scenario's current tag, so every
 * pass is quiet; the figures say what finding the targets costs beside reading them declared.
 */
import { join } from "node:path"
import type { TestGitServer } from "../test/support/gitServer.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { pipedConfig, watchedRepoFiles } from "./fixtures.ts"
import { elapsed, fetchIn, listTagsDirectly, median, type Sample } from "./measure.ts"
import { CURRENT, log, SIZE } from "./options.ts"
import { quietPasses, repeat, runPass, type Watched } from "./passes.ts"
import { type Figure, percent, record } from "./report.ts"

/** Containers per deployment: 1,000 manifests hold 5,000 references. */
const PER_FILE = 5
/** Explicit targets per watcher file: 500 targets are about 85 kB, far under the watcher-file size cap. */
const TARGETS_PER_WATCHER = 500

const discoverWatcher = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  discover:
    - paths: ["apps/**/*.yaml"]
      provider: registry
`

/** The deployments, the filler files, and either the explicit watcher files or the one discover rule. */
const repoFiles = (registry: TestRegistry, images: ReadonlyArray<string>, discover: boolean) => {
  const references = SIZE.discoverFiles * PER_FILE
  const all = watchedRepoFiles({
    images: images.map((r) => `${registry.host}/${r}`),
    targetsPerImage: references / images.length,
    files: SIZE.discoverFiles,
    extraFiles: SIZE.extraFiles,
    watcherFiles: Math.ceil(references / TARGETS_PER_WATCHER),
    tag: CURRENT
  })
  if (!discover) return all
  const files = Object.fromEntries(Object.entries(all).filter(([path]) => !path.startsWith(".pipe/")))
  return { ...files, ".pipe/discover.yaml": discoverWatcher }
}

const watched = async (registry: TestRegistry, server: TestGitServer, work: string, name: string, images: ReadonlyArray<string>, discover: boolean): Promise<Watched> => {
  const remote = await server.createRepo(name, repoFiles(registry, images, discover))
  const config = pipedConfig(work, name, [{ repoId: name, remote }], registry.url)
  return { name, remotes: [remote], config, repositories: images, targets: SIZE.discoverFiles * PER_FILE }
}

/** A commit by another writer changing one manifest's labels (its images stay), then a warm pass, beside a fetch of such a commit. */
const oneManifestChanged = async (registry: TestRegistry, server: TestGitServer, work: string, w: Watched, images: ReadonlyArray<string>) => {
  const dataDir = join(work, `${w.name}-data`)
  const clone = join(work, `${w.name}-clone`, "000")
  const files = repoFiles(registry, images, true)
  const path = "apps/app-0000/deployment.yaml"
  const original = files[path] ?? ""
  const runs: Array<Sample> = []
  const bound: Array<number> = []
  let change = 0
  const commit = () => {
    change++
    return server.commitAs(w.name, { [path]: original.replace("tier: backend", `tier: backend, change: "${change}"`) }, `Change ${change}`)
  }
  await repeat(async () => {
    await commit()
    runs.push(await runPass(w.config, dataDir, { updated: 0, upToDate: w.targets }))
    await commit()
    bound.push(await elapsed(async () => {
      await listTagsDirectly(registry.url, w.repositories)
      await fetchIn(clone)
    }))
  })
  return record(`${w.name}: warm pass, 1 manifest changed`, "tag lists 8 at a time + git fetch of 1 new commit", "about the warm pass's ratio", runs, bound)
}

/**
 * Warm passes of the two configurations in turn, one of each per round, so that a drift in the
 * machine's load between the two `quietPasses` series does not show as a difference between them.
 */
const warmInTurn = async (work: string, found: Watched, declared: Watched) => {
  const samples: { discovered: Array<number>; explicit: Array<number> } = { discovered: [], explicit: [] }
  await repeat(async () => {
    for (const [w, into] of [[declared, samples.explicit], [found, samples.discovered]] as const) {
      into.push((await runPass(w.config, join(work, `${w.name}-data`), { updated: 0, upToDate: w.targets })).ms)
    }
  })
  return { discovered: median(samples.discovered), explicit: median(samples.explicit) }
}

const ratio = (a: Figure, b: Figure) => `x${(a.ratio / b.ratio).toFixed(2)}`

/**
 * The cold and warm quiet passes of the discovered and the explicit configuration, each beside its
 * bound, and a warm pass of the discovered one after one manifest changed. `images` are the quiet
 * scenario's, already pushed with their tags.
 */
export const discoverPasses = async (registry: TestRegistry, server: TestGitServer, work: string, images: ReadonlyArray<string>) => {
  const references = SIZE.discoverFiles * PER_FILE
  log(`discover: ${references} references in ${SIZE.discoverFiles} manifests over ${images.length} images, ${SIZE.extraFiles} extra files`)
  const found = await watched(registry, server, work, "discover", images, true)
  const declared = await watched(registry, server, work, "discover-explicit", images, false)
  const explicit = await quietPasses(registry, declared, work, { cold: "stated", warm: "stated" })
  const discovered = await quietPasses(registry, found, work, { cold: "stated", warm: "at most the explicit warm ratio" })
  log("discover: warm passes, discovered and explicit in turn")
  const alternating = await warmInTurn(work, found, declared)
  log("discover: one manifest changed")
  const changed = await oneManifestChanged(registry, server, work, found, images)
  const watchers = Math.ceil(references / TARGETS_PER_WATCHER)
  return [
    "",
    `discovery, ${references} references in ${SIZE.discoverFiles} deployments (one rule, apps/**/*.yaml) against the same ${references} declared in ${watchers} watcher files:`,
    `  warm: discovered x${discovered.warm.ratio.toFixed(2)} (${discovered.warm.runnerMs.toFixed(0)} ms, ${discovered.warm.rssMb.toFixed(0)} MB), explicit x${explicit.warm.ratio.toFixed(2)} (${explicit.warm.runnerMs.toFixed(0)} ms, ${explicit.warm.rssMb.toFixed(0)} MB): discovered/explicit ${ratio(discovered.warm, explicit.warm)}`,
    `  cold: discovered x${discovered.cold.ratio.toFixed(2)} (${discovered.cold.runnerMs.toFixed(0)} ms, ${discovered.cold.rssMb.toFixed(0)} MB), explicit x${explicit.cold.ratio.toFixed(2)} (${explicit.cold.runnerMs.toFixed(0)} ms, ${explicit.cold.rssMb.toFixed(0)} MB): discovered/explicit ${ratio(discovered.cold, explicit.cold)}`,
    `  warm, in alternating rounds: discovered ${alternating.discovered.toFixed(0)} ms, explicit ${alternating.explicit.toFixed(0)} ms (medians): ${percent(alternating.discovered, alternating.explicit)}`,
    `  warm after 1 manifest changed: x${changed.ratio.toFixed(2)} (${changed.runnerMs.toFixed(0)} ms, ${changed.rssMb.toFixed(0)} MB), ${ratio(changed, discovered.warm)} the warm pass`
  ]
}
