import type { CommandExecutor } from "@effect/platform"
import { FileSystem } from "@effect/platform"
import { Context, Data, Duration, Effect, Layer, Option, Redacted } from "effect"
import { openIsoGit } from "./isoGit.ts"
import { openSystemGit } from "./systemGit.ts"

export interface RepoSpec {
  readonly repoId: string
  /** https://host/org/repo.git (maybe with user:token@), git@host:org/repo.git, ssh://..., file:///path, /abs/path */
  readonly remote: string
  readonly branch: string
  /** https token/password (spec.git.passwordFile) */
  readonly password: Option.Option<Redacted.Redacted<string>>
  /** ssh private key (spec.git.sshKeyFile) */
  readonly sshKeyFile: Option.Option<string>
}

export interface Author {
  readonly name: string
  readonly email: string
}

export class GitError extends Data.TaggedError("GitError")<{
  readonly repoId: string
  readonly operation: "clone" | "fetch" | "read" | "commit" | "push"
  /** Never holds credentials: built with `scrub`. */
  readonly detail: string
}> {
  override get message() {
    return `git ${this.operation} of repository "${this.repoId}" failed: ${this.detail}`
  }
}

export type PushResult = { readonly _tag: "Pushed" } | { readonly _tag: "Rejected"; readonly reason: string }

export interface FileChange {
  readonly path: string
  readonly content: string
}

/** A local clone of one branch, kept in a directory between passes. */
export interface Checkout {
  readonly repoId: string
  /** Fetches the remote branch and resets the local branch to it, dropping local commits that were never pushed. Returns the tip. */
  readonly sync: Effect.Effect<string, GitError>
  /** The commit the checkout is at now (the tip after sync, then each new commit). */
  readonly head: Effect.Effect<string>
  /** UTF-8 content of the file at head; None if there is no such file. */
  readonly readFile: (path: string) => Effect.Effect<Option.Option<string>, GitError>
  /** Names of the files directly under `dir` at head; [] if there is no such directory. */
  readonly listFiles: (dir: string) => Effect.Effect<ReadonlyArray<string>, GitError>
  /** A new commit on top of head with these files changed; head advances to it. */
  readonly commit: (input: {
    readonly files: ReadonlyArray<FileChange>
    readonly message: string
    readonly author: Author
  }) => Effect.Effect<string, GitError>
  /** Pushes head to the remote branch. Never forced: a non-fast-forward is `Rejected`, not an error. */
  readonly push: Effect.Effect<PushResult, GitError>
}

/** Bound on every operation that talks to the remote. */
export const networkTimeout = Duration.minutes(2)

/** isomorphic-git speaks only http(s); everything else goes to the system `git`. */
export const backendFor = (remote: string): "isomorphic-git" | "system-git" =>
  /^https?:\/\//i.test(remote) ? "isomorphic-git" : "system-git"

/** The URL with any `user:password@` removed, safe to print. */
export const stripUserinfo = (remote: string): string => remote.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1")

/** Removes URL credentials and the given secret values from text that may reach a user. */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@'"]*@/gi, "$1")
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("***")
  }
  return out
}

/** Every secret a remote spec carries: the password and the URL userinfo parts (decoded and raw). */
export const secretsOf = (spec: RepoSpec): ReadonlyArray<string> => {
  const secrets: Array<string> = []
  if (Option.isSome(spec.password)) secrets.push(Redacted.value(spec.password.value))
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(spec.remote)?.[1]
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":")
    if (colon !== -1) {
      const raw = userinfo.slice(colon + 1)
      secrets.push(raw)
      try {
        secrets.push(decodeURIComponent(raw))
      } catch {
        // A malformed escape is still covered by the raw form.
      }
    }
  }
  return secrets
}

/** Rejections that mean "the remote moved on" (fetch, rebuild and try again), as opposed to a refusal. */
export const isRaceRejection = (text: string): boolean =>
  /non-fast-forward|fetch first|stale info|cannot lock ref|incorrect old value|failed to lock/i.test(text)

/** A tree path normalised ("" is the root), or None if it could leave the tree. */
export const validPath = (path: string): Option.Option<string> => {
  const trimmed = path.replace(/^\.\//, "").replace(/\/+$/, "")
  if (trimmed === "" || trimmed === ".") return Option.some("")
  const parts = trimmed.split("/")
  return parts.some((part) => part === "" || part === "." || part === "..") ? Option.none() : Option.some(trimmed)
}

export class GitRepo extends Context.Tag("GitRepo")<
  GitRepo,
  {
    /** Clones into `dir` (or reuses the clone already there, fetching), then syncs. */
    readonly open: (spec: RepoSpec, dir: string) => Effect.Effect<Checkout, GitError>
  }
>() {
  /**
   * Needs a `CommandExecutor` (system git for ssh/file remotes) and a `FileSystem` (the clone directory);
   * isomorphic-git itself works on `node:fs`.
   */
  static readonly layer: Layer.Layer<GitRepo, never, CommandExecutor.CommandExecutor | FileSystem.FileSystem> =
    Layer.effect(
      GitRepo,
      Effect.gen(function*() {
        const context = yield* Effect.context<CommandExecutor.CommandExecutor | FileSystem.FileSystem>()
        const open = Effect.fn("GitRepo.open")(function*(spec: RepoSpec, dir: string) {
          yield* Effect.annotateCurrentSpan({ repoId: spec.repoId, remote: stripUserinfo(spec.remote), dir })
          return backendFor(spec.remote) === "isomorphic-git"
            ? yield* openIsoGit(spec, dir)
            : yield* openSystemGit(spec, dir)
        }, Effect.provide(context))
        return GitRepo.of({ open })
      })
    )
}
