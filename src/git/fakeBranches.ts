import { Clock, Effect, Either, Option } from "effect"
import { type Commit, makeCommit, mergeTrees, withFile } from "./fakeObjects.ts"
import type { FailWith, GitError } from "./GitError.ts"
import type { Author, CommitInput, MergeResult, OtherBranches, PushResult } from "./repoTypes.ts"
import { stageBatch } from "./commitBatch.ts"
import { isBranchName, isOid } from "./otherBranches.ts"

type Operation = GitError["operation"]

/** What the fake's other branches need of its remotes (`FakeGit.Remotes`). */
export interface FakeRemote {
  branch(url: string, branch: string): ReadonlyArray<Commit> | undefined
  commit(oid: string): Commit | undefined
  push(url: string, branch: string, history: ReadonlyArray<Commit>): Either.Either<boolean, string>
}

/**
 * Branches beside the watched one on a fake checkout of `url`. Nothing is shallow: a merge base is
 * found at once. Commits written here and not pushed live in the checkout alone, as in a clone.
 */
export const fakeBranches = (remotes: FakeRemote, url: string, fail: FailWith): OtherBranches => {
  const local = new Map<string, Commit>()
  const lookup = (oid: string) => local.get(oid) ?? remotes.commit(oid)

  const checked = (operation: Operation, names: ReadonlyArray<string>, oids: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const name = names.find((n) => !isBranchName(n))
      if (name !== undefined) return yield* fail(operation, "config", `invalid branch name ${JSON.stringify(name)}`)
      const oid = oids.find((o) => !isOid(o) || lookup(o) === undefined)
      if (oid !== undefined) return yield* fail(operation, "config", `commit ${JSON.stringify(oid)} is not in the clone`)
    })

  /** Every ancestor of `oid` (itself included), nearest first. */
  const ancestors = (oid: string): ReadonlyArray<string> => {
    const seen: Array<string> = []
    const queue = [oid]
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (seen.includes(next)) continue
      seen.push(next)
      queue.push(...(lookup(next)?.parents ?? []))
    }
    return seen
  }

  /** The commits of `oid` along first parents, oldest first: the history a push sends. */
  const firstParents = (oid: string): ReadonlyArray<Commit> => {
    const history: Array<Commit> = []
    for (let commit = lookup(oid); commit !== undefined; commit = commit.parents[0] === undefined ? undefined : lookup(commit.parents[0])) history.unshift(commit)
    return history
  }

  const merge = Effect.fn("FakeGit.branches.merge")(function*(ours: string, theirs: string, message: string, author: Author) {
    yield* checked("commit", [], [ours, theirs])
    const theirAncestors = new Set(ancestors(theirs))
    const base = ancestors(ours).find((oid) => theirAncestors.has(oid))
    if (base === undefined) return yield* fail("commit", "notFound", `${ours} and ${theirs} have no common history`)
    if (base === theirs) return { _tag: "UpToDate" } satisfies MergeResult
    const tree = (oid: string) => lookup(oid)?.tree ?? new Map<string, string>()
    const merged = mergeTrees(tree(base), tree(ours), tree(theirs))
    if (merged.conflicts.length > 0) return { _tag: "Conflict", paths: merged.conflicts } satisfies MergeResult
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const links = new Set([...lookup(ours)?.links ?? [], ...lookup(theirs)?.links ?? []])
    const commit = makeCommit({ parents: [ours, theirs], tree: merged.tree, links, message, author, seconds })
    local.set(commit.oid, commit)
    return { _tag: "Merged", oid: commit.oid } satisfies MergeResult
  })

  return {
    fetch: Effect.fn("FakeGit.branches.fetch")(function*(name: string) {
      yield* checked("fetch", [name], [])
      const history = remotes.branch(url, name)
      return Option.fromNullable(history?.[history.length - 1]?.oid)
    }),
    commitOnto: Effect.fn("FakeGit.branches.commitOnto")(function*(parent: string, inputs: ReadonlyArray<CommitInput>) {
      yield* checked("commit", [], [parent])
      const staged = stageBatch(inputs)
      if (Either.isLeft(staged)) return yield* fail("commit", "config", `invalid file path "${staged.left}"`)
      const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const made: Array<string> = []
      let tip = lookup(parent)
      for (const { changes, input } of staged.right) {
        const tree = changes.reduce((at, { content, path }) => withFile(at, path, content), tip?.tree ?? new Map<string, string>())
        const commit = makeCommit({ parents: [tip?.oid ?? parent], tree, links: tip?.links, message: input.message, author: input.author, seconds })
        local.set(commit.oid, commit)
        made.push(commit.oid)
        tip = commit
      }
      return made
    }),
    merge,
    push: Effect.fn("FakeGit.branches.push")(function*(name: string, oid: string) {
      yield* checked("push", [name], [oid])
      return yield* Either.match(remotes.push(url, name, firstParents(oid)), {
        onLeft: (reason) => Effect.fail(fail("push", "rejected", `push to ${url} refused: ${reason}`)),
        onRight: (pushed): Effect.Effect<PushResult> => Effect.succeed(pushed ? { _tag: "Pushed" } : { _tag: "Rejected", reason: "non-fast-forward" })
      })
    }),
    authorOf: Effect.fn("FakeGit.branches.authorOf")(function*(oid: string) {
      yield* checked("read", [], [oid])
      const author = lookup(oid)?.author
      return { name: author?.name ?? "", email: author?.email ?? "" }
    })
  }
}
