import { Duration, Effect, Either, Encoding, Option, Redacted } from "effect"
import { repoPathParts } from "../domain/repoPath.ts"
import type { FailWith, GitError, GitErrorKind } from "./GitError.ts"
import type { CommitInput, RepoSpec } from "./repoTypes.ts"

/** The name both backends give the remote of their clones. */
export const REMOTE = "origin"

/** A commit author's name or email as git accepts it in an identity line: without `<`, `>` or newlines. */
export const identPart = (text: string): string => text.replace(/[<>\n]/g, "")

/** Bound on every operation that talks to the remote. */
const networkTimeout = Duration.minutes(2)

/** Bounds the operations that talk to `remote` (as it may be printed); past the bound they fail through `fail`. */
export const networkBound =
  (remote: string, fail: FailWith) =>
  <A, R>(operation: GitError["operation"], effect: Effect.Effect<A, GitError, R>): Effect.Effect<A, GitError, R> =>
    Effect.timeoutFail(effect, {
      duration: networkTimeout,
      onTimeout: () => fail(operation, "network", `no answer from ${remote} within 2 minutes`)
    })

/** Only http(s) remotes have a choice of backend: isomorphic-git speaks nothing else. */
export const isHttpRemote = (remote: string): boolean => /^https?:\/\//i.test(remote)

/**
 * Remotes git reaches through ssh: `ssh://` (or git's other spellings of it) and the scp-like
 * `[user@]host:path`, a colon before any slash, as git tells them from local paths.
 */
export const isSshRemote = (remote: string): boolean =>
  /^(ssh|git\+ssh|ssh\+git):\/\//i.test(remote) ||
  (!/^[a-z][a-z0-9+.-]*:\/\//i.test(remote) && !/^[a-z][a-z0-9+.-]*::/i.test(remote) && /^[^/]+:/.test(remote))

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
 * Username and password for http(s): URL userinfo first, then the password (file or inline) for
 * `spec.git.username` (Piped's "piped" when the config names nobody), "git" when the spec has no
 * username at all. None for other remotes, whose credentials are ssh's.
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

/** The `Authorization: Basic` value both backends send for these credentials. */
export const basicAuthOf = (credentials: { readonly username: string; readonly password: string }): string =>
  Encoding.encodeBase64(`${credentials.username}:${credentials.password}`)

/**
 * Every secret a remote spec carries: the password, the URL's password (decoded and raw), and the
 * base64 `user:password` a server may echo back from the Authorization header.
 */
export const secretsOf = (spec: RepoSpec): ReadonlyArray<string> => {
  const secrets: Array<string> = []
  if (Option.isSome(spec.password)) secrets.push(Redacted.value(spec.password.value))
  const raw = userinfoOf(spec.remote)?.password
  if (raw !== undefined) secrets.push(raw, percentDecode(raw))
  for (const credentials of Option.toArray(credentialsOf(spec))) {
    const basic = basicAuthOf(credentials)
    // Unpadded too: a server may print the value without its trailing "=".
    secrets.push(basic, basic.replace(/=+$/, ""))
  }
  return secrets
}

/**
 * Rejections that mean "the remote moved on" (fetch, rebuild and try again), as opposed to a refusal.
 * "failed to update ref" is what receive-pack reports when the ref moved between its advertisement
 * and the update (the "cannot lock ref ... but expected" behind it reaches only system git's stderr).
 */
export const isRaceRejection = (text: string): boolean =>
  /non-fast-forward|fetch first|stale info|cannot lock ref|incorrect old value|failed to lock|failed to update ref/i.test(text)

/** Whether git's or isomorphic-git's words are those of a refused login. */
const isAuthRefusal = (text: string): boolean =>
  /could not read (username|password)|authentication failed|HTTP Error: 401|returned error: 401/i.test(text)

/**
 * What kind of failure system git (or the ssh it runs) reported, read from its own output (in the
 * C locale) where the error is made; what no rule knows is `other`. The order matters: ssh's
 * refusals end in the same "Could not read from remote repository" as a dropped connection.
 */
export const kindOfGitOutput = (output: string): GitErrorKind =>
  isAuthRefusal(output) || /returned error: 403|Permission denied \((publickey|password|keyboard-interactive)/i.test(output) ? "auth"
  : /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for/i.test(output) ? "hostKey"
  : /returned error: 404|repository '[^']*' not found|does not appear to be a git repository|couldn't find remote ref/i.test(output) ? "notFound"
  : /\[remote rejected\]|hook declined|protected branch|remote error:/i.test(output) ? "rejected"
  : isRaceRejection(output) ? "race"
  : /could not resolve (host|proxy)|connection (refused|reset|timed out)|operation timed out|returned error: (429|5\d\d)|remote end hung up|early EOF|network is unreachable|no route to host|unable to access|Could not read from remote repository/i.test(output) ? "network"
  : /corrupt|bad object|missing (blob|tree|commit) object|unable to read [0-9a-f]{40}/i.test(output) ? "corrupt"
  : "other"

/**
 * A refused login, as either backend words it (system git asks for a username it may not prompt
 * for when the server refuses the one it sent), said as what it is; None for any other failure.
 */
export const authFailureOf = (text: string, remote: string, spec: RepoSpec): Option.Option<string> => {
  if (!isAuthRefusal(text)) return Option.none()
  return Option.some(
    Option.isSome(credentialsOf(spec))
      ? `authentication failed for ${remote} (check spec.git.passwordFile / the token)`
      : `${remote} asks for credentials and none are configured (set spec.git.passwordFile)`
  )
}

/** A server's pkt-line `ERR` answer (git's way to refuse a request), the text after `ERR`; None without one. */
export const serverErrOf = (text: string): Option.Option<string> =>
  Option.fromNullable(/(?:^|[^A-Za-z])ERR ([^\n"]*)/.exec(text)?.[1]?.trim())

/** A tree path normalised ("" is the root), or None when `repoPathParts` refuses it. */
export const validPath = (path: string): Option.Option<string> =>
  Either.match(repoPathParts(path), { onLeft: () => Option.none(), onRight: (parts) => Option.some(parts.join("/")) })

/** A file's path in the tree, normalised; None for the root and for what `repoPathParts` refuses. */
export const validFilePath = (path: string): Option.Option<string> => Option.filter(validPath(path), (p) => p !== "")

/** Every path of `paths` as `validFilePath` gives it, or the first one that names no file. */
export const validFilePaths = (paths: ReadonlyArray<string>): Either.Either<ReadonlyArray<string>, string> => {
  const valid: Array<string> = []
  for (const path of paths) {
    const filepath = validFilePath(path)
    if (Option.isNone(filepath)) return Either.left(path)
    valid.push(filepath.value)
  }
  return Either.right(valid)
}

/** One commit of a batch, its paths checked and normalised with `validFilePath`. */
export interface Staged {
  readonly input: CommitInput
  readonly changes: ReadonlyArray<{ readonly path: string; readonly content: string }>
}

/** The batch with its file paths normalised, or the first path that names no file in the tree. */
export const stageBatch = (inputs: ReadonlyArray<CommitInput>): Either.Either<ReadonlyArray<Staged>, string> => {
  const batch: Array<Staged> = []
  for (const input of inputs) {
    const changes: Array<{ path: string; content: string }> = []
    for (const change of input.files) {
      const path = validFilePath(change.path)
      if (Option.isNone(path)) return Either.left(change.path)
      changes.push({ path: path.value, content: change.content })
    }
    batch.push({ input, changes })
  }
  return Either.right(batch)
}
