import { Effect, Either } from "effect"
import type { CommitGrouping } from "../config/model.ts"
import { parseTemplate, renderTemplate, type Template } from "../domain/messageTemplate.ts"
import type { Author, Checkout, FileChange, GitError } from "../git/GitRepo.ts"
import type { Change } from "./patch.ts"
import { messageValues } from "./plan.ts"

/** One commit the commit stage writes: its files (whole), its message, and which changes it holds. */
export interface PlannedCommit {
  readonly files: ReadonlyArray<FileChange>
  readonly message: string
  /** Indexes into the pass's changes. */
  readonly changes: ReadonlyArray<number>
}

/** One change's line: the repository's template rendered, or the message PipeCD's watcher wrote. */
const changeLine = (template: Template | undefined, repoId: string, c: Change): string =>
  template === undefined
    ? `Update ${c.plan.oldImage} in ${c.prepared.target.filePath} to ${c.plan.newValue}`
    : renderTemplate(template, messageValues(c.plan, c.prepared.target, repoId))

/** The last content of each file the changes write, in the order the files were first changed. */
const finalFiles = (changes: ReadonlyArray<Change>): ReadonlyArray<FileChange> => {
  const byPath = new Map<string, FileChange>()
  for (const c of changes) byPath.set(c.change.path, c.change)
  return [...byPath.values()]
}

/**
 * The commits a pass's changes make: one per target (each change its own commit, its line the
 * message), one per file, or one for the pass. A commit of several changes has a subject that
 * counts them and lists each change's line after it.
 */
export const planCommits = (
  changes: ReadonlyArray<Change>,
  options: { readonly repoId: string; readonly template: string | undefined; readonly group: CommitGrouping | undefined }
): ReadonlyArray<PlannedCommit> => {
  // The config loader refused templates that do not parse.
  const template = options.template === undefined || options.template === "" ? undefined : Either.getOrUndefined(parseTemplate(options.template))
  const line = (i: number) => changeLine(template, options.repoId, changes[i] as Change)
  const commitOf = (indexes: ReadonlyArray<number>, where: string): PlannedCommit => ({
    files: finalFiles(indexes.map((i) => changes[i] as Change)),
    message: indexes.length === 1 ? line(indexes[0] ?? 0) : `Update ${indexes.length} images in ${where}\n\n${indexes.map(line).join("\n")}`,
    changes: indexes
  })
  const all = changes.map((_, i) => i)
  switch (options.group ?? "target") {
    case "target":
      return all.map((i) => commitOf([i], ""))
    case "pass":
      return all.length === 0 ? [] : [commitOf(all, options.repoId)]
    case "file": {
      const byFile = new Map<string, Array<number>>()
      for (const i of all) {
        const path = changes[i]?.change.path ?? ""
        byFile.set(path, [...(byFile.get(path) ?? []), i])
      }
      return [...byFile].map(([path, indexes]) => commitOf(indexes, path))
    }
  }
}

/**
 * The commit stage: the planned commits one on top of the other. Not interruptible: a daemon told
 * to stop must not leave a ref or a lock file half written.
 */
export const commitChanges = (
  checkout: Checkout,
  commits: ReadonlyArray<PlannedCommit>,
  author: Author
): Effect.Effect<ReadonlyArray<string>, GitError> =>
  Effect.uninterruptible(checkout.commitAll(commits.map((c) => ({ files: c.files, message: c.message, author }))))
