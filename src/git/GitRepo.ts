import { Command, type CommandExecutor, FileSystem } from "@effect/platform"
import { Config, Context, Data, Duration, Effect, Either, Layer, Option, Redacted } from "effect"
import { openIsoGit } from "./isoGit.ts"
import { openSystemGit } from "./systemGit.ts"

export interface RepoSpec {
  readonly repoId: string
  /** https://host/org/repo.git (maybe with user:token@), git@host:org/repo.git, ssh://..., file:///path, /abs/path */
  readonly remote: string
  readonly branch: string
  /** https token/password (spec.git.passwordFile, or Piped's spec.git.password) */
  readonly password: Option.Option<Redacted.Redacted<string>>
  /** Who the password is for when the remote URL names nobody ("git" if unset). */
  readonly username: Option.Option<string>
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

/** A file directly under a directory, by name, with its blob id. */
export interface Listed {
  readonly name: string
  readonly oid: string
}

/** A file's content as UTF-8 text, with the id of its blob (which changes exactly when the content does). */
export interface Blob {
  readonly oid: string
  readonly text: string
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

/** A local clone of one branch, kept in a directory between passes. */
export interface Checkout {
  readonly repoId: string
  /** Fetches the remote branch and resets the local branch to it, dropping local commits that were never pushed. Returns the tip. */
  readonly sync: Effect.Effect<string, GitError>
  /** The commit the checkout is at now (the tip after sync, then each new commit). */
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
  /** Pushes head to the remote branch. Never forced: a non-fast-forward is `Rejected`, not an error. */
  readonly push: Effect.Effect<PushResult, GitError>
}

/** A commit author's name or email as git accepts it in an identity line: without `<`, `>` or newlines. */
export const identPart = (text: string): string => text.replace(/[<>\n]/g, "")

/** Bound on every operation that talks to the remote. */
const networkTimeout = Duration.minutes(2)

/** Bounds the operations that talk to `remote` (as it may be printed); past the bound they fail through `fail`. */
export const networkBound =
  (remote: string, fail: (operation: GitError["operation"], detail: string) => GitError) =>
  <A, R>(operation: GitError["operation"], effect: Effect.Effect<A, GitError, R>): Effect.Effect<A, GitError, R> =>
    Effect.timeoutFail(effect, {
      duration: networkTimeout,
      onTimeout: () => fail(operation, `no answer from ${remote} within 2 minutes`)
    })

/** Only http(s) remotes have a choice of backend: isomorphic-git speaks nothing else. */
export const isHttpRemote = (remote: string): boolean => /^https?:\/\//i.test(remote)

/** The backend for http(s) remotes: isomorphic-git (built in) or the system `git`. */
export type HttpBackend = "builtin" | "system"

/** The oldest system git used over http(s): credentials go through `GIT_CONFIG_COUNT` (2.31). */
export const MINIMUM_GIT: readonly [number, number] = [2, 31]

/** Major and minor of `git --version` output ("git version 2.39.5"). */
export const parseGitVersion = (output: string): Option.Option<readonly [number, number]> => {
  const match = /^git version (\d+)\.(\d+)/.exec(output.trim())
  return match?.[1] === undefined || match[2] === undefined
    ? Option.none()
    : Option.some([Number(match[1]), Number(match[2])] as const)
}

/**
 * System git when it is recent enough (it clones, fetches and writes commits several times faster),
 * else the built-in client, which the compiled binary always has. `wanted` is `RUNNER_GIT_BACKEND`.
 */
export const chooseHttpBackend = (
  wanted: Option.Option<HttpBackend>,
  version: Option.Option<readonly [number, number]>
): Either.Either<HttpBackend, string> => {
  const usable = Option.exists(
    version,
    ([major, minor]) => major > MINIMUM_GIT[0] || (major === MINIMUM_GIT[0] && minor >= MINIMUM_GIT[1])
  )
  if (Option.isSome(wanted) && wanted.value === "builtin") return Either.right("builtin")
  if (usable) return Either.right("system")
  if (Option.isNone(wanted)) return Either.right("builtin")
  const found = Option.match(version, { onNone: () => "none was found", onSome: ([a, b]) => `found ${a}.${b}` })
  return Either.left(`RUNNER_GIT_BACKEND=system needs git ${MINIMUM_GIT.join(".")} or newer on PATH; ${found}`)
}

/** `git --version` of the system git, None when there is none that runs. */
const probeGit: Effect.Effect<Option.Option<readonly [number, number]>, never, CommandExecutor.CommandExecutor> =
  Command.string(Command.make("git", "--version")).pipe(
    Effect.timeout(Duration.seconds(10)),
    Effect.map(parseGitVersion),
    Effect.orElseSucceed(() => Option.none())
  )

/** The `user[:password]` of a URL, split but still percent-encoded; undefined when it has none. */
const userinfoOf = (remote: string): { readonly user: string; readonly password?: string } | undefined => {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(remote)?.[1]
  if (userinfo === undefined) return undefined
  const colon = userinfo.indexOf(":")
  return colon === -1 ? { user: userinfo } : { user: userinfo.slice(0, colon), password: userinfo.slice(colon + 1) }
}

/** Percent-decoding that leaves a malformed escape as it is. */
const percentDecode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * Username and password for http(s): URL userinfo first, then the password file; "git" when only
 * a password is known. None for other remotes, whose credentials are ssh's.
 */
export const credentialsOf = (
  spec: RepoSpec
): Option.Option<{ readonly username: string; readonly password: string }> => {
  if (!isHttpRemote(spec.remote)) return Option.none()
  const userinfo = userinfoOf(spec.remote)
  const urlUser = percentDecode(userinfo?.user ?? "")
  const urlPassword = percentDecode(userinfo?.password ?? "")
  const password = urlPassword !== ""
    ? urlPassword
    : Option.match(spec.password, { onNone: () => "", onSome: Redacted.value })
  if (password === "" && urlUser === "") return Option.none()
  return Option.some({ username: urlUser !== "" ? urlUser : Option.getOrElse(spec.username, () => "git"), password })
}

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

/** Every secret a remote spec carries: the password and the URL's password (decoded and raw). */
export const secretsOf = (spec: RepoSpec): ReadonlyArray<string> => {
  const secrets: Array<string> = []
  if (Option.isSome(spec.password)) secrets.push(Redacted.value(spec.password.value))
  const raw = userinfoOf(spec.remote)?.password
  if (raw !== undefined) secrets.push(raw, percentDecode(raw))
  return secrets
}

/** Rejections that mean "the remote moved on" (fetch, rebuild and try again), as opposed to a refusal. */
export const isRaceRejection = (text: string): boolean =>
  /non-fast-forward|fetch first|stale info|cannot lock ref|incorrect old value|failed to lock/i.test(text)

/**
 * A tree path normalised ("" is the root), or None if it could leave the tree, or holds a line
 * break or NUL (git's batch commands take one path per line).
 */
export const validPath = (path: string): Option.Option<string> => {
  const trimmed = path.replace(/^\.\//, "").replace(/\/+$/, "")
  if (trimmed === "" || trimmed === ".") return Option.some("")
  if (/[\n\r\0]/.test(trimmed)) return Option.none()
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
   * Needs a `CommandExecutor` (system git) and a `FileSystem` (the clone directory); isomorphic-git
   * itself works on `node:fs`. The backend for http(s) remotes is chosen once, at the first such
   * remote: `RUNNER_GIT_BACKEND=builtin|system`, by default system git when there is a usable one.
   */
  static readonly layer: Layer.Layer<GitRepo, never, CommandExecutor.CommandExecutor | FileSystem.FileSystem> =
    Layer.effect(
      GitRepo,
      Effect.gen(function*() {
        const context = yield* Effect.context<CommandExecutor.CommandExecutor | FileSystem.FileSystem>()
        const httpBackend = yield* Effect.cached(
          Effect.gen(function*() {
            const wanted = yield* Config.option(Config.literal("builtin", "system")("RUNNER_GIT_BACKEND")).pipe(
              Effect.mapError(() => "RUNNER_GIT_BACKEND must be builtin or system")
            )
            // Asked for the built-in client: no need to look for git at all.
            const version = Option.contains(wanted, "builtin") ? Option.none() : yield* probeGit
            const backend = yield* chooseHttpBackend(wanted, version)
            yield* Effect.logDebug(`git backend for http(s) remotes: ${backend}`)
            return backend
          }).pipe(Effect.provide(context))
        )
        const open = Effect.fn("GitRepo.open")(function*(spec: RepoSpec, dir: string) {
          yield* Effect.annotateCurrentSpan({ repoId: spec.repoId, remote: stripUserinfo(spec.remote), dir })
          if (!isHttpRemote(spec.remote)) return yield* openSystemGit(spec, dir)
          const backend = yield* httpBackend.pipe(
            Effect.mapError((detail) => new GitError({ repoId: spec.repoId, operation: "clone", detail }))
          )
          return backend === "builtin" ? yield* openIsoGit(spec, dir) : yield* openSystemGit(spec, dir)
        }, Effect.provide(context))
        return GitRepo.of({ open })
      })
    )
}
