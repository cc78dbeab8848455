/**
 * The read stage: the files the targets name, read in one go at the checkout's head, and what
 * each target's field holds there. A target whose file or field cannot be read is decided at once.
 */
import { Effect, Either, Option } from "effect"
import type { Pipeline } from "../config/model.ts"
import { ManifestFailure } from "../domain/failures.ts"
import { gatesFor } from "../gates/match.ts"
import type { Blob, Checkout, GitError } from "../git/GitRepo.ts"
import { type Manifest, parseManifest } from "../manifest/patch.ts"
import { type Decision, failed } from "./decide.ts"
import type { Prepared, Subject } from "./evidence.ts"
import type { ParseCache } from "./ParseCache.ts"
import { currentTags, fieldHits, hitsKey } from "./plan.ts"
import { oversize } from "./sizeLimit.ts"

/** One file as the pass read it: its text, parsed at most once, by the read or the patch stage. */
export interface SourceFile {
  readonly path: string
  readonly text: string
  readonly parsed: () => Either.Either<Manifest, ManifestFailure>
}

/** The targets of one file, in declaration order: read, or failed for a reason of their file or field. */
export interface FileTargets {
  readonly path: string
  /** Undefined when the file could not be read: every target of it failed. */
  readonly file: SourceFile | undefined
  readonly subjects: ReadonlyArray<Subject>
  readonly failed: ReadonlyArray<Decision>
}

/** Why a file is left as it is before it is parsed, if it is: missing, a link, not text, too large. */
const refusalOf = (path: string, blob: Option.Option<Blob>): ManifestFailure | undefined => {
  if (Option.isNone(blob)) return new ManifestFailure({ detail: `file ${path} not found` })
  const { kind, size } = blob.value
  // A link's target is another path, never a manifest: rewriting its text would repoint it.
  if (kind === "symlink") return new ManifestFailure({ detail: `${path} is a symbolic link, not a file` })
  if (kind === "binary") return new ManifestFailure({ detail: `${path} is not UTF-8 text: the runner leaves it as it is` })
  const tooLarge = oversize(path, size, "manifests")
  return tooLarge === undefined ? undefined : new ManifestFailure({ detail: tooLarge })
}

export interface ReadContext {
  readonly pipeline: Pipeline
  readonly cache: ParseCache
  /** `runner explain`: the targets whose decisions carry how their tags were read. */
  readonly explain: ((p: Prepared) => boolean) | undefined
  /** What the data dir and the config say of a target beyond its file: the tag last written, a suspension or pause. */
  readonly held: (p: Prepared) => Pick<Subject, "lastWritten" | "stop">
}

/**
 * One file's targets. The file is parsed only when the parse cache does not know what a field
 * holds in this blob.
 */
const readFile = (path: string, blob: Option.Option<Blob>, group: ReadonlyArray<Prepared>, ctx: ReadContext): FileTargets => {
  const refusal = refusalOf(path, blob)
  if (refusal !== undefined || Option.isNone(blob)) {
    const failure = refusal ?? new ManifestFailure({ detail: `file ${path} not found` })
    return { path, file: undefined, subjects: [], failed: group.map((p) => failed(p, failure)) }
  }
  const { oid, text } = blob.value
  let manifest: Either.Either<Manifest, ManifestFailure> | undefined
  const parsed = () => (manifest ??= parseManifest(text).pipe(Either.mapLeft((e) => new ManifestFailure({ detail: `${path}: ${e.message}` }))))
  const subjects: Array<Subject> = []
  const failures: Array<Decision> = []
  for (const p of group) {
    const known = ctx.cache.hits(oid, hitsKey(p.target))
    const hits = known !== undefined ? Either.right(known) : Either.flatMap(parsed(), (m) => fieldHits(m, p))
    if (known === undefined && Either.isRight(hits)) ctx.cache.keepHits(oid, hitsKey(p.target), hits.right)
    if (Either.isLeft(hits)) failures.push(failed(p, hits.left))
    else {
      const gates = gatesFor(ctx.pipeline.gates, p.target, p.image)
      subjects.push({ prepared: p, hits: hits.right, currents: currentTags(hits.right, p.target, p), gates, explain: ctx.explain?.(p) === true, ...ctx.held(p) })
    }
  }
  return { path, file: { path, text, parsed }, subjects, failed: failures }
}

/** The read stage for a repository: its targets grouped by file, every file read in one go. */
export const readFields = (checkout: Checkout, prepared: ReadonlyArray<Prepared>, ctx: ReadContext): Effect.Effect<ReadonlyArray<FileTargets>, GitError> => {
  // Watcher files are decoded with normalised paths (`./a//b` is `a/b`), so one file is one group.
  const byFile = new Map<string, Array<Prepared>>()
  for (const p of prepared) {
    const group = byFile.get(p.target.filePath)
    if (group === undefined) byFile.set(p.target.filePath, [p])
    else group.push(p)
  }
  // With system git, one cat-file (and one ls-tree for their modes) reads them all.
  return checkout
    .readFiles([...byFile.keys()])
    .pipe(Effect.map((blobs) => [...byFile].map(([path, group], i) => readFile(path, blobs[i] ?? Option.none(), group, ctx))))
}
