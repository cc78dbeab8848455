import { Clock, Effect, Either, Option } from "effect"
import git, { Errors } from "isomorphic-git"
import * as fs from "node:fs"
import type { GitError } from "./GitError.ts"
import type { Author, CommitInput, MergeResult, OtherBranches, PushResult } from "./repoTypes.ts"
import { stageBatch } from "./commitBatch.ts"
import { isRaceRejection } from "./gitOutput.ts"
import type { IsoCommitWriter } from "./isoCommits.ts"
import { fetchBranch, type IsoRemote, resolveRef } from "./isoSync.ts"
import { inputProblem, mergeBaseWithin, noMergeBaseDetail } from "./otherBranches.ts"
import { REMOTE } from "./remote.ts"
import { scrub } from "./remoteCredentials.ts"

type Operation = GitError["operation"]

const trackingRef = (name: string) => `refs/remotes/${REMOTE}/${name}`

/**
 * Pushes `ref` (a local ref or a commit) to `remoteRef` (a full ref name), never forced: a
 * non-fast-forward, or a ref another push moved first, is `Rejected`. isomorphic-git moves the
 * remote-tracking ref of `remoteRef` when the push lands.
 */
export const isoPush = (c: IsoRemote, secrets: ReadonlyArray<string>, ref: string, remoteRef: string): Effect.Effect<PushResult, GitError> =>
  c.overNetwork("push", async (signal): Promise<PushResult> => {
    try {
      await git.push({ fs, http: c.http, cache: c.cache, gitdir: c.dir, remote: REMOTE, ref, remoteRef, force: false, signal, ...c.auth })
      return { _tag: "Pushed" }
    } catch (error) {
      if (error instanceof Errors.PushRejectedError) return { _tag: "Rejected", reason: error.data.reason }
      if (error instanceof Errors.GitPushError && isRaceRejection(error.data.prettyDetails)) {
        return { _tag: "Rejected", reason: scrub(error.data.prettyDetails.trim(), secrets) }
      }
      throw error
    }
  })

/** Fails unless every name is a branch name and every oid a full commit id. */
const checked = (c: IsoRemote, operation: Operation, names: ReadonlyArray<string>, oids: ReadonlyArray<string>) => {
  const problem = inputProblem(names, oids)
  return problem === undefined ? Effect.void : c.fail(operation, "config", problem)
}

const isShallow = (c: IsoRemote) => Effect.sync(() => fs.existsSync(`${c.dir}/shallow`))

const hasCommit = (c: IsoRemote, oid: string) =>
  Effect.promise(() => git.readCommit({ fs, cache: c.cache, gitdir: c.dir, oid }).then(() => true, () => false))

/** As system git does it: the remote's tip by a ref listing, then its commit alone (in a shallow clone) unless the clone has it. */
const fetchOf = (c: IsoRemote, fetched: Set<string>) =>
  Effect.fn("GitRepo.branches.fetch")(function*(name: string) {
    yield* checked(c, "fetch", [name], [])
    const ref = `refs/heads/${name}`
    const listed = yield* c.overNetwork("fetch", () => git.listServerRefs({ http: c.http, url: c.url, prefix: ref, ...c.auth }))
    const tip = listed.find((entry) => entry.ref === ref)?.oid
    if (tip === undefined) {
      fetched.delete(name)
      if (Option.isSome(yield* resolveRef(c.dir, trackingRef(name)))) yield* c.attempt("fetch", () => git.deleteRef({ fs, gitdir: c.dir, ref: trackingRef(name) }))
      return Option.none()
    }
    fetched.add(name)
    if (yield* hasCommit(c, tip)) {
      yield* c.attempt("fetch", () => git.writeRef({ fs, gitdir: c.dir, ref: trackingRef(name), value: tip, force: true }))
      return Option.some(tip)
    }
    const depth = (yield* isShallow(c)) ? { depth: 1 } : {}
    const got = yield* fetchBranch(c, "fetch", { branch: name, have: `refs/remotes/${REMOTE}/${c.spec.branch}`, ...depth })
    return Option.isSome(got) ? Option.some(Option.getOrElse(yield* resolveRef(c.dir, trackingRef(name)), () => got.value)) : Option.none()
  })

/** isomorphic-git's merge of two commits: the merged tree (written), or the paths that conflict. */
const mergeTree = (c: IsoRemote, ours: string, theirs: string, author: Author) =>
  c.attempt("commit", async (): Promise<Either.Either<string, ReadonlyArray<string>>> => {
    try {
      // It writes an unsigned merge commit of its own, which nothing points to: only its tree is kept.
      const signature = { name: author.name, email: author.email, timestamp: 0, timezoneOffset: 0 }
      const merged = await git.merge({
        fs, cache: c.cache, gitdir: c.dir, ours, theirs, fastForward: false, noUpdateBranch: true, abortOnConflict: true, author: signature, message: "merge"
      })
      if (merged.tree === undefined) throw new Error(`isomorphic-git gave no merged tree for ${ours} and ${theirs}`)
      return Either.right(merged.tree)
    } catch (error) {
      if (error instanceof Errors.MergeConflictError) return Either.left([...new Set(error.data.filepaths)])
      throw error
    }
  })

const mergeOf = (c: IsoRemote, writer: IsoCommitWriter, fetched: ReadonlySet<string>): OtherBranches["merge"] =>
  Effect.fn("GitRepo.branches.merge")(function*(ours: string, theirs: string, message: string, author: Author) {
    yield* checked(c, "commit", [], [ours, theirs])
    const base = yield* mergeBaseWithin({
      // A commit the walk needs and the clone lacks (below the shallow boundary) reads as no base yet.
      find: c.attempt("commit", () =>
        git.findMergeBase({ fs, cache: c.cache, gitdir: c.dir, oids: [ours, theirs] }).then(
          (bases: ReadonlyArray<string>) => Option.fromNullable(bases[0]),
          (error) => {
            if (error instanceof Errors.NotFoundError) return Option.none()
            throw error
          }
        )),
      shallow: isShallow(c),
      deepen: (commits) =>
        Effect.forEach([c.spec.branch, ...fetched], (branch) =>
          fetchBranch(c, "fetch", { branch, have: trackingRef(branch), depth: commits, relative: true }), { discard: true }),
      none: (deepened) => c.fail("commit", "notFound", noMergeBaseDetail(ours, theirs, deepened))
    })
    if (base === theirs) return { _tag: "UpToDate" } satisfies MergeResult
    const tree = yield* mergeTree(c, ours, theirs, author)
    if (Either.isLeft(tree)) return { _tag: "Conflict", paths: tree.left } satisfies MergeResult
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const oid = yield* c.attempt("commit", () => writer.writeCommit({ tree: tree.right, parents: [ours, theirs], author, seconds, message }))
    return { _tag: "Merged", oid } satisfies MergeResult
  })

/** Branches beside the watched one, on an isomorphic-git checkout. */
export const isoBranches = (c: IsoRemote, writer: IsoCommitWriter, secrets: ReadonlyArray<string>): OtherBranches => {
  /** The request branches fetched so far: a merge deepens their history with the watched branch's. */
  const fetched = new Set<string>()
  return {
    fetch: fetchOf(c, fetched),
    commitOnto: Effect.fn("GitRepo.branches.commitOnto")(function*(parent: string, inputs: ReadonlyArray<CommitInput>) {
      yield* checked(c, "commit", [], [parent])
      const staged = stageBatch(inputs)
      if (Either.isLeft(staged)) return yield* c.fail("commit", "config", `invalid file path "${staged.left}"`)
      if (staged.right.length === 0) return []
      if (!(yield* hasCommit(c, parent))) return yield* c.fail("commit", "config", `commit ${parent} is not in the clone`)
      const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      return yield* c.attempt("commit", () => writer.writeBatch(parent, staged.right, seconds))
    }),
    merge: mergeOf(c, writer, fetched),
    push: Effect.fn("GitRepo.branches.push")(function*(name: string, oid: string) {
      yield* checked(c, "push", [name], [oid])
      const result = yield* isoPush(c, secrets, oid, `refs/heads/${name}`)
      if (result._tag === "Pushed") fetched.add(name)
      return result
    }),
    authorOf: Effect.fn("GitRepo.branches.authorOf")(function*(oid: string) {
      yield* checked(c, "read", [], [oid])
      const { commit } = yield* c.attempt("read", () => git.readCommit({ fs, cache: c.cache, gitdir: c.dir, oid }))
      return { name: commit.author.name, email: commit.author.email }
    })
  }
}
