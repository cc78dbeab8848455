import { Duration, Effect } from "effect"
import type { FailWith, GitError } from "./GitError.ts"

/** The name both backends give the remote of their clones. */
export const REMOTE = "origin"

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
