import { Clock, Effect, Either, Layer, Option } from "effect"
import { createHash } from "node:crypto"
import type { Author, Checkout, CommitInput, GitRepo, Listed, PushResult, RepoSpec } from "./GitRepo.ts"
import { GitError } from "./GitError.ts"
import { GitRepoTag } from "./GitRepoTag.ts"
import { identPart, stageBatch, stripUserinfo, validPath } from "./remote.ts"

/** A commit of a fake repository, with its whole tree. Its oid is the one git would give it. */
export interface Commit {
  readonly oid: string
  readonly parent: Option.Option<string>
  /** Every file, by path from the root. */
  readonly tree: ReadonlyMap<string, string>
  /** As git keeps it: ending with a line break. */
  readonly message: string
  /** The first paragraph of the message on one line, as `git log --format=%s` shows it. */
  readonly subject: string
  /** Author and committer both, as the backends write them. */
  readonly author: Author
  /** Author and committer time, in seconds since the epoch (UTC). */
  readonly seconds: number
}

/** Who writes to a fake remote when a test does (seeding, racing). */
export const OTHER_WRITER: Author = { name: "Other Writer", email: "other@example.com" }

const DEFAULT_BRANCH = "main"

const sha1 = (...parts: ReadonlyArray<Uint8Array | string>) => {
  const hash = createHash("sha1")
  for (const part of parts) hash.update(part)
  return hash.digest("hex")
}

/** git's id of a blob: the sha1 of `blob <bytes>\0<content>`. */
export const blobOid = (content: string): string => {
  const bytes = Buffer.from(content, "utf8")
  return sha1(`blob ${bytes.length}\0`, bytes)
}

/** git's id of the tree of these files (all mode 100644), entries in git's order. */
const treeOid = (files: ReadonlyMap<string, string>): string => {
  const blobs = new Map<string, string>()
  const dirs = new Map<string, Map<string, string>>()
  for (const [path, content] of files) {
    const slash = path.indexOf("/")
    if (slash === -1) blobs.set(path, blobOid(content))
    else {
      const name = path.slice(0, slash)
      const sub = dirs.get(name) ?? new Map<string, string>()
      sub.set(path.slice(slash + 1), content)
      dirs.set(name, sub)
    }
  }
  // git orders a directory as if its name ended with "/".
  const entries = [
    ...[...blobs].map(([name, oid]) => ({ name, key: name, mode: "100644", oid })),
    ...[...dirs].map(([name, sub]) => ({ name, key: `${name}/`, mode: "40000", oid: treeOid(sub) }))
  ].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
  const body = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, "hex")]))
  return sha1(`tree ${body.length}\0`, body)
}

/** The commit git would write: same tree, parent, identity, time and message, same oid. */
const makeCommit = (options: {
  readonly parent: Option.Option<Commit>
  readonly tree: ReadonlyMap<string, string>
  readonly message: string
  readonly author: Author
  readonly seconds: number
}): Commit => {
  const message = options.message.endsWith("\n") ? options.message : `${options.message}\n`
  const author = { name: identPart(options.author.name), email: identPart(options.author.email) }
  const ident = `${author.name} <${author.email}> ${options.seconds} +0000`
  const parent = Option.map(options.parent, (commit) => commit.oid)
  const text = [
    `tree ${treeOid(options.tree)}\n`,
    Option.match(parent, { onNone: () => "", onSome: (oid) => `parent ${oid}\n` }),
    `author ${ident}\ncommitter ${ident}\n\n${message}`
  ].join("")
  const bytes = Buffer.from(text, "utf8")
  const subject = (message.split(/\n\s*\n/)[0] ?? "").split("\n").join(" ").trim()
  return { oid: sha1(`commit ${bytes.length}\0`, bytes), parent, tree: options.tree, message, subject, author, seconds: options.seconds }
}

/** The tree with `content` at `path`, in place of a file or a directory there or above it. */
const withFile = (tree: ReadonlyMap<string, string>, path: string, content: string): ReadonlyMap<string, string> => {
  const next = new Map([...tree].filter(([key]) => !key.startsWith(`${path}/`)))
  const parts = path.split("/")
  for (let i = 1; i < parts.length; i++) next.delete(parts.slice(0, i).join("/"))
  next.set(path, content)
  return next
}

/** Bytewise, as git sorts names. */
const byName = (a: Listed, b: Listed) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))

/**
 * In-memory remotes: by URL (without userinfo), each branch a list of commits, oldest first. The
 * helpers are what a test does to a remote besides the code under test: seed it, write to it as
 * another writer, read it back.
 */
export class Remotes {
  private readonly repos = new Map<string, Map<string, ReadonlyArray<Commit>>>()
  private readonly refusals = new Map<string, string>()
  private pendingBeforePush: Array<() => void> = []
  /** Directory -> the URL last cloned into it, so that reopening one fetches where git would. */
  readonly clones = new Map<string, string>()

  /** Sets the branch to a single commit of these files, "Initial commit" by OTHER_WRITER at `seconds` (0 unless given). */
  create(url: string, files: Record<string, string>, options: { branch?: string; seconds?: number } = {}): string {
    const commit = makeCommit({
      parent: Option.none(),
      tree: this.treeOf(files, new Map()),
      message: "Initial commit",
      author: OTHER_WRITER,
      seconds: options.seconds ?? 0
    })
    const repo = this.repos.get(stripUserinfo(url)) ?? new Map<string, ReadonlyArray<Commit>>()
    repo.set(options.branch ?? DEFAULT_BRANCH, [commit])
    this.repos.set(stripUserinfo(url), repo)
    return commit.oid
  }

  /** Commits these changes on top of the branch tip as another writer (OTHER_WRITER unless given). Returns the commit. */
  commitAs(
    url: string,
    files: Record<string, string>,
    message: string,
    options: { branch?: string; author?: Author; seconds?: number } = {}
  ): string {
    const branch = options.branch ?? DEFAULT_BRANCH
    const history = this.branch(url, branch) ?? []
    const tip = Option.fromNullable(history[history.length - 1])
    const base = Option.match(tip, { onNone: () => new Map<string, string>(), onSome: (commit) => commit.tree })
    const commit = makeCommit({
      parent: tip,
      tree: this.treeOf(files, base),
      message,
      author: options.author ?? OTHER_WRITER,
      seconds: options.seconds ?? 0
    })
    this.update(url, branch, [...history, commit])
    return commit.oid
  }

  /** The branch's commits, newest first; [] for a missing repository or branch. */
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

  /** Moves the branch to `history` if that is a fast-forward; false if the branch moved on. */
  push(url: string, branch: string, history: ReadonlyArray<Commit>): Either.Either<boolean, string> {
    const hooks = this.pendingBeforePush
    this.pendingBeforePush = []
    for (const hook of hooks) hook()
    const refusal = this.refusals.get(stripUserinfo(url))
    if (refusal !== undefined) return Either.left(refusal)
    const current = this.branch(url, branch) ?? []
    const tip = current[current.length - 1]
    if (tip !== undefined && history[current.length - 1]?.oid !== tip.oid) return Either.right(false)
    this.update(url, branch, history)
    return Either.right(true)
  }

  private update(url: string, branch: string, history: ReadonlyArray<Commit>) {
    const repo = this.repos.get(stripUserinfo(url))
    if (repo === undefined) throw new Error(`no fake repository at ${stripUserinfo(url)}`)
    repo.set(branch, history)
  }

  private treeOf(files: Record<string, string>, base: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
    let tree = base
    for (const [path, content] of Object.entries(files)) {
      const valid = validPath(path)
      if (Option.isNone(valid) || valid.value === "") throw new Error(`invalid file path "${path}"`)
      tree = withFile(tree, valid.value, content)
    }
    return tree
  }
}

/** A checkout of a branch of `remotes`: the Checkout contract, with no disk and no network. */
const open = Effect.fn("FakeGit.open")(function*(remotes: Remotes, spec: RepoSpec, dir: string) {
  const url = stripUserinfo(spec.remote)
  const fail = (operation: GitError["operation"], detail: string) =>
    new GitError({ repoId: spec.repoId, operation, detail })
  /** The branch as of the last sync, then our commits on top. */
  let history: ReadonlyArray<Commit> = []
  const tip = () => history[history.length - 1]

  const sync = Effect.suspend(() => {
    const operation = remotes.clones.get(dir) === url ? "fetch" : "clone"
    const branch = remotes.branch(url, spec.branch)
    const last = branch?.[branch.length - 1]
    if (branch === undefined || last === undefined) {
      return Effect.fail(fail(operation, `branch "${spec.branch}" not found at ${url}`))
    }
    remotes.clones.set(dir, url)
    history = branch
    return Effect.succeed(last.oid)
  }).pipe(Effect.withSpan("FakeGit.sync", { attributes: { repoId: spec.repoId } }))

  const readFiles = Effect.fn("FakeGit.readFiles")(function*(paths: ReadonlyArray<string>) {
    const valid: Array<string> = []
    for (const path of paths) {
      const filepath = validPath(path)
      if (Option.isNone(filepath) || filepath.value === "") return yield* fail("read", `invalid file path "${path}"`)
      valid.push(filepath.value)
    }
    const tree = tip()?.tree ?? new Map<string, string>()
    return valid.map((path) => Option.map(Option.fromNullable(tree.get(path)), (text) => ({ oid: blobOid(text), text })))
  })

  const listFiles = Effect.fn("FakeGit.listFiles")(function*(path: string) {
    const filepath = validPath(path)
    if (Option.isNone(filepath)) return yield* fail("read", `invalid directory path "${path}"`)
    const prefix = filepath.value === "" ? "" : `${filepath.value}/`
    const listed: Array<Listed> = []
    for (const [file, text] of tip()?.tree ?? []) {
      const name = file.slice(prefix.length)
      if (file.startsWith(prefix) && !name.includes("/")) listed.push({ name, oid: blobOid(text) })
    }
    return listed.sort(byName)
  })

  const commitAll = Effect.fn("FakeGit.commitAll")(function*(inputs: ReadonlyArray<CommitInput>) {
    const staged = stageBatch(inputs)
    if (Either.isLeft(staged)) return yield* fail("commit", `invalid file path "${staged.left}"`)
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const made: Array<Commit> = []
    for (const { changes, input } of staged.right) {
      const parent = Option.fromNullable(made[made.length - 1] ?? tip())
      const base = Option.match(parent, { onNone: () => new Map<string, string>(), onSome: (commit) => commit.tree })
      const tree = changes.reduce((at, { content, path }) => withFile(at, path, content), base)
      made.push(makeCommit({ parent, tree, message: input.message, author: input.author, seconds }))
    }
    history = [...history, ...made]
    return made.map((commit) => commit.oid)
  })

  const push = Effect.suspend(() =>
    Either.match(remotes.push(url, spec.branch, history), {
      onLeft: (reason) => Effect.fail(fail("push", `push to ${url} refused: ${reason}`)),
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
    commitAll,
    push
  } satisfies Checkout
})

/** `GitRepo` on the in-memory `remotes`; `dir` only tells a first clone from a fetch. */
export const layer = (remotes: Remotes): Layer.Layer<GitRepo> =>
  Layer.succeed(GitRepoTag, GitRepoTag.of({ open: (spec, dir) => open(remotes, spec, dir) }))
