/**
 * What one pull or merge request proposes: a change set, its branch, title and body. Pure: the
 * request stage (requests.ts) pushes and opens them. A branch's name is a function of its changes,
 * so the same changes always meet their request again, and different changes never share one.
 */
import { createHash } from "node:crypto"
import { Either } from "effect"
import type { PullRequestSettings } from "../config/model.ts"
import { branchNameProblem } from "../domain/refName.ts"
import { type Placeholder, renderLines } from "../domain/messageTemplate.ts"
import { type CommitOptions, type DigestOf, type PlannedCommit, planCommits } from "./commit.ts"
import type { Update } from "./decide.ts"
import type { SourceFile } from "./fields.ts"
import { writtenKey } from "./LastWritten.ts"
import { patchFile, type Written } from "./patch.ts"
import { messageValues } from "./plan.ts"

export interface ChangeSet {
  readonly branch: string
  readonly title: string
  readonly body: string
  /** The commit the branch holds on top of the base: its files whole, its message. */
  readonly commit: PlannedCommit
  readonly updates: ReadonlyArray<Update>
  /** The targets it changes, by `writtenKey`: what an older request of the same targets is superseded by. */
  readonly targets: ReadonlyArray<string>
}

/** What names a repository's change sets: its settings, the images with more than one target, and the digests looked up for `{{digest}}`. */
export interface Naming {
  readonly repoId: string
  readonly settings: PullRequestSettings
  readonly shared: (image: string) => boolean
  readonly digestOf: DigestOf
}

/** Opens the marker every request body of the runner carries; the JSON after it names the repository and targets. */
export const MARKER = "<!-- image-watcher-runner "

const targetOf = (u: Update) => writtenKey(u.origin.target)

/** The marker of a request, its JSON kept from closing the HTML comment early. */
const markerOf = (repoId: string, targets: ReadonlyArray<string>): string =>
  `${MARKER}${JSON.stringify({ repoId, targets }).replace(/</g, "\\u003c").replace(/>/g, "\\u003e")} -->`

/** The targets a request of the runner changes in `repoId`, read from its body's marker; undefined when it has none. */
export const targetsOfBody = (body: string, repoId: string): ReadonlyArray<string> | undefined => {
  const at = body.lastIndexOf(MARKER)
  if (at < 0) return undefined
  const end = body.indexOf(" -->", at)
  if (end < 0) return undefined
  try {
    const found: unknown = JSON.parse(body.slice(at + MARKER.length, end))
    if (typeof found !== "object" || found === null || !("repoId" in found) || !("targets" in found)) return undefined
    const { repoId: id, targets } = found
    return id === repoId && Array.isArray(targets) && targets.every((t) => typeof t === "string") ? targets : undefined
  } catch {
    return undefined
  }
}

/** A value made fit for a branch name: lower case, runs of anything but letters, digits, `.`, `_` and `-` as one `-`. */
export const slug = (value: string): string =>
  value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 80)
    .replace(/[-.]+$/g, "")

/** Eight hex digits of the changes' identity: which fields of which files move to which tag. */
const changesHash = (updates: ReadonlyArray<Update>): string =>
  createHash("sha256")
    .update(updates.map((u) => JSON.stringify([u.origin.target.filePath, u.origin.target.field, u.plan.image, u.plan.newTag])).sort().join("\n"))
    .digest("hex")
    .slice(0, 8)

const valuesOf = (u: Update, naming: Naming, slugged: boolean): Record<Placeholder, string> => {
  const values = messageValues(u.plan, u.origin.target, naming.repoId, naming.digestOf(u))
  return slugged ? (Object.fromEntries(Object.entries(values).map(([k, v]) => [k, slug(v)])) as Record<Placeholder, string>) : values
}

const render = (template: string | undefined, values: Record<Placeholder, string>): string | undefined =>
  template === undefined ? undefined : renderLines(template, values)

/**
 * The branch of a change set: `image-updates/<image>-<tag>` (or the operator's `branchTemplate`
 * with each value made fit for a branch), then the changes' hash when the set may share that
 * name with another: a set of several changes, or one of an image with other targets in the
 * repository (another file, another field).
 */
export const branchOf = (updates: ReadonlyArray<Update>, naming: Naming): Either.Either<string, string> => {
  const [first] = updates
  if (first === undefined) return Either.left("a change set without changes")
  const values = valuesOf(first, naming, true)
  const named = render(naming.settings.branchTemplate, values) ?? `image-updates/${values.image}-${values.tag}`
  const alone = updates.length === 1 && !naming.shared(first.origin.target.image)
  const branch = alone ? named : `${named}-${changesHash(updates)}`
  const problem = branchNameProblem(branch)
  return problem === undefined ? Either.right(branch) : Either.left(`the branch name ${JSON.stringify(branch)}: ${problem}`)
}

/** A table cell: one line, its pipes escaped. */
const cell = (text: string): string => text.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|")

/** What the gates verified of an update, in a few words. */
const verified = (u: Update): string => {
  const said = [u.signature, ...(u.gateNotes ?? []), u.plan.newDigest === undefined ? undefined : `digest ${u.plan.newDigest}`].filter((s) => s !== undefined)
  return said.length === 0 ? "no gate" : said.join("; ")
}

/** The body: the operator's text, a table of the changes and what the gates verified, and the marker. */
const bodyOf = (updates: ReadonlyArray<Update>, naming: Naming, targets: ReadonlyArray<string>): string => {
  const [first] = updates
  const intro = first === undefined ? undefined : render(naming.settings.body, valuesOf(first, naming, false))
  const rows = updates.map((u) => `| ${[u.plan.image, u.plan.oldTag, u.plan.newTag, u.origin.target.filePath, u.origin.target.field, verified(u)].map(cell).join(" | ")} |`)
  return [
    ...(intro === undefined ? [] : [intro, ""]),
    "| image | from | to | file | field | verified |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    markerOf(naming.repoId, targets)
  ].join("\n")
}

/**
 * The commits of the change sets, each on top of the base alone: per file or for the pass as the
 * push mode commits them; per target, each target's file patched with that target's change only.
 */
export const requestCommits = (
  written: ReadonlyArray<Written>,
  sources: ReadonlyMap<string, SourceFile>,
  options: CommitOptions
): ReadonlyArray<PlannedCommit> => {
  if ((options.group ?? "target") !== "target") return planCommits(written, options)
  const alone = written.map((w) => {
    const file = sources.get(w.change.path)
    return (file === undefined ? undefined : patchFile(file, [w.decision], false).written[0]) ?? w
  })
  return planCommits(alone, options)
}

/** Each planned commit as a change set on a branch of its own; one whose branch name does not work fails alone. */
export const changeSetsOf = (
  commits: ReadonlyArray<PlannedCommit>,
  naming: Naming
): ReadonlyArray<Either.Either<ChangeSet, { readonly updates: ReadonlyArray<Update>; readonly problem: string }>> =>
  commits.map((commit) => {
    const updates = commit.changes.map((w) => w.decision)
    const targets = updates.map(targetOf)
    const [first] = updates
    const subject = commit.message.split("\n")[0] ?? commit.message
    const title = first === undefined || updates.length > 1 ? subject : (render(naming.settings.title, valuesOf(first, naming, false)) ?? subject)
    return Either.match(branchOf(updates, naming), {
      onLeft: (problem) => Either.left({ updates, problem }),
      onRight: (branch) => Either.right({ branch, title, body: bodyOf(updates, naming, targets), commit, updates, targets })
    })
  })
