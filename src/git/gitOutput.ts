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

// Lines git prints around a failure that say nothing of it (prefixes already gone): advice,
// progress, the frame of a push.
const noise: ReadonlyArray<RegExp> = [
  /^hint:/i,
  /^Please make sure you have the correct access rights$/i,
  /^and the repository exists\.?$/i,
  /^To \S+$/,
  /^Done$/,
  /^(remote: )?(Enumerating|Counting|Compressing|Writing|Receiving|Resolving|Total|Delta compression|Unpacking|Processing)\b/i,
  /^failed to push some refs to /i,
  /^remote:$/
]

/** A porcelain ref line, `!<TAB>src:dst<TAB>[remote rejected] (why)`, as `dst [remote rejected] (why)`. */
const refLine = (line: string): string => line.replace(/^[!=*+ -]\t\S*?:(\S+)\t/, "$1 ")

const sshRefusal = /REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for|No user exists for uid/

/** Said when git cannot talk to the remote at all; a line that says why is worth more. */
const generic = /^Could not read from remote repository\.?$/i

/**
 * git's output cut to the lines that say what went wrong, on one line ("; " between them): no
 * advice, progress or carriage returns, no `fatal: `/`error: ` prefixes, each line once, at most
 * `max` of them.
 */
export const gitOutputLines = (output: string, max = 4): string => {
  // ssh's refusals of a host key or a user span lines that guardHostKeys reads whole, then says in one sentence.
  if (sshRefusal.test(output)) return output.trim()
  const lines = output
    .split(/\r\n|\r|\n/)
    .map((line) => refLine(line.trim()).replace(/\s+/g, " ").replace(/^(fatal|error): /i, ""))
    .filter((line) => line !== "" && !noise.some((pattern) => pattern.test(line)))
  const unique = [...new Set(lines)]
  const said = unique.some((line) => !generic.test(line)) ? unique.filter((line) => !generic.test(line)) : unique
  return said.length > max ? [...said.slice(0, max), `(${said.length - max} more lines)`].join("; ") : said.join("; ")
}
