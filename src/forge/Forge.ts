import { Data, type Effect } from "effect"
import { scrubSecrets } from "../domain/foreignText.ts"
import type { RegistryErrorReason } from "../domain/RegistryError.ts"

/**
 * The API of a code host that takes pull requests (GitHub, Gitea and Forgejo) or merge requests
 * (GitLab), as far as write-back needs it. The git side (branches, commits, pushes) stays git's:
 * this is only the conversation about a branch.
 */

export type RequestState = "open" | "closed" | "merged"

/** A pull or merge request, in the terms both hosts share. */
export interface ReviewRequest {
  /** GitHub's pull number, GitLab's `iid`: what people write after `#` or `!`. */
  readonly number: number
  readonly state: RequestState
  /** The branch it proposes (GitHub's `head.ref`, GitLab's `source_branch`). */
  readonly branch: string
  /** The branch it targets. */
  readonly base: string
  /** The commit at the tip of `branch` as the host last saw it. */
  readonly headSha: string
  readonly title: string
  readonly body: string
  /** The page people open. */
  readonly url: string
}

export interface NewRequest {
  readonly branch: string
  readonly base: string
  readonly title: string
  readonly body: string
  readonly labels: ReadonlyArray<string>
}

/** `Config`: the operator's settings of the forge cannot work (an apiURL that is not http(s), a repository path of the wrong shape); nothing was sent. */
export type ForgeErrorReason = "Auth" | "NotFound" | "RateLimited" | "Transport" | "Server" | "Protocol" | "Refused" | "Config"

interface ForgeErrorFields {
  readonly reason: ForgeErrorReason
  /** `github` or `gitlab`. */
  readonly provider: string
  /** The repository as the host names it: `org/config`, or GitLab's `group/sub/project`. */
  readonly repository: string
  /** What was being done: `open request`, `close #12`... */
  readonly operation: string
  readonly status?: number
  readonly detail: string
}

/** A failure of the host's API. Its detail may quote the host: it is scrubbed of the token and of anything shaped like one. */
export class ForgeError extends Data.TaggedError("ForgeError")<ForgeErrorFields> {
  constructor(fields: ForgeErrorFields, secrets: Iterable<string> = []) {
    super({ ...fields, detail: scrubSecrets(fields.detail, secrets) })
  }

  override get message(): string {
    const status = this.status === undefined ? "" : ` (${this.status})`
    return `${this.provider} ${this.repository}: ${this.operation}: ${this.reason}${status}: ${this.detail}`
  }
}

/**
 * A failure of the HTTP stack (RegistryHttp) in Forge's terms. Its Config (a request not sent: a
 * link-local address nobody named) and Limit (over the operator's limit) are refusals.
 */
export const forgeReasonOf = (reason: RegistryErrorReason): ForgeErrorReason => (reason === "Config" || reason === "Limit" ? "Refused" : reason)

/** One repository on one host, with the operator's token. */
export interface Forge {
  /** Opens a request with its labels; fails with reason Refused when the host will not (a request for that branch already open). */
  readonly open: (request: NewRequest) => Effect.Effect<ReviewRequest, ForgeError>
  /** The runner's open requests: those open against `base` whose body contains `marker`. */
  readonly openRequests: (base: string, marker: string) => Effect.Effect<ReadonlyArray<ReviewRequest>, ForgeError>
  /** Every request (any state) proposing `branch`, newest first. */
  readonly requestsFor: (branch: string) => Effect.Effect<ReadonlyArray<ReviewRequest>, ForgeError>
  /** Closes an open request, after leaving `comment` on it. */
  readonly close: (number: number, comment: string) => Effect.Effect<void, ForgeError>
  /** Asks the host to merge when its checks pass (GitHub auto-merge, GitLab "merge when pipeline succeeds"). */
  readonly autoMerge: (request: ReviewRequest) => Effect.Effect<void, ForgeError>
  /** Deletes a branch on the host; a branch already gone is not a failure. */
  readonly deleteBranch: (branch: string) => Effect.Effect<void, ForgeError>
}
