import { Effect } from "effect"
import type { Author, Checkout, GitError } from "../git/GitRepo.ts"
import type { Change } from "./patch.ts"

/** `commitMessage` of the repository's options when set; otherwise the message PipeCD's watcher wrote. */
export const commitMessage = (custom: string | undefined, c: Change): string =>
  custom !== undefined && custom !== ""
    ? custom
    : `Update ${c.plan.oldImage} in ${c.prepared.target.filePath} to ${c.plan.newValue}`

/**
 * The commit stage: one commit per changed target, one on top of the other, in the order the
 * patch stage made them. Not interruptible: a daemon told to stop must not leave a ref or a lock
 * file half written.
 */
export const commitChanges = (
  checkout: Checkout,
  changes: ReadonlyArray<Change>,
  author: Author,
  custom: string | undefined
): Effect.Effect<ReadonlyArray<string>, GitError> =>
  Effect.uninterruptible(checkout.commitAll(changes.map((c) => ({ files: [c.change], message: commitMessage(custom, c), author }))))
