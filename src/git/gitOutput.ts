import { Option } from "effect"
import type { GitErrorKind } from "./GitError.ts"
import { credentialsOf } from "./remoteCredentials.ts"
import type { RepoSpec } from "./repoTypes.ts"

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
