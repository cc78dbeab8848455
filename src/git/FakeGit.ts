import { Clock, Effect, Either, Layer, Option } from "effect"
import { blobOid, type Commit, makeCommit, mergedTree, withFile } from "./fakeObjects.ts"
import type { Author, Blob, Checkout, CommitInput, Listed, PushResult, RepoSpec, TreeEntry } from "./repoTypes.ts"
import { type FailWith, GitError } from "./GitError.ts"
import { GitRepoTag } from "./GitRepoTag.ts"
import { chooseBase } from "./pushBranch.ts"
import { fakeBranches } from "./fakeBranches.ts"
import { stageBatch, validFilePath, validFilePaths, validPath } from "./commitBatch.ts"
import { stripUserinfo } from "./remoteCredentials.ts"

export { blobOid, type Commit } from "./fakeObjects.ts"

/** Who writes to a fake remote when a test does (seeding, racing). */
export const OTHER_WRITER: Author = { name: "Other Writer", email: "other@example.com" }

const DEFAULT_BRANCH = "main"

/** A file a test writes to a fake remote: its text, or a symbolic link to `symlink`. */
export type FakeFile = string | { readonly symlink: string }

/** Both parents' links: makeCommit keeps those still in the tree. */
const bothLinks = (ours: Commit, theirs: Commit) => new Set([...ours.links, ...theirs.links])

/** Bytewise, as git sorts names. */
const byName = (a: Listed, b: Listed) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))

/**
 * In-memory remotes: by URL (without userinfo), each branch a list of commits, oldest first, along
 * first parents; every commit ever written is kept by oid, so that merges have their history. The
 * helpers are what a test does to a remote besides the code under test: seed it, write to it as
 * another writer, read it back.
 */
export class Remotes {
  private readonly repos = new Map<string, Map<string, ReadonlyArray<Commit>>>()
  private readonly commits = new Map<string, Commit>()
  private readonly refusals = new Map<string, string>()
  private pendingBeforePush: Array<() => void> = []
  /** Directory -> the URL last cloned into it, so that reopening one fetches where git would. */
  readonly clones = new Map<string, string>()

  /** Sets the branch to a single commit of these files, "Initial commit" by OTHER_WRITER at `seconds` (0 unless given). */
  create(url: string, files: Record<string, FakeFile>, options: { branch?: string; seconds?: number } = {}): string {
    const commit = makeCommit({
      parents: [],
      ...this.treeOf(files, new Map(), new Set()),
      message: "Initial commit",
      author: OTHER_WRITER,
      seconds: options.seconds ?? 0
    })
    const repo = this.repos.get(stripUserinfo(url)) ?? new Map<string, ReadonlyArray<Commit>>()
    this.repos.set(stripUserinfo(url), repo)
    this.update(url, options.branch ?? DEFAULT_BRANCH, [commit])
    return commit.oid
  }

  /** Commits these changes on top of the branch tip as another writer (OTHER_WRITER unless given). Returns the commit. */
  commitAs(
    url: string,
    files: Record<string, FakeFile>,
    message: string,
    options: { branch?: string; author?: Author; seconds?: number } = {}
  ): string {
    const branch = options.branch ?? DEFAULT_BRANCH
    const history = this.branch(url, branch) ?? []
    const tip = history[history.length - 1]
    const commit = makeCommit({
      parents: tip === undefined ? [] : [tip.oid],
      ...this.treeOf(files, tip?.tree ?? new Map(), tip?.links ?? new Set()),
      message,
      author: options.author ?? OTHER_WRITER,
      seconds: options.seconds ?? 0
    })
    this.update(url, branch, [...history, commit])
    return commit.oid
  }

  /**
   * Merges branch `from` into branch `into` as another writer, with a merge commit (its tree a
   * file-level three-way merge), or by moving `into` to `from`'s tip (`fastForward`, which must be
   * one). Returns `into`'s new tip.
   */
  merge(url: string, from: string, into: string, options: { fastForward?: boolean; seconds?: number } = {}): string {
    const source = this.branch(url, from) ?? []
    const target = this.branch(url, into) ?? []
    const theirs = source[source.length - 1]
    const ours = target[target.length - 1]
    if (theirs === undefined || ours === undefined) throw new Error(`no branch "${from}" or "${into}" at ${url}`)
    if (options.fastForward === true) {
      if (!this.isAncestor(ours.oid, theirs.oid)) throw new Error(`"${into}" cannot fast-forward to "${from}"`)
      this.update(url, into, source)
      return theirs.oid
    }
    const base = this.mergeBase(ours.oid, theirs.oid)
    const commit = makeCommit({
      parents: [ours.oid, theirs.oid],
      tree: mergedTree(base?.tree ?? new Map(), ours.tree, theirs.tree),
      links: bothLinks(ours, theirs),
      message: `Merge branch '${from}'`,
      author: OTHER_WRITER,
      seconds: options.seconds ?? 0
    })
    this.update(url, into, [...target, commit])
    return commit.oid
  }

  /** Whether `ancestor` is `descendant` or one of its ancestors, along every parent; `extra` holds commits not pushed yet. */
  isAncestor(ancestor: string, descendant: string, extra: ReadonlyArray<Commit> = []): boolean {
    const unpushed = new Map(extra.map((commit) => [commit.oid, commit]))
    const seen = new Set<string>()
    const queue = [descendant]
    for (let oid = queue.shift(); oid !== undefined; oid = queue.shift()) {
      if (oid === ancestor) return true
      if (seen.has(oid)) continue
      seen.add(oid)
      queue.push(...(unpushed.get(oid) ?? this.commits.get(oid))?.parents ?? [])
    }
    return false
  }

  /** A commit by oid, wherever it is. */
  commit(oid: string): Commit | undefined {
    return this.commits.get(oid)
  }

  /** The branch's commits along first parents, newest first; [] for a missing repository or branch. */
  log(url: string, options: { branch?: string } = {}): ReadonlyArray<Commit> {
    return [...(this.branch(url, options.branch ?? DEFAULT_BRANCH) ?? [])].reverse()
  }

  /** A file at the branch tip; undefined if there is none. */
  readFile(url: string, path: string, options: { branch?: string } = {}): string | undefined {
    return this.log(url, options)[0]?.tree.get(path)
  }

  /** Runs `fn` once, when the next push starts, to simulate another writer racing it. */
  beforeNextPush(fn: () => void): void {
    this.pendingBeforePush.push(fn)
  }

  /** From now on pushes to `url` fail as a server-side hook refusal would (a `GitError`, not a rejection). */
  refusePushes(url: string, reason: string): void {
    this.refusals.set(stripUserinfo(url), reason)
  }

  /** The branch's commits, oldest first; undefined if the repository or branch does not exist. */
  branch(url: string, branch: string): ReadonlyArray<Commit> | undefined {
    return this.repos.get(stripUserinfo(url))?.get(branch)
  }

  /** Moves (or creates) the branch to `history` if that is a fast-forward; false if the branch moved on. */
  push(url: string, branch: string, history: ReadonlyArray<Commit>): Either.Either<boolean, string> {
    const hooks = this.pendingBeforePush
    this.pendingBeforePush = []
    for (const hook of hooks) hook()
    const refusal = this.refusals.get(stripUserinfo(url))
    if (refusal !== undefined) return Either.left(refusal)
    const current = this.branch(url, branch) ?? []
    const tip = current[current.length - 1]
    const next = history[history.length - 1]
    if (tip !== undefined && (next === undefined || !this.isAncestor(tip.oid, next.oid, history))) return Either.right(false)
    this.update(url, branch, history)
    return Either.right(true)
  }

  /** Moves the branch to `oid` (a commit of this fake) as another writer would force it, or deletes it (undefined). */
  setBranch(url: string, branch: string, oid: string | undefined): void {
    const repo = this.repos.get(stripUserinfo(url))
    if (repo === undefined) throw new Error(`no fake repository at ${stripUserinfo(url)}`)
    if (oid === undefined) {
      repo.delete(branch)
      return
    }
    const history: Array<Commit> = []
    for (let commit = this.commits.get(oid); commit !== undefined; commit = this.commits.get(commit.parents[0] ?? "")) history.unshift(commit)
    repo.set(branch, history)
  }

  /** The newest common ancestor of two commits (by first finding, walking `ours`), if any. */
  private mergeBase(ours: string, theirs: string): Commit | undefined {
    const queue = [ours]
    for (let oid = queue.shift(); oid !== undefined; oid = queue.shift()) {
      if (this.isAncestor(oid, theirs)) return this.commits.get(oid)
      queue.push(...(this.commits.get(oid)?.parents ?? []))
    }
    return undefined
  }

  private update(url: string, branch: string, history: ReadonlyArray<Commit>) {
    const repo = this.repos.get(stripUserinfo(url))
    if (repo === undefined) throw new Error(`no fake repository at ${stripUserinfo(url)}`)
    for (const commit of history) this.commits.set(commit.oid, commit)
    repo.set(branch, history)
  }

  private treeOf(files: Record<string, FakeFile>, base: ReadonlyMap<string, string>, baseLinks: ReadonlySet<string>) {
    let tree = base
    const links = new Set(baseLinks)
    for (const [written, file] of Object.entries(files)) {
      // Also a name no commit of ours may write (a line break), as another writer may.
      const path = Option.getOrElse(validFilePath(written), () => written)
      if (path === "" || path.split("/").some((part) => part === "" || part === "." || part === "..")) throw new Error(`invalid file path "${written}"`)
      tree = withFile(tree, path, typeof file === "string" ? file : file.symlink)
      if (typeof file === "string") links.delete(path)
      else links.add(path)
    }
    return { tree, links }
  }
}

/** A checkout of a branch of `remotes` (pushing to its push branch, if any): the Checkout contract, with no disk and no network. */
const open = Effect.fn("FakeGit.open")(function*(remotes: Remotes, spec: RepoSpec, dir: string) {
  const url = stripUserinfo(spec.remote)
  const fail: FailWith = (operation, kind, detail) => new GitError({ repoId: spec.repoId, operation, kind, detail })
  /** The branch as of the last sync, then our commits on top. */
  let history: ReadonlyArray<Commit> = []
  const tip = () => history[history.length - 1]

  const sync = Effect.gen(function*() {
    const operation = remotes.clones.get(dir) === url ? "fetch" : "clone"
    const branch = remotes.branch(url, spec.branch)
    const last = branch?.[branch.length - 1]
    if (branch === undefined || last === undefined) {
      return yield* fail(operation, "notFound", `branch "${spec.branch}" not found at ${url}`)
    }
    remotes.clones.set(dir, url)
    const pushBranch = spec.pushBranch
    const pushed = pushBranch === undefined ? undefined : remotes.branch(url, pushBranch)
    // Nothing here is shallow: the whole history answers at once, and there is nothing to deepen.
    const base = pushBranch === undefined ? last.oid : yield* chooseBase({
      spec,
      pushBranch,
      tips: Effect.succeed({ branch: last.oid, push: Option.fromNullable(pushed?.[pushed.length - 1]?.oid) }),
      containment: (push, tip) => Effect.succeed(remotes.isAncestor(push, tip) ? "contained" : "apart"),
      deepen: () => Effect.void
    })
    history = base === last.oid ? branch : pushed ?? branch
    return base
  }).pipe(Effect.withSpan("FakeGit.sync", { attributes: { repoId: spec.repoId } }))

  const readFiles = Effect.fn("FakeGit.readFiles")(function*(paths: ReadonlyArray<string>) {
    const checked = validFilePaths(paths)
    if (Either.isLeft(checked)) return yield* fail("read", "config", `invalid file path "${checked.left}"`)
    const valid = checked.right
    const tree = tip()?.tree ?? new Map<string, string>()
    const links = tip()?.links ?? new Set<string>()
    return valid.map((path) =>
      Option.map(Option.fromNullable(tree.get(path)), (text): Blob =>
        links.has(path)
          ? { oid: blobOid(text), text: "", kind: "symlink", size: Buffer.byteLength(text) }
          : { oid: blobOid(text), text, kind: "text", size: Buffer.byteLength(text) })
    )
  })

  const listFiles = Effect.fn("FakeGit.listFiles")(function*(path: string) {
    const filepath = validPath(path)
    if (Option.isNone(filepath)) return yield* fail("read", "config", `invalid directory path "${path}"`)
    const prefix = filepath.value === "" ? "" : `${filepath.value}/`
    const listed: Array<Listed> = []
    for (const [file, text] of tip()?.tree ?? []) {
      const name = file.slice(prefix.length)
      if (file.startsWith(prefix) && !name.includes("/")) listed.push({ name, oid: blobOid(text) })
    }
    return listed.sort(byName)
  })

  const listTree = Effect.sync(() => {
    const at = tip()
    const entries = [...at?.tree ?? []].map(([path, text]): TreeEntry => ({ path, oid: blobOid(text), kind: at?.links.has(path) === true ? "symlink" : "file" }))
    return entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
  }).pipe(Effect.withSpan("FakeGit.listTree"))

  const commitAll = Effect.fn("FakeGit.commitAll")(function*(inputs: ReadonlyArray<CommitInput>) {
    const staged = stageBatch(inputs)
    if (Either.isLeft(staged)) return yield* fail("commit", "config", `invalid file path "${staged.left}"`)
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const made: Array<Commit> = []
    for (const { changes, input } of staged.right) {
      const parent = made[made.length - 1] ?? tip()
      const tree = changes.reduce((at, { content, path }) => withFile(at, path, content), parent?.tree ?? new Map<string, string>())
      made.push(makeCommit({ parents: parent === undefined ? [] : [parent.oid], tree, links: parent?.links, message: input.message, author: input.author, seconds }))
    }
    history = [...history, ...made]
    return made.map((commit) => commit.oid)
  })

  const push = Effect.suspend(() =>
    Either.match(remotes.push(url, spec.pushBranch ?? spec.branch, history), {
      onLeft: (reason) => Effect.fail(fail("push", "rejected", `push to ${url} refused: ${reason}`)),
      onRight: (pushed): Effect.Effect<PushResult> =>
        Effect.succeed(pushed ? { _tag: "Pushed" } : { _tag: "Rejected", reason: "non-fast-forward" })
    })
  ).pipe(Effect.withSpan("FakeGit.push", { attributes: { repoId: spec.repoId } }))

  yield* sync
  return {
    repoId: spec.repoId,
    sync,
    head: Effect.sync(() => tip()?.oid ?? ""),
    readFiles,
    listFiles,
    listTree,
    commitAll,
    push,
    branches: fakeBranches(remotes, url, fail)
  } satisfies Checkout
})

/** `GitRepo` on the in-memory `remotes`; `dir` only tells a first clone from a fetch. */
export const layer = (remotes: Remotes): Layer.Layer<GitRepoTag> =>
  Layer.succeed(GitRepoTag, GitRepoTag.of({ open: (spec, dir) => open(remotes, spec, dir) }))
