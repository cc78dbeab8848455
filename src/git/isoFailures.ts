import { Option } from "effect"
import { Errors } from "isomorphic-git"
import { messageOf } from "../domain/foreignText.ts"
import type { GitErrorKind } from "./GitError.ts"
import { PackTooLarge, tooLargeMessage, tooLargeText } from "./isoPackLimit.ts"
import { authFailureOf, serverErrOf } from "./gitOutput.ts"
import type { RepoSpec } from "./repoTypes.ts"

/**
 * What isomorphic-git threw, in words. It refuses to parse any tree that holds a name with a
 * backslash, and its push walks every tree of what it sends: one such file, which anyone who can
 * push may commit, stops this client from reading or pushing the repository, and only the system
 * git backend can work with it.
 */
export const isoMessage = (error: unknown): string =>
  error instanceof Errors.UnsafeFilepathError
    ? `the repository holds a file named ${JSON.stringify(error.data.filepath)}, which the built-in git client refuses to read or push: use the system git backend (RUNNER_GIT_BACKEND=system, git 2.31 or newer)`
    : messageOf(error)

/** The codes fetch gives a connection that could not be made or was lost (Bun and Node name them alike). */
const networkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ConnectionRefused", "ConnectionClosed"])

const codeOf = (error: unknown): unknown => (typeof error === "object" && error !== null && "code" in error ? error.code : undefined)

/** The kind of what isomorphic-git (or the fetch under it) threw, from its class, status or code; `fallback` when none says. */
export const isoKindOf = (error: unknown, fallback: GitErrorKind = "other"): GitErrorKind => {
  if (error instanceof PackTooLarge || error instanceof Errors.UnsafeFilepathError) return "config"
  if (error instanceof Errors.HttpError) {
    const status = error.data.statusCode
    return status === 401 || status === 403 ? "auth" : status === 404 ? "notFound" : status === 429 || status >= 500 ? "network" : fallback
  }
  if (error instanceof Errors.GitPushError || error instanceof Errors.PushRejectedError) return "rejected"
  if (error instanceof Errors.NotFoundError) return "notFound"
  const code = codeOf(error)
  if (typeof code === "string" && networkCodes.has(code)) return "network"
  // A web fetch fails with a TypeError when no answer came at all.
  return error instanceof TypeError ? "network" : fallback
}

/** What isomorphic-git threw at a remote operation: its kind, and the words a user reads (a refused login said as such). */
export const isoFailureOf = (error: unknown, url: string, spec: RepoSpec): { readonly kind: GitErrorKind; readonly detail: string } => {
  const auth = authFailureOf(messageOf(error), url, spec)
  if (Option.isSome(auth)) return { kind: "auth", detail: auth.value }
  // A server's refusal as it worded it, without the protocol parser's framing (which may quote our request).
  const refused = serverErrOf(messageOf(error))
  if (Option.isSome(refused)) return { kind: "rejected", detail: `${url} refused the request: ${refused.value}` }
  const kind = isoKindOf(error)
  if (error instanceof Errors.HttpError) return { kind, detail: `${error.message} from ${url}` }
  if (error instanceof Errors.UnsafeFilepathError) return { kind, detail: isoMessage(error) }
  if (error instanceof PackTooLarge) return { kind, detail: tooLargeMessage(spec.repoId, tooLargeText(error)) }
  if (error instanceof Error) return { kind, detail: `${error.message} (${url})` }
  return { kind, detail: `${String(error)} (${url})` }
}
