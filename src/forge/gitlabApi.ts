/**
 * GitLab's REST v4 answers about merge requests, as far as the GitLab forge reads them: their
 * schemas (only the fields used) and what a status means for each operation.
 */
import { Either, Option, Schema } from "effect"
import { oneLine } from "../domain/foreignText.ts"
import { decodeJsonText } from "../json.ts"
import type { ForgeErrorReason, RequestState, ReviewRequest } from "./Forge.ts"

export const DEFAULT_GITLAB_API = "https://gitlab.com/api/v4"

/** A merge request as GitLab lists and returns it (`GET`/`POST /projects/:id/merge_requests`). */
export const MergeRequest = Schema.Struct({
  iid: Schema.Int,
  /** The target project; a request from a fork names another `source_project_id`. */
  project_id: Schema.Int,
  source_project_id: Schema.NullOr(Schema.Int),
  state: Schema.Literal("opened", "closed", "merged", "locked"),
  source_branch: Schema.String,
  target_branch: Schema.String,
  // Null while GitLab has not yet looked at the branch, and on some requests whose fork is gone.
  sha: Schema.optional(Schema.NullOr(Schema.String)),
  title: Schema.String,
  description: Schema.optional(Schema.NullOr(Schema.String)),
  web_url: Schema.String,
})
export type MergeRequest = typeof MergeRequest.Type

export const MergeRequests = Schema.Array(MergeRequest)

/** `locked` is GitLab's brief state while it merges: still open until it says merged. */
const stateOf: Record<MergeRequest["state"], RequestState> = { opened: "open", locked: "open", closed: "closed", merged: "merged" }

export const reviewRequestOf = (mr: MergeRequest): ReviewRequest => ({
  number: mr.iid,
  state: stateOf[mr.state],
  branch: mr.source_branch,
  base: mr.target_branch,
  headSha: mr.sha ?? "",
  title: mr.title,
  body: mr.description ?? "",
  url: mr.web_url,
})

/**
 * A request whose branch lives in this project. Anyone who can fork a public project can open a
 * merge request from a branch of the same name, or copy the runner's marker into its description:
 * such a request is not the runner's, and closing it unmerged must not decline a tag.
 */
export const fromThisProject = (mr: MergeRequest): boolean => mr.source_project_id === mr.project_id

const MAX_MESSAGE = 300

const ErrorBody = Schema.Struct({
  message: Schema.optional(Schema.Unknown),
  error: Schema.optional(Schema.Unknown),
})

/** GitLab's own words from `{"message": ...}` (a string, or field errors) or `{"error": ...}`, on one line and short. */
export const gitlabMessage = (body: string): Option.Option<string> =>
  Either.getRight(decodeJsonText(ErrorBody, body)).pipe(
    Option.flatMap((parsed) => Option.fromNullable(parsed.message ?? parsed.error)),
    Option.map((said) => (typeof said === "string" ? said : JSON.stringify(said))),
    Option.map((said) => {
      const line = oneLine(said)
      return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}...` : line
    }),
    Option.filter((said) => said !== ""),
  )

/** What a status other than 2xx means, whatever the operation; an operation may read some first (see gitlab.ts). */
export const reasonOfStatus = (status: number): ForgeErrorReason => {
  if (status === 401 || status === 403) return "Auth"
  if (status === 404) return "NotFound"
  if (status === 429) return "RateLimited"
  if (status >= 500) return "Server"
  if (status === 405 || status === 406 || status === 409 || status === 422) return "Refused"
  return "Protocol"
}

/** The `page` of a `Link` header's `rel="next"` URL: only its number is read, never where it points. */
const linkedPage = (link: string): string => {
  const next = link.split(",").find((part) => /;\s*rel="?next"?/.test(part))
  const url = next === undefined ? undefined : /<([^>]*)>/.exec(next)?.[1]
  if (url === undefined) return ""
  try {
    return new URL(url, "http://x").searchParams.get("page") ?? ""
  } catch {
    return ""
  }
}

/**
 * The next page GitLab names in `x-next-page` (empty on the last page), else in `Link`, if it moves
 * forward: a server that names the same page again ends the listing instead of looping.
 */
export const nextPage = (headers: Readonly<Record<string, string>>, current: number): Option.Option<number> => {
  const named = (headers["x-next-page"] ?? "").trim()
  const text = named === "" && headers["x-next-page"] === undefined ? linkedPage(headers["link"] ?? "") : named
  if (!/^\d{1,9}$/.test(text)) return Option.none()
  const next = Number(text)
  return next > current ? Option.some(next) : Option.none()
}
