import type { FileSystem } from "@effect/platform"
import { Effect, Option, Ref } from "effect"
import type { FailWith, GitError } from "./GitError.ts"
import type { RepoSpec } from "./repoTypes.ts"
import { chooseBase, type Containment } from "./pushBranch.ts"
import { kindOfGitOutput, gitOutputLines } from "./gitOutput.ts"
import { type networkBound, REMOTE } from "./remote.ts"


type Operation = GitError["operation"]

/** What a sync needs of a system-git checkout. */
export interface SyncGit {
  readonly spec: RepoSpec
  readonly dir: string
  /** The remote as it may be printed. */
  readonly remote: string
  readonly fail: FailWith
  /** Runs git and returns its output whatever the exit code. */
  readonly exec: (
    operation: Operation,
    args: ReadonlyArray<string>
  ) => Effect.Effect<{ readonly stdout: string; readonly stderr: string; readonly exitCode: number }, GitError>
}

/** The commit a ref points at, as git reads it; None if there is no such ref. */
const resolveRef = (git: SyncGit, operation: Operation, ref: string) =>
  git.exec(operation, [`--git-dir=${git.dir}`, "rev-parse", "--verify", "--quiet", ref]).pipe(
    Effect.map((out) => out.exitCode === 0 && out.stdout.trim() !== "" ? Option.some(out.stdout.trim()) : Option.none())
  )

/** Runs git in the clone and fails on a non-zero exit with git's own message. */
const gitIn = (git: SyncGit, operation: Operation, args: ReadonlyArray<string>) =>
  git.exec(operation, [`--git-dir=${git.dir}`, ...args]).pipe(
    Effect.flatMap((out) =>
      out.exitCode === 0 ? Effect.succeed(out.stdout) : Effect.fail(git.fail(operation, kindOfGitOutput(out.stderr), `git ${args[0] ?? ""} failed in ${git.dir}: ${gitOutputLines(out.stderr)}`))
    )
  )

/**
 * Whether `push` is contained in `branch`. git answers "no" on a shallow history too, so the
 * answer counts only when no commit reachable from `branch` and not from `push` is at the
 * shallow boundary: one there may have `push` among its ancestors.
 */
const containmentOf = (git: SyncGit, files: FileSystem.FileSystem, push: string, branch: string) =>
  Effect.gen(function*() {
    const ancestor = yield* git.exec("fetch", [`--git-dir=${git.dir}`, "merge-base", "--is-ancestor", push, branch])
    if (ancestor.exitCode === 0) return "contained" satisfies Containment
    if (ancestor.exitCode !== 1) return yield* git.fail("fetch", kindOfGitOutput(ancestor.stderr), `git merge-base failed in ${git.dir}: ${gitOutputLines(ancestor.stderr)}`)
    const shallow = yield* files.readFileString(`${git.dir}/shallow`).pipe(Effect.orElseSucceed(() => ""))
    const boundary = new Set(shallow.split("\n").filter((line) => line !== ""))
    if (boundary.size === 0) return "apart" satisfies Containment
    const between = yield* gitIn(git, "fetch", ["rev-list", branch, `^${push}`])
    return between.split("\n").some((oid) => boundary.has(oid)) ? "unknown" : "apart"
  })

/**
 * Fetches the branch, and the push branch if there is one, resetting head to the base the
 * checkout works from (`chooseBase`). The branch goes straight into its local ref: a forced update
 * drops local commits that were never pushed. The push branch's remote tip is kept apart, in its
 * remote-tracking ref, and its local ref, which commits are written on, is set to the base.
 */
export const syncOf = (git: SyncGit, files: FileSystem.FileSystem, head: Ref.Ref<string>, overNetwork: ReturnType<typeof networkBound>) =>
  Effect.gen(function*() {
    const { dir, fail, remote, spec } = git
    const branchRef = `refs/heads/${spec.branch}`
    const pushBranch = spec.pushBranch
    const trackingRef = `refs/remotes/${REMOTE}/${pushBranch}`
    // Only the first fetch is shallow (it leaves a `shallow` file); later ones send our shallow
    // boundary and get just what is new. Deepening down to the root removes the file, and a
    // clone without it must not be made shallow again: the branch's ref tells it was fetched.
    const fetched = (yield* files.exists(`${dir}/shallow`).pipe(Effect.orElseSucceed(() => false))) ||
      Option.isSome(yield* resolveRef(git, "fetch", branchRef))
    const operation: Operation = fetched ? "fetch" : "clone"
    /** One fetch of the branch (and the push branch): false when the push branch does not exist remotely. */
    const fetch = (options: ReadonlyArray<string>, withPushBranch: boolean) =>
      Effect.gen(function*() {
        const out = yield* overNetwork(
          operation,
          git.exec(operation, [
            `--git-dir=${dir}`,
            // Housekeeping that the fetch may start ends before the fetch does, so it never races our reads.
            "-c",
            "gc.autoDetach=false",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            ...options,
            REMOTE,
            `+${branchRef}:${branchRef}`,
            ...(withPushBranch ? [`+refs/heads/${pushBranch}:${trackingRef}`] : [])
          ])
        )
        const missing = out.stderr.split("\n").flatMap((line) => /couldn't find remote ref (\S+)\s*$/.exec(line)?.[1] ?? [])
        if (withPushBranch && missing.length > 0 && missing.every((ref) => ref === `refs/heads/${pushBranch}`)) return false
        if (missing.length > 0) return yield* fail(operation, "notFound", `branch "${spec.branch}" not found at ${remote}`)
        if (out.exitCode !== 0) return yield* fail(operation, kindOfGitOutput(out.stderr), `git fetch failed for ${remote}: ${gitOutputLines(out.stderr)}`)
        return true
      })
    /** The branch alone, when the push branch is gone: its remote-tracking ref goes with it. */
    const fetchWithout = (options: ReadonlyArray<string>) =>
      fetch(options, false).pipe(Effect.zipRight(gitIn(git, operation, ["update-ref", "-d", trackingRef])))
    const fetchAll = (options: ReadonlyArray<string>) =>
      Effect.flatMap(fetch(options, pushBranch !== undefined), (found) => (found ? Effect.void : fetchWithout(options)))

    yield* fetchAll(fetched ? [] : ["--depth=1"])
    const branchTip = Effect.flatMap(resolveRef(git, operation, branchRef), (tip) =>
      Option.isNone(tip) ? Effect.fail(fail(operation, "notFound", `branch "${spec.branch}" not found at ${remote}`)) : Effect.succeed(tip.value))
    if (pushBranch === undefined) {
      const tip = yield* branchTip
      yield* Ref.set(head, tip)
      return tip
    }
    const base = yield* chooseBase({
      spec,
      pushBranch,
      tips: Effect.all({ branch: branchTip, push: resolveRef(git, operation, trackingRef) }),
      containment: (push, branch) => containmentOf(git, files, push, branch),
      deepen: (commits) => fetchAll([`--deepen=${commits}`])
    })
    yield* gitIn(git, operation, ["update-ref", `refs/heads/${pushBranch}`, base])
    yield* Ref.set(head, base)
    return base
  }).pipe(Effect.withSpan("GitRepo.sync", { attributes: { repoId: git.spec.repoId } }))
