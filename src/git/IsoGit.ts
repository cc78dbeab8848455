import { FileSystem } from "@effect/platform"
import { Clock, Effect, Either, Layer, Option, Ref } from "effect"
import git, { Errors } from "isomorphic-git"
import * as fs from "node:fs"
import type { Checkout, CommitInput, Listed, RepoSpec, TreeEntry } from "./repoTypes.ts"
import { type FailWith, GitError, type GitErrorKind } from "./GitError.ts"
import { GitRepoTag } from "./GitRepoTag.ts"
import { isoSync } from "./isoSync.ts"
import { isoFailureOf, isoKindOf, isoMessage } from "./isoFailures.ts"
import { boundedHttp, DEFAULT_MAX_PACK_BYTES, largePack, largePackText, tooLargeMessage } from "./isoPackLimit.ts"
import { blobOf } from "./plumbing.ts"
import { kindOfMode, perCommit, sortedByPath } from "./treeListing.ts"
import { workRefOf } from "./pushBranch.ts"
import { clearCrashLeftovers, clearSampleHooks, corruptLooseObjects } from "./cloneRepair.ts"
import { stageBatch, validFilePath, validPath } from "./commitBatch.ts"
import { isoCommitWriter } from "./isoCommits.ts"
import { isoBranches, isoPush } from "./isoBranches.ts"
import { isHttpRemote, networkBound, REMOTE } from "./remote.ts"
import { credentialsOf, scrub, secretsOf, stripUserinfo } from "./remoteCredentials.ts"

type Operation = GitError["operation"]

/** Whether `dir` holds a bare clone of `url` to reuse (either backend's), read in process. */
const isBareCloneOf = (dir: string, url: string): Effect.Effect<boolean> =>
  Effect.tryPromise(async () => {
    if (!fs.existsSync(`${dir}/HEAD`) || !fs.existsSync(`${dir}/objects`)) return false
    const bare: unknown = await git.getConfig({ fs, gitdir: dir, path: "core.bare" })
    const configured: unknown = await git.getConfig({ fs, gitdir: dir, path: `remote.${REMOTE}.url` })
    return bare === true && configured === url
  }).pipe(Effect.orElseSucceed(() => false))

/**
 * Heals a clone kept from an earlier pass, or says it must be cloned again: git's lock and
 * temporary files a crash left are removed (the caller holds the clone's lock), a clone system git
 * made gets the fetch refspec isomorphic-git needs, and one with a corrupt loose object is given up.
 */
const healReused = (spec: RepoSpec, dir: string) =>
  Effect.gen(function*() {
    const annotate = Effect.annotateLogs({ repoId: spec.repoId, dir })
    const leftovers = yield* clearCrashLeftovers(dir)
    if (leftovers.length > 0) yield* Effect.logWarning(`removed files left by a crash: ${leftovers.join(", ")}`).pipe(annotate)
    yield* clearSampleHooks(dir)
    const corrupt = yield* corruptLooseObjects(dir)
    if (corrupt.length > 0) {
      yield* Effect.logWarning(`corrupt objects ${corrupt.slice(0, 3).join(", ")}: cloning again`).pipe(annotate)
      return false
    }
    const refspec = `remote.${REMOTE}.fetch`
    yield* Effect.tryPromise(async () => {
      const configured: unknown = await git.getConfig({ fs, gitdir: dir, path: refspec })
      if (configured === undefined) await git.setConfig({ fs, gitdir: dir, path: refspec, value: `+refs/heads/*:refs/remotes/${REMOTE}/*` })
    }).pipe(Effect.ignore)
    return true
  })

/** What reading in this process needs: the clone, head, and how a read fails. */
interface InProcess {
  readonly dir: string
  readonly head: Ref.Ref<string>
  /** isomorphic-git's object cache, kept as long as the checkout. */
  readonly cache: object
  readonly fail: (kind: GitErrorKind, detail: string) => GitError
}

/** Every file and link at head, read in this process: one readTree per directory, through isomorphic-git's cache. */
const inProcessTree = (options: InProcess): Checkout["listTree"] => {
  const { cache, dir, fail, head } = options
  /** The files and links under the tree `oid`, their paths from `prefix`. */
  const walk = async (oid: string, prefix: string, into: Array<TreeEntry>): Promise<void> => {
    const { tree } = await git.readTree({ fs, cache, gitdir: dir, oid })
    for (const entry of tree) {
      const path = `${prefix}${entry.path}`
      if (entry.type === "tree") await walk(entry.oid, `${path}/`, into)
      const kind = entry.type === "blob" ? kindOfMode(entry.mode) : undefined
      if (kind !== undefined) into.push({ path, oid: entry.oid, kind })
    }
  }

  // A commit's tree never changes: kept while head stays at the same commit.
  const listed = perCommit<ReadonlyArray<TreeEntry>>()
  return Effect.gen(function*() {
    const oid = yield* Ref.get(head)
    const kept = listed.get(oid)
    if (kept !== undefined) return kept
    const entries = yield* Effect.tryPromise({
      try: async () => {
        const into: Array<TreeEntry> = []
        await walk(oid, "", into)
        return sortedByPath(into)
      },
      catch: (error) => fail(isoKindOf(error, "corrupt"), `cannot list the tree at ${oid}: ${isoMessage(error)}`)
    })
    return listed.set(oid, entries)
  }).pipe(Effect.withSpan("GitRepo.listTree"))
}

/** Reading at the commit `head` holds, in this process. */
const inProcessReads = (options: InProcess): Pick<Checkout, "readFiles" | "listFiles" | "listTree"> => {
  const { cache, dir, fail, head } = options

  /** The tree-entry mode of `filepath` at commit `oid` (readBlob does not say whether it is a symbolic link). */
  const entryMode = async (oid: string, filepath: string): Promise<string | undefined> => {
    const slash = filepath.lastIndexOf("/")
    const parent = slash === -1 ? {} : { filepath: filepath.slice(0, slash) }
    const { tree } = await git.readTree({ fs, cache, gitdir: dir, oid, ...parent })
    return tree.find((entry) => entry.path === filepath.slice(slash + 1))?.mode
  }

  const readFile = (oid: string, path: string) => Effect.gen(function*() {
    const filepath = validFilePath(path)
    if (Option.isNone(filepath)) return yield* fail("config", `invalid file path "${path}"`)
    return yield* Effect.tryPromise({
      try: async () => {
        try {
          const { blob, oid: blobOid } = await git.readBlob({ fs, cache, gitdir: dir, oid, filepath: filepath.value })
          return Option.some(blobOf(blobOid, blob, await entryMode(oid, filepath.value)))
        } catch (error) {
          // A directory at that path is no file either.
          if (error instanceof Errors.NotFoundError || error instanceof Errors.ObjectTypeError) return Option.none()
          throw error
        }
      },
      catch: (error) => fail(isoKindOf(error, "corrupt"), `cannot read ${path}: ${isoMessage(error)}`)
    })
  })

  const listFiles = Effect.fn("GitRepo.listFiles")(function*(path: string) {
    const filepath = validPath(path)
    if (Option.isNone(filepath)) return yield* fail("config", `invalid directory path "${path}"`)
    const oid = yield* Ref.get(head)
    return yield* Effect.tryPromise({
      try: async (): Promise<ReadonlyArray<Listed>> => {
        try {
          const { tree } = await git.readTree({
            fs,
            cache,
            gitdir: dir,
            oid,
            ...(filepath.value === "" ? {} : { filepath: filepath.value })
          })
          return tree.filter((entry) => entry.type === "blob").map((entry) => ({ name: entry.path, oid: entry.oid }))
        } catch (error) {
          if (error instanceof Errors.NotFoundError || error instanceof Errors.ObjectTypeError) return []
          throw error
        }
      },
      catch: (error) => fail(isoKindOf(error, "corrupt"), `cannot list ${path}: ${isoMessage(error)}`)
    })
  })

  const readFiles = Effect.fn("GitRepo.readFiles")((paths: ReadonlyArray<string>) =>
    Effect.flatMap(Ref.get(head), (oid) => Effect.forEach(paths, (path) => readFile(oid, path)))
  )

  return { readFiles, listFiles, listTree: inProcessTree(options) }
}

export interface IsoOptions {
  /** The largest pack it fetches or reads, in bytes; a repository that needs more is refused. */
  readonly maxPackBytes?: number
}

/**
 * The isomorphic-git backend for http(s) remotes: a bare, shallow, single-branch clone in `dir`.
 * isomorphic-git pushes from a shallow clone (it stops its object walk at the shallow boundary).
 * It holds whole packs in memory, so a repository whose pack is larger than `maxPackBytes` is
 * refused, with a word to use system git, rather than read.
 */
export const open = Effect.fn("GitRepo.openIsoGit")(function*(spec: RepoSpec, dir: string, options: IsoOptions = {}) {
  const maxPackBytes = options.maxPackBytes ?? DEFAULT_MAX_PACK_BYTES
  const http = boundedHttp(maxPackBytes)
  const files = yield* FileSystem.FileSystem
  const secrets = secretsOf(spec)
  const url = stripUserinfo(spec.remote)
  // The local ref commits are written on and pushed from.
  const branchRef = workRefOf(spec)
  const cache = {}
  const credentials = credentialsOf(spec)
  const onAuth = Option.match(credentials, {
    onNone: () => ({}),
    onSome: (auth) => ({ onAuth: () => ({ username: auth.username, password: auth.password }) })
  })

  const fail: FailWith = (operation, kind, detail) =>
    new GitError({ repoId: spec.repoId, operation, kind, detail: scrub(detail, secrets) })

  if (!isHttpRemote(spec.remote)) return yield* fail("clone", "config", `isomorphic-git speaks only http(s), not ${url}`)

  const attempt = <A>(operation: Operation, run: (signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({
      try: run,
      catch: (error) => {
        const { kind, detail } = isoFailureOf(error, url, spec)
        return fail(operation, kind, detail)
      }
    })

  const bounded = networkBound(url, fail)
  const overNetwork = <A>(operation: Operation, run: (signal: AbortSignal) => Promise<A>) => bounded(operation, attempt(operation, run))

  const initialize = Effect.gen(function*() {
    yield* files.remove(dir, { recursive: true, force: true })
    yield* files.makeDirectory(dir, { recursive: true })
    yield* attempt("clone", async () => {
      await git.init({ fs, gitdir: dir, bare: true, defaultBranch: spec.branch })
      await git.setConfig({ fs, gitdir: dir, path: `remote.${REMOTE}.url`, value: url })
      await git.setConfig({
        fs,
        gitdir: dir,
        path: `remote.${REMOTE}.fetch`,
        value: `+refs/heads/*:refs/remotes/${REMOTE}/*`
      })
    })
  }).pipe(
    Effect.mapError((error) => error instanceof GitError ? error : fail("clone", "other", `cannot prepare ${dir}: ${error.message}`))
  )

  const reused = (yield* isBareCloneOf(dir, url)) && (yield* healReused(spec, dir))
  if (reused) {
    const large = yield* largePack(dir, maxPackBytes)
    if (Option.isSome(large)) return yield* fail("clone", "config", tooLargeMessage(spec.repoId, largePackText(large.value, maxPackBytes)))
  } else {
    yield* Effect.logDebug("cloning").pipe(Effect.annotateLogs({ repoId: spec.repoId, remote: url }))
    yield* initialize
  }

  // Set by the sync that `open` runs before it returns the checkout.
  const head = yield* Ref.make("")

  const remote = { spec, dir, url, cache, auth: onAuth, http, fail, attempt, overNetwork }
  const sync = isoSync(remote, head)

  const { listFiles, listTree, readFiles } = inProcessReads({ dir, head, cache, fail: (kind, detail) => fail("read", kind, detail) })

  const writer = isoCommitWriter({ dir, cache, signer: spec.signer })

  const commitAll = Effect.fn("GitRepo.commitAll")(function*(inputs: ReadonlyArray<CommitInput>) {
    const staged = stageBatch(inputs)
    if (Either.isLeft(staged)) return yield* fail("commit", "config", `invalid file path "${staged.left}"`)
    const batch = staged.right
    if (batch.length === 0) return []
    const parent = yield* Ref.get(head)
    const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const oids = yield* attempt("commit", async () => {
      const made = await writer.writeBatch(parent, batch, timestamp)
      await git.writeRef({ fs, gitdir: dir, ref: branchRef, value: made[made.length - 1] ?? parent, force: true })
      return made
    })
    yield* Ref.set(head, oids[oids.length - 1] ?? parent)
    return oids
  })

  const push = isoPush(remote, secrets, branchRef, branchRef).pipe(Effect.withSpan("GitRepo.push", { attributes: { repoId: spec.repoId } }))

  const checkout: Checkout = {
    repoId: spec.repoId,
    sync,
    head: Ref.get(head),
    readFiles,
    listFiles,
    listTree,
    commitAll,
    push,
    branches: isoBranches(remote, writer, secrets)
  }
  yield* sync
  return checkout
})

/** `GitRepo` on isomorphic-git alone: http(s) remotes only, any other fails to clone. */
export const layer: Layer.Layer<GitRepoTag, never, FileSystem.FileSystem> = Layer.effect(
  GitRepoTag,
  Effect.map(Effect.context<FileSystem.FileSystem>(), (context) =>
    GitRepoTag.of({ open: (spec, dir) => open(spec, dir).pipe(Effect.provide(context)) }))
)
