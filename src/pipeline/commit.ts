import { Effect, Either } from "effect"
import type { CommitGrouping } from "../config/model.ts"
import { parseTemplate, renderTemplate, type Template } from "../domain/messageTemplate.ts"
import type { Author, Checkout, FileChange, GitError } from "../git/GitRepo.ts"
import type { Update } from "./decide.ts"
import type { Written } from "./patch.ts"
import { messageValues } from "./plan.ts"

/** One commit the commit stage writes: its files (whole), its message, and which changes it holds. */
export interface PlannedCommit {
  readonly files: ReadonlyArray<FileChange>
  readonly message: string
  /** The updates it writes. */
  readonly changes: ReadonlyArray<Written>
}

/** The new tag's digest looked up for a change whose field pins none, for `{{digest}}`. */
export type DigestOf = (update: Update) => string | undefined

/**
 * One change's line: the repository's template rendered, or the message PipeCD's watcher wrote;
 * a chart's names the chart, not the image name its versions are listed under.
 */
const changeLine = (template: Template | undefined, repoId: string, digestOf: DigestOf, { decision }: Written): string => {
  const { plan, origin } = decision
  if (template !== undefined) return renderTemplate(template, messageValues(plan, origin.target, repoId, digestOf(decision)))
  return origin.target.chart === undefined
    ? `Update ${plan.oldImage} in ${origin.target.filePath} to ${plan.newValue}`
    : `Update chart ${origin.target.chart} ${plan.oldTag} in ${origin.target.filePath} to ${plan.newValue}`
}

/** The last content of each file the changes write, in the order the files were first changed. */
const finalFiles = (changes: ReadonlyArray<Written>): ReadonlyArray<FileChange> => {
  const byPath = new Map<string, FileChange>()
  for (const c of changes) byPath.set(c.change.path, c.change)
  return [...byPath.values()]
}

export interface CommitOptions {
  readonly repoId: string
  readonly template: string | undefined
  readonly group: CommitGrouping | undefined
  readonly digestOf?: DigestOf
}

/**
 * The commits a pass's changes make: one per target (each change its own commit, its line the
 * message), one per file, or one for the pass. A commit of several changes has a subject that
 * counts them and lists each change's line after it.
 */
export const planCommits = (
  changes: ReadonlyArray<Written>,
  options: CommitOptions
): ReadonlyArray<PlannedCommit> => {
  // The config loader refused templates that do not parse.
  const template = options.template === undefined || options.template === "" ? undefined : Either.getOrUndefined(parseTemplate(options.template))
  const line = (c: Written) => changeLine(template, options.repoId, options.digestOf ?? (() => undefined), c)
  const commitOf = (group: ReadonlyArray<Written>, where: string): PlannedCommit => ({
    files: finalFiles(group),
    message: group.length === 1 && group[0] !== undefined ? line(group[0]) : `Update ${group.length} images in ${where}\n\n${group.map(line).join("\n")}`,
    changes: group
  })
  switch (options.group ?? "target") {
    case "target":
      return changes.map((c) => commitOf([c], ""))
    case "pass":
      return changes.length === 0 ? [] : [commitOf(changes, options.repoId)]
    case "file": {
      const byFile = new Map<string, Array<Written>>()
      for (const c of changes) byFile.set(c.change.path, [...(byFile.get(c.change.path) ?? []), c])
      return [...byFile].map(([path, group]) => commitOf(group, path))
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
