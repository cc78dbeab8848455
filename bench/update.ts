/** The update pass: targets change, the runner commits and pushes, beside system git pushing the same commits. */
import { cpSync } from "node:fs"
import { join } from "node:path"
import { git, type TestGitServer } from "../test/support/gitServer.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { exec } from "../test/support/runner.ts"
import { inParallel, PUSH_CONCURRENCY, retag } from "./fixtures.ts"
import { elapsed, fetchIn, listTagsDirectly, type Sample } from "./measure.ts"
import { CURRENT, NEW_TAG, SIZE, TARGETS_PER_IMAGE } from "./options.ts"
import { fresh, repeat, runPass, watchedRepo } from "./passes.ts"
import { record } from "./report.ts"

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
export const updatePass = async (registry: TestRegistry, server: TestGitServer, work: string, images: ReadonlyArray<string>) => {
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
  const remote = w.remotes[0] as string
  const runner: Array<Sample> = []
  const bound: Array<number> = []
  await repeat(async (round) => {
    await resetRemote()
    cpSync(snapshot, fresh(dataDir), { recursive: true })
    runner.push(await runPass(w.config, dataDir, expected))
    if (round === 0) {
      // The runner's commits, kept by system git so that the bound pushes the same objects.
      await git(["clone", "--quiet", "--single-branch", "--branch", "main", remote, clone])
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
