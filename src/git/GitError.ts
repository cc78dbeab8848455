import { Data } from "effect"

/**
 * A failed git operation. In a module of its own so that the backends raise it without importing
 * the service module, which imports them to route between them.
 */
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
