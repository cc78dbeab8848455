/** system git's failures as they reach a report: git's meaningful lines, one line, no escaped line breaks. */
import { describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { chmodSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { GitRepo } from "../../src/git/GitRepo.ts"
import * as SystemGit from "../../src/git/SystemGit.ts"
import { AUTHOR, commitOne, specOf } from "../support/gitContract.ts"
import { tempDir } from "../support/tempDirs.ts"

const withRepo = <A, E>(effect: Effect.Effect<A, E, GitRepo>) =>
  Effect.runPromise(effect.pipe(Effect.provide(SystemGit.layer), Effect.provide(NodeContext.layer)))

const git = (args: ReadonlyArray<string>, cwd: string) => {
  const run = spawnSync("git", [...args], { cwd, encoding: "utf8" })
  if (run.status !== 0) throw new Error(run.stderr)
}

/** A bare repository with one commit on main whose pre-receive hook refuses every push with a message. */
const refusingRemote = (dir: string): string => {
  const remote = join(dir, "refusing.git")
  const seed = join(dir, "seed")
  git(["init", "-q", "--bare", "-b", "main", remote], dir)
  git(["init", "-q", "-b", "main", seed], dir)
  writeFileSync(join(seed, "README.md"), "hello\n")
  git(["add", "README.md"], seed)
  git(["-c", "user.name=a", "-c", "user.email=a@example.com", "commit", "-qm", "seed"], seed)
  git(["push", "-q", remote, "main"], seed)
  const hook = join(remote, "hooks", "pre-receive")
  writeFileSync(hook, "#!/bin/sh\necho 'protected: pushes to main need a review' >&2\nexit 1\n")
  chmodSync(hook, 0o755)
  return remote
}

const oneLineOfGit = (message: string) => {
  expect(message).not.toMatch(/[\r\n]|\\[rn]/)
  expect(message).not.toContain("Please make sure")
  expect(message).not.toContain("fatal:")
}

describe("system git's failures, cut to their meaningful lines", () => {
  test("a clone of a remote that does not exist", async () => {
    const dir = tempDir("git-output-")
    const error = await withRepo(Effect.flatMap(GitRepo, (repo) => Effect.flip(repo.open(specOf(`file://${dir}/none.git`), join(dir, "clone")))))
    oneLineOfGit(error.message)
    expect(error.message).toContain(`failed for file://${dir}/none.git: '${dir}/none.git' does not appear to be a git repository`)
  })

  test("a push a hook refuses says the hook's words and the ref's", async () => {
    const dir = tempDir("git-output-")
    const remote = refusingRemote(dir)
    const error = await withRepo(
      Effect.flatMap(GitRepo, (repo) => repo.open(specOf(`file://${remote}`), join(dir, "clone"))).pipe(
        Effect.tap((checkout) => commitOne(checkout, { files: [{ path: "README.md", content: "changed\n" }], message: "x", author: AUTHOR })),
        Effect.flatMap((checkout) => Effect.flip(checkout.push))
      )
    )
    oneLineOfGit(error.message)
    expect(error.message).toContain("refs/heads/main [remote rejected] (pre-receive hook declined); remote: protected: pushes to main need a review")
    expect(error.message).not.toContain("failed to push some refs")
  })
})
