import type { FileSystem } from "@effect/platform"
import { Clock, Effect, Either, Option } from "effect"
import type { FailWith, GitError } from "./GitError.ts"
import type { Author, CommitInput, MergeResult, OtherBranches, RepoSpec } from "./repoTypes.ts"
import { stageBatch } from "./commitBatch.ts"
import { kindOfGitOutput, gitOutputLines } from "./gitOutput.ts"
import { inputProblem, isOid, mergeBaseWithin, noMergeBaseDetail } from "./otherBranches.ts"
import { fastImportScript, parseLsTree } from "./plumbing.ts"
import { type networkBound, REMOTE } from "./remote.ts"
import { writeSignedCommits } from "./signedCommits.ts"
import { commitText, signedCommit } from "./signing.ts"
import { pushRefspec } from "./systemPush.ts"
import { messageOf } from "../domain/foreignText.ts"

type Operation = GitError["operation"]

/** What other branches need of a system-git checkout. */
export interface BranchGit {
  readonly spec: RepoSpec
  readonly dir: string
  /** The remote as it may be printed. */
  readonly remote: string
  readonly secrets: ReadonlyArray<string>
  readonly fail: FailWith
  /** Runs git and returns its output whatever the exit code. */
  readonly exec: (
    operation: Operation,
    args: ReadonlyArray<string>,
    options?: { readonly stdin?: string }
  ) => Effect.Effect<{ readonly stdout: string; readonly stderr: string; readonly exitCode: number }, GitError>
  /** Runs git in the clone and fails on a non-zero exit with git's own message. */
  readonly gitIn: (operation: Operation, args: ReadonlyArray<string>, options?: { readonly stdin?: string }) => Effect.Effect<string, GitError>
}

/** Where commitOnto's fast-import writes, for as long as it runs: never a branch of the checkout. */
const SCRATCH_REF = "refs/runner/onto"

const trackingRef = (name: string) => `refs/remotes/${REMOTE}/${name}`

const encoder = new TextEncoder()

/** Fails unless every name is a branch name and every oid a full commit id. */
const checked = (git: BranchGit, operation: Operation, names: ReadonlyArray<string>, oids: ReadonlyArray<string>) => {
  const problem = inputProblem(names, oids)
  return problem === undefined ? Effect.void : git.fail(operation, "config", problem)
}

const isShallow = (git: BranchGit, files: FileSystem.FileSystem) => files.exists(`${git.dir}/shallow`).pipe(Effect.orElseSucceed(() => false))

const hasCommit = (git: BranchGit, operation: Operation, oid: string) =>
  Effect.map(git.exec(operation, [`--git-dir=${git.dir}`, "cat-file", "-e", `${oid}^{commit}`]), (out) => out.exitCode === 0)

/**
 * The tip the remote has now (`ls-remote`), then its commit unless the clone has it already: the
 * tip alone in a shallow clone, since a request branch started below the clone's history would
 * otherwise bring all of it; `merge` deepens as far as it needs.
 */
const fetchOf = (git: BranchGit, files: FileSystem.FileSystem, overNetwork: ReturnType<typeof networkBound>, fetched: Set<string>) =>
  Effect.fn("GitRepo.branches.fetch")(function*(name: string) {
    yield* checked(git, "fetch", [name], [])
    const listed = yield* overNetwork("fetch", git.gitIn("fetch", ["ls-remote", REMOTE, `refs/heads/${name}`]))
    const tip = listed.split("\n").flatMap((line) => {
      const [oid, ref] = line.split("\t")
      return ref === `refs/heads/${name}` && oid !== undefined ? [oid] : []
    })[0]
    if (tip === undefined) {
      fetched.delete(name)
      yield* git.gitIn("fetch", ["update-ref", "-d", trackingRef(name)])
      return Option.none()
    }
    fetched.add(name)
    if (yield* hasCommit(git, "fetch", tip)) {
      yield* git.gitIn("fetch", ["update-ref", trackingRef(name), tip])
      return Option.some(tip)
    }
    const depth = (yield* isShallow(git, files)) ? ["--depth=1"] : []
    yield* overNetwork("fetch", git.gitIn("fetch", ["-c", "gc.autoDetach=false", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", ...depth, REMOTE, `+refs/heads/${name}:${trackingRef(name)}`]))
    return Option.some((yield* git.gitIn("fetch", ["rev-parse", "--verify", trackingRef(name)])).trim())
  })

/** The batch from `parent` on the scratch ref, signed as commitAll signs; the scratch ref is gone after. */
const commitOntoOf = (git: BranchGit, files: FileSystem.FileSystem): OtherBranches["commitOnto"] =>
  Effect.fn("GitRepo.branches.commitOnto")(function*(parent: string, inputs: ReadonlyArray<CommitInput>) {
    yield* checked(git, "commit", [], [parent])
    const staged = stageBatch(inputs)
    if (Either.isLeft(staged)) return yield* git.fail("commit", "config", `invalid file path "${staged.left}"`)
    const batch = staged.right
    if (batch.length === 0) return []
    if (!(yield* hasCommit(git, "commit", parent))) return yield* git.fail("commit", "config", `commit ${parent} is not in the clone`)
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const paths = [...new Set(batch.flatMap(({ changes }) => changes.map((c) => c.path)))]
    const listed = parseLsTree(yield* git.gitIn("commit", ["ls-tree", "-z", parent, "--", ...paths]))
    const modes = new Map(listed.filter((entry) => entry.type === "blob").map((entry) => [entry.path, entry.mode]))
    const writer = { dir: git.dir, branchRef: SCRATCH_REF, fail: git.fail, gitIn: git.gitIn }
    const signer = git.spec.signer
    const oids = signer !== undefined
      ? yield* writeSignedCommits(writer, files, signer, { parent, seconds, batch, modes })
      : (yield* git.gitIn("commit", ["fast-import", "--quiet", "--done"], {
        stdin: fastImportScript({ branchRef: SCRATCH_REF, parent, seconds, batch, modes })
      })).split("\n").filter((line) => isOid(line))
    yield* git.gitIn("commit", ["update-ref", "-d", SCRATCH_REF])
    if (oids.length !== batch.length) return yield* git.fail("commit", "corrupt", `git fast-import returned ${oids.length} commits for ${batch.length}`)
    return oids
  })

/** `git merge-tree --write-tree` (git 2.38 or newer): the merged tree, or the paths that conflict. */
const mergeTree = (git: BranchGit, ours: string, theirs: string) =>
  Effect.gen(function*() {
    const out = yield* git.exec("commit", [`--git-dir=${git.dir}`, "merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs])
    const [tree = "", ...paths] = out.stdout.split("\n").filter((line) => line !== "")
    if (out.exitCode === 0 && isOid(tree)) return Either.right(tree)
    if (out.exitCode === 1 && isOid(tree)) return Either.left([...new Set(paths)])
    if (/usage: git merge-tree|unknown option/.test(out.stderr)) {
      return yield* git.fail("commit", "config", "merging a request branch needs git 2.38 or newer (git merge-tree --write-tree)")
    }
    return yield* git.fail("commit", kindOfGitOutput(out.stderr), `git merge-tree failed in ${git.dir}: ${gitOutputLines(out.stderr)}`)
  })

const mergeOf = (
  git: BranchGit,
  files: FileSystem.FileSystem,
  overNetwork: ReturnType<typeof networkBound>,
  fetched: ReadonlySet<string>
): OtherBranches["merge"] =>
  Effect.fn("GitRepo.branches.merge")(function*(ours: string, theirs: string, message: string, author: Author) {
    yield* checked(git, "commit", [], [ours, theirs])
    const base = yield* mergeBaseWithin({
      find: Effect.flatMap(git.exec("commit", [`--git-dir=${git.dir}`, "merge-base", ours, theirs]), (out) =>
        out.exitCode === 0 ? Effect.succeed(Option.some(out.stdout.trim()))
        : out.exitCode === 1 ? Effect.succeed(Option.none())
        : Effect.fail(git.fail("commit", kindOfGitOutput(out.stderr), `git merge-base failed in ${git.dir}: ${gitOutputLines(out.stderr)}`))),
      shallow: isShallow(git, files),
      // Deepening goes down from the tips fetched: the watched branch's and the request branches'.
      deepen: (commits) =>
        overNetwork("fetch", git.gitIn("fetch", [
          "-c", "gc.autoDetach=false", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", `--deepen=${commits}`, REMOTE,
          ...[git.spec.branch, ...fetched].map((name) => `+refs/heads/${name}:${trackingRef(name)}`)
        ])),
      none: (deepened) => git.fail("commit", "notFound", noMergeBaseDetail(ours, theirs, deepened))
    })
    if (base === theirs) return { _tag: "UpToDate" } satisfies MergeResult
    const tree = yield* mergeTree(git, ours, theirs)
    if (Either.isLeft(tree)) return { _tag: "Conflict", paths: tree.left } satisfies MergeResult
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const fields = { tree: tree.right, parents: [ours, theirs], author, seconds, message }
    const signer = git.spec.signer
    const bytes = signer === undefined
      ? encoder.encode(commitText(fields))
      : (yield* Effect.tryPromise({
        try: () => signedCommit(signer, fields),
        catch: (error) => git.fail("commit", "other", `cannot sign a commit: ${messageOf(error)}`)
      })).bytes
    const oid = (yield* git.gitIn("commit", ["hash-object", "-t", "commit", "-w", "--stdin"], { stdin: new TextDecoder().decode(bytes) })).trim()
    return { _tag: "Merged", oid } satisfies MergeResult
  })

/** Branches beside the watched one, on a system-git checkout. */
export const systemBranches = (git: BranchGit, files: FileSystem.FileSystem, overNetwork: ReturnType<typeof networkBound>): OtherBranches => {
  /** The request branches fetched so far: a merge deepens their history with the watched branch's. */
  const fetched = new Set<string>()
  return {
    fetch: fetchOf(git, files, overNetwork, fetched),
    commitOnto: commitOntoOf(git, files),
    merge: mergeOf(git, files, overNetwork, fetched),
    push: Effect.fn("GitRepo.branches.push")(function*(name: string, oid: string) {
      yield* checked(git, "push", [name], [oid])
      const result = yield* pushRefspec(git, overNetwork, oid, `refs/heads/${name}`)
      if (result._tag === "Pushed") {
        fetched.add(name)
        yield* git.gitIn("push", ["update-ref", trackingRef(name), oid])
      }
      return result
    }),
    authorOf: Effect.fn("GitRepo.branches.authorOf")(function*(oid: string) {
      yield* checked(git, "read", [], [oid])
      const out = yield* git.gitIn("read", ["log", "-1", "--format=%an%x00%ae", oid])
      const [name = "", email = ""] = out.replace(/\n$/, "").split("\u0000")
      return { name, email }
    })
  }
}
