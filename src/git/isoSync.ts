import { Effect, Option, Ref } from "effect"
import git, { type AuthCallback, Errors, type HttpClient } from "isomorphic-git"
import * as fs from "node:fs"
import type { FailWith, GitError } from "./GitError.ts"
import type { RepoSpec } from "./repoTypes.ts"
import { chooseBase, type CommitNode, walkContainment } from "./pushBranch.ts"
import { REMOTE } from "./remote.ts"


type Operation = GitError["operation"]

/** What a sync needs of an isomorphic-git checkout. */
export interface IsoRemote {
  readonly spec: RepoSpec
  readonly dir: string
  readonly url: string
  /** isomorphic-git's object cache, kept as long as the checkout. */
  readonly cache: object
  readonly auth: { readonly onAuth?: AuthCallback }
  /** The http client fetches go through (one that cuts off answers too large to hold). */
  readonly http: HttpClient
  readonly fail: FailWith
  /** Runs a promise, its failure a GitError of `operation`. */
  readonly attempt: <A>(operation: Operation, run: (signal: AbortSignal) => Promise<A>) => Effect.Effect<A, GitError>
  /** As `attempt`, bounded in time: it talks to the remote. */
  readonly overNetwork: <A>(operation: Operation, run: (signal: AbortSignal) => Promise<A>) => Effect.Effect<A, GitError>
}

/** The commit a ref points at, read in process; None if there is no such ref. */
export const resolveRef = (dir: string, ref: string): Effect.Effect<Option.Option<string>> =>
  Effect.tryPromise(() => git.resolveRef({ fs, gitdir: dir, ref })).pipe(Effect.option)

/**
 * One branch's tip into its remote-tracking ref, None when the remote has no such branch. `have`
 * is the local ref whose history the remote need not send again.
 */
export const fetchBranch = (
  c: IsoRemote,
  operation: Operation,
  options: { readonly branch: string; readonly have: string; readonly depth?: number; readonly relative?: boolean }
) =>
  c.overNetwork(operation, async () => {
    try {
      const { branch, have, ...depth } = options
      const fetched = await git.fetch({
        fs,
        http: c.http,
        cache: c.cache,
        gitdir: c.dir,
        remote: REMOTE,
        ref: have,
        remoteRef: branch,
        singleBranch: true,
        tags: false,
        ...depth,
        ...c.auth
      })
      return Option.fromNullable(fetched.fetchHead)
    } catch (error) {
      if (error instanceof Errors.NotFoundError && error.data.what === options.branch) return Option.none()
      throw error
    }
  })

/** A commit as the walk reads it: None when the clone does not have it, no parents at the shallow boundary. */
const readNode = (c: IsoRemote, shallow: ReadonlySet<string>) => (oid: string) =>
  c.attempt("fetch", async (): Promise<Option.Option<CommitNode>> => {
    try {
      const { commit } = await git.readCommit({ fs, cache: c.cache, gitdir: c.dir, oid })
      return Option.some({ time: commit.committer.timestamp, parents: shallow.has(oid) ? Option.none() : Option.some(commit.parent) })
    } catch (error) {
      if (error instanceof Errors.NotFoundError) return Option.none()
      throw error
    }
  })

const shallowCommits = (dir: string): ReadonlySet<string> => {
  const text = fs.existsSync(`${dir}/shallow`) ? fs.readFileSync(`${dir}/shallow`, "utf8") : ""
  return new Set(text.split("\n").filter((line) => line !== ""))
}

/**
 * The push branch's tip into its remote-tracking ref, and the base chosen from it and the
 * branch's. A deepening fetch of the branch deepens every shallow boundary the clone reports,
 * the push branch's too: the server adds the parents of each one it moves.
 */
const pushBase = (c: IsoRemote, operation: Operation, pushBranch: string, first: boolean) =>
  Effect.gen(function*() {
    const { dir, spec } = c
    const trackingRef = `refs/remotes/${REMOTE}/${pushBranch}`
    const branchTracking = `refs/remotes/${REMOTE}/${spec.branch}`
    const known = yield* resolveRef(dir, trackingRef)
    const have = Option.isSome(known) ? trackingRef : branchTracking
    const tip = yield* fetchBranch(c, operation, { branch: pushBranch, have, ...(first ? { depth: 1 } : {}) })
    if (Option.isNone(tip) && Option.isSome(known)) {
      yield* c.attempt(operation, () => git.deleteRef({ fs, gitdir: dir, ref: trackingRef }))
    }
    return yield* chooseBase({
      spec,
      pushBranch,
      tips: Effect.gen(function*() {
        const branch = yield* resolveRef(dir, branchTracking)
        if (Option.isNone(branch)) return yield* c.fail(operation, "notFound", `branch "${spec.branch}" not found at ${c.url}`)
        return { branch: branch.value, push: Option.isSome(tip) ? yield* resolveRef(dir, trackingRef) : Option.none() }
      }),
      containment: (push, branch) =>
        Effect.flatMap(Effect.sync(() => shallowCommits(dir)), (shallow) => walkContainment(push, branch, readNode(c, shallow))),
      deepen: (commits) => fetchBranch(c, "fetch", { branch: spec.branch, have: branchTracking, depth: commits, relative: true })
    })
  })

/**
 * Fetches the branch, and the push branch if there is one, and sets head, and the local ref that
 * commits are written on, to the base the checkout works from (`chooseBase`).
 */
export const isoSync = (c: IsoRemote, head: Ref.Ref<string>): Effect.Effect<string, GitError> =>
  Effect.gen(function*() {
    const { dir, spec } = c
    const branchRef = `refs/heads/${spec.branch}`
    // Only the first fetch is shallow; later ones send our shallow boundary and get just what is new.
    const known = yield* resolveRef(dir, `refs/remotes/${REMOTE}/${spec.branch}`)
    const operation: Operation = Option.isSome(known) ? "fetch" : "clone"
    const fetched = yield* fetchBranch(c, operation, {
      branch: spec.branch,
      have: spec.branch,
      ...(Option.isNone(known) ? { depth: 1 } : {})
    })
    if (Option.isNone(fetched)) return yield* c.fail(operation, "notFound", `branch "${spec.branch}" not found at ${c.url}`)
    const pushBranch = spec.pushBranch
    const base = pushBranch === undefined ? fetched.value : yield* pushBase(c, operation, pushBranch, Option.isNone(known))
    // A deepening fetch may have moved the branch's remote-tracking ref past what was fetched first.
    const tip = pushBranch === undefined ? fetched.value : Option.getOrElse(yield* resolveRef(dir, `refs/remotes/${REMOTE}/${spec.branch}`), () => fetched.value)
    yield* c.attempt(operation, async () => {
      await git.writeRef({ fs, gitdir: dir, ref: branchRef, value: tip, force: true })
      await git.writeRef({ fs, gitdir: dir, ref: "HEAD", value: branchRef, symbolic: true, force: true })
      if (pushBranch !== undefined) await git.writeRef({ fs, gitdir: dir, ref: `refs/heads/${pushBranch}`, value: base, force: true })
    })
    yield* Ref.set(head, base)
    return base
  }).pipe(Effect.withSpan("GitRepo.sync", { attributes: { repoId: c.spec.repoId } }))
