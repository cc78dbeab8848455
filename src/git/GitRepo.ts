import { Command, type CommandExecutor, type FileSystem } from "@effect/platform"
import { Config, Duration, Effect, Layer, Option, type Redacted } from "effect"
import { GitError } from "./GitError.ts"
import { GitRepoTag } from "./GitRepoTag.ts"
import { guardHostKeys } from "./hostKeys.ts"
import { chooseHttpBackend, isHttpRemote, parseGitVersion, stripUserinfo } from "./remote.ts"
import type { Signer } from "./signing.ts"
import type { SshSettings } from "./sshConfig.ts"
import * as SystemGit from "./SystemGit.ts"

export { GitError } from "./GitError.ts"

export interface RepoSpec {
  readonly repoId: string
  /** https://host/org/repo.git (maybe with user:token@), git@host:org/repo.git, ssh://..., file:///path, /abs/path */
  readonly remote: string
  /** The branch watched: read, and written unless `pushBranch` is given. */
  readonly branch: string
  /**
   * Commits go to this branch instead, never to `branch`: it starts at `branch`'s tip when it does
   * not exist or is already contained in `branch` (merged), and otherwise at its own tip.
   */
  readonly pushBranch?: string | undefined
  /** https token/password (spec.git.passwordFile, or Piped's spec.git.password) */
  readonly password: Option.Option<Redacted.Redacted<string>>
  /** Who the password is for when the remote URL names nobody ("git" if unset). */
  readonly username: Option.Option<string>
  /** ssh private key (spec.git.sshKeyFile) */
  readonly sshKeyFile: Option.Option<string>
  /** How ssh trusts hosts: the pipeline's ssh config and known-hosts file (without it, the key alone). */
  readonly ssh?: SshSettings
  /** Signs every commit `commitAll` writes (spec.git.signingKeyFile); unsigned when absent. */
  readonly signer?: Signer
}

export interface Author {
  readonly name: string
  readonly email: string
}

export type PushResult = { readonly _tag: "Pushed" } | { readonly _tag: "Rejected"; readonly reason: string }

/** A file directly under a directory, by name, with its blob id. */
export interface Listed {
  readonly name: string
  readonly oid: string
}

/** What a path at head holds: a regular file of UTF-8 text, a regular file of other bytes, or a symbolic link. */
export type BlobKind = "text" | "binary" | "symlink"

/** A file's content as UTF-8 text, with the id of its blob (which changes exactly when the content does). */
export interface Blob {
  readonly oid: string
  /** The content, a byte-order mark kept, so that writing it back gives the same bytes; "" unless `kind` is "text". */
  readonly text: string
  readonly kind: BlobKind
  /** The size in bytes. */
  readonly size: number
}

export interface FileChange {
  readonly path: string
  readonly content: string
}

export interface CommitInput {
  readonly files: ReadonlyArray<FileChange>
  readonly message: string
  readonly author: Author
}

/** A local clone of one branch (and of the branch it pushes to, when that is another), kept in a directory between passes. */
export interface Checkout {
  readonly repoId: string
  /**
   * Fetches the remote branch and resets head to its tip, dropping local commits that were never
   * pushed; returns head. With a push branch, head is the push branch's tip instead, unless it does
   * not exist remotely or its tip is contained in the branch.
   */
  readonly sync: Effect.Effect<string, GitError>
  /** The commit the checkout is at now (the base after sync, then each new commit). */
  readonly head: Effect.Effect<string>
  /** Each file at head, in the order asked; None where there is no such file. */
  readonly readFiles: (paths: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Option.Option<Blob>>, GitError>
  /** The files directly under `dir` at head, with their blob ids; [] if there is no such directory. */
  readonly listFiles: (dir: string) => Effect.Effect<ReadonlyArray<Listed>, GitError>
  /**
   * The commits one on top of the other, from head; head advances to the last. Returns their oids
   * in order. On failure head stays where it was.
   */
  readonly commitAll: (inputs: ReadonlyArray<CommitInput>) => Effect.Effect<ReadonlyArray<string>, GitError>
  /**
   * Pushes head to the remote branch, or to the push branch (created when missing). Never forced: a
   * non-fast-forward is `Rejected`, not an error.
   */
  readonly push: Effect.Effect<PushResult, GitError>
}

export interface GitRepoService {
  /**
   * Clones into `dir` (or reuses the clone already there, fetching), then syncs. The caller holds
   * the clone's lock (`holdCloneLock`), so git lock files found in `dir` are a crash's and are removed.
   */
  readonly open: (spec: RepoSpec, dir: string) => Effect.Effect<Checkout, GitError>
}

/** `git --version` of the system git, None when there is none that runs. */
const probeGit: Effect.Effect<Option.Option<readonly [number, number]>, never, CommandExecutor.CommandExecutor> =
  Command.string(Command.make("git", "--version")).pipe(
    Effect.timeout(Duration.seconds(10)),
    Effect.map(parseGitVersion),
    Effect.orElseSucceed(() => Option.none())
  )

/** The backend for http(s) remotes, from `RUNNER_GIT_BACKEND` and the system git there is. */
const chosenHttpBackend = Effect.gen(function*() {
  const wanted = yield* Config.option(Config.literal("builtin", "system")("RUNNER_GIT_BACKEND")).pipe(
    Effect.mapError(() => "RUNNER_GIT_BACKEND must be builtin or system")
  )
  // Asked for the built-in client: no need to look for git at all.
  const version = Option.contains(wanted, "builtin") ? Option.none() : yield* probeGit
  const backend = yield* chooseHttpBackend(wanted, version)
  yield* Effect.logDebug(`git backend for http(s) remotes: ${backend}`)
  return backend
})

/** The service (`yield* GitRepo`), the same key as `GitRepoTag`, which the backends' layers provide. */
export class GitRepo extends GitRepoTag {
  /**
   * Needs a `CommandExecutor` (system git) and a `FileSystem` (the clone directory); isomorphic-git
   * itself works on `node:fs`. The backend for http(s) remotes is chosen once, at the first such
   * remote: `RUNNER_GIT_BACKEND=builtin|system`, by default system git when there is a usable one.
   */
  static readonly layer: Layer.Layer<GitRepo, never, CommandExecutor.CommandExecutor | FileSystem.FileSystem> =
    Layer.effect(
      GitRepo,
      Effect.gen(function*() {
        const context = yield* Effect.context<CommandExecutor.CommandExecutor | FileSystem.FileSystem>()
        const httpBackend = yield* Effect.cached(chosenHttpBackend.pipe(Effect.provide(context)))
        const open = Effect.fn("GitRepo.open")(function*(spec: RepoSpec, dir: string) {
          yield* Effect.annotateCurrentSpan({ repoId: spec.repoId, remote: stripUserinfo(spec.remote), dir })
          if (!isHttpRemote(spec.remote)) return yield* guardHostKeys(spec, SystemGit.open(spec, dir))
          const backend = yield* httpBackend.pipe(
            Effect.mapError((detail) => new GitError({ repoId: spec.repoId, operation: "clone", detail }))
          )
          if (backend === "system") return yield* SystemGit.open(spec, dir)
          // isomorphic-git is loaded only by the runners that use it.
          const IsoGit = yield* Effect.promise(() => import("./IsoGit.ts"))
          return yield* IsoGit.open(spec, dir)
        }, Effect.provide(context))
        return GitRepo.of({ open })
      })
    )
}
