import { Data } from "effect"
import type { GitErrorKind } from "../domain/failures.ts"

export type { GitErrorKind } from "../domain/failures.ts"

/**
 * A failed git operation. In a module of its own so that the backends raise it without importing
 * the service module, which imports them to route between them.
 */
export class GitError extends Data.TaggedError("GitError")<{
  readonly repoId: string
  readonly operation: "clone" | "fetch" | "read" | "commit" | "push"
  /** What went wrong, as the backend knows it: what metrics and retries go by, never the text. */
  readonly kind: GitErrorKind
  /** Never holds credentials: built with `scrub`. */
  readonly detail: string
}> {
  override get message() {
    return `git ${this.operation} of repository "${this.repoId}" failed: ${this.detail}`
  }
}

/** How a backend makes its errors: the kind it knows, and the words a user reads. */
export type FailWith = (operation: GitError["operation"], kind: GitErrorKind, detail: string) => GitError
