/** A repository of many files and commits: the runner's clone and fetch beside system git's. */
import { join } from "node:path"
import type { TestGitServer } from "../test/support/gitServer.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { appendLargeRepoCommit, createLargeRepo, pipedConfig, watchedRepoFiles } from "./fixtures.ts"
import { elapsed, fetchIn, listTagsDirectly, type Sample, shallowClone } from "./measure.ts"
import { CURRENT, SIZE } from "./options.ts"
import { fresh, repeat, runPass } from "./passes.ts"
import { record } from "./report.ts"

export const largeRepository = async (registry: TestRegistry, server: TestGitServer, work: string, image: string) => {
  const remote = await createLargeRepo(server, "large", {
    files: SIZE.largeFiles,
    commits: SIZE.largeCommits,
    watched: watchedRepoFiles({ images: [`${registry.host}/${image}`], targetsPerImage: 1, files: 1, extraFiles: 0, watcherFiles: 1, tag: CURRENT })
  })
  const config = pipedConfig(work, "large", [{ repoId: "large", remote }], registry.url)
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
