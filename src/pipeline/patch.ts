/**
 * The patch stage: each file's updates spliced in turn, so that several targets in one file
 * build on each other. Pure: the files were read before, and the commit stage writes them.
 */
import { Either } from "effect"
import { PatchFailure } from "../domain/failures.ts"
import type { FileChange } from "../git/GitRepo.ts"
import { type Manifest, type ScalarHit, spliceManifest } from "../manifest/patch.ts"
import { type Decision, failed, type Update } from "./decide.ts"
import type { SourceFile } from "./fields.ts"
import { fieldHits } from "./plan.ts"
import { unifiedDiff } from "./unifiedDiff.ts"

/** An update written into its file: the whole file after it. */
export interface Written {
  readonly decision: Update
  readonly change: FileChange
}

/** What the patch stage made of one file. */
export interface PatchedFile {
  /** The file's decisions, an update the splice refused turned into a failure. */
  readonly decisions: ReadonlyArray<Decision>
  readonly written: ReadonlyArray<Written>
  /** The unified diff of the whole file, for dry runs. */
  readonly diff: string | undefined
}

type Edits = ReadonlyArray<{ readonly hit: ScalarHit; readonly value: string }>

/**
 * An update's edits on the file as earlier targets left it: the same scalars, found again at
 * their new places. A scalar an earlier target already changed is not overwritten.
 */
const editsOn = (manifest: Manifest, update: Update): Either.Either<Edits, PatchFailure> =>
  Either.flatMap(
    fieldHits(manifest, update.subject.prepared).pipe(Either.mapLeft((e) => new PatchFailure({ detail: e.message }))),
    (hits) =>
      Either.all(
        update.plan.edits.map(({ hit, value }) => {
          const now = hits[update.subject.hits.indexOf(hit)]
          return now !== undefined && now.value === hit.value
            ? Either.right({ hit: now, value })
            : Either.left(new PatchFailure({ detail: `line ${hit.line}: ${update.subject.prepared.target.field} was changed by another target of ${update.subject.prepared.target.filePath} in this pass` }))
        })
      )
  )

/** Patches one file with its decisions, in the order their targets are declared. */
export const patchFile = (file: SourceFile, decisions: ReadonlyArray<Decision>, dryRun: boolean): PatchedFile => {
  let manifest: Manifest | undefined
  const out: Array<Decision> = []
  const written: Array<Written> = []
  for (const d of decisions) {
    if (d._tag !== "Update") {
      out.push(d)
      continue
    }
    // The hits of the file as read hold until a splice moves them.
    const patched = Either.flatMap(manifest === undefined ? file.parsed() : Either.right(manifest), (m) =>
      Either.flatMap(manifest === undefined ? Either.right(d.plan.edits) : editsOn(m, d), (edits) =>
        spliceManifest(m, edits).pipe(Either.mapLeft((e) => new PatchFailure({ detail: e.message })))
      )
    )
    if (Either.isLeft(patched)) {
      out.push({ ...failed(d.origin, patched.left, d.current), ...(d.explanations === undefined ? {} : { explanations: d.explanations }) })
      continue
    }
    manifest = patched.right
    out.push(d)
    written.push({ decision: d, change: { path: file.path, content: patched.right.text } })
  }
  const text = manifest?.text ?? file.text
  return { decisions: out, written, diff: dryRun && text !== file.text ? unifiedDiff(file.path, file.text, text) : undefined }
}
