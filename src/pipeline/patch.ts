import type { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Option } from "effect"
import { ManifestFailure, PatchFailure, RegistryFailure, type TargetFailure } from "../domain/failures.ts"
import type { Blob, Checkout, FileChange, GitError } from "../git/GitRepo.ts"
import { type Manifest, parseManifest, type ScalarHit, spliceManifest } from "../manifest/patch.ts"
import { unrankedReason } from "../policy/explain.ts"
import type { Signatures } from "../gates/Signatures.ts"
import type { Listing } from "./fetch.ts"
import { type GateContext, gateTarget, signatureNote } from "./gate.ts"
import type { ParseCache } from "./ParseCache.ts"
import { currentTags, fieldHits, messageProblem, planWithDigests, type TargetPlan } from "./plan.ts"
import type { Prepared } from "./prepare.ts"
import { failedReport, reportOf, type TargetReport } from "./report.ts"
import { TagCache } from "./TagCache.ts"
import { unifiedDiff } from "./unifiedDiff.ts"
import { oversize } from "./sizeLimit.ts"

/** One target's change: the whole file after it, and what the commit stage needs to describe it. */
export interface Change {
  readonly change: FileChange
  readonly plan: TargetPlan
  readonly prepared: Prepared
  /** Index of the target's report among the file's reports. */
  readonly report: number
}

/** What the patch stage made of one file: a report per target, a change per changed target. */
export interface PatchedFile {
  readonly reports: ReadonlyArray<TargetReport>
  readonly changes: ReadonlyArray<Change>
  /** The unified diff of the whole file, for dry runs. */
  readonly diff: string | undefined
}

export interface PatchContext {
  readonly listingOf: (p: Prepared) => Listing
  readonly gates: GateContext
  readonly cache: ParseCache
  readonly dryRun: boolean
  /** `runner explain`: the targets whose reports carry how their tags were read. */
  readonly explain: ((p: Prepared) => boolean) | undefined
}

/** The report of a target whose field needs no change. */
const unchanged = (plan: TargetPlan): TargetReport["outcome"] => {
  const s = plan.selection
  return s._tag === "Ahead"
    ? { _tag: "Ahead", best: s.best }
    : s._tag === "Unranked"
      ? { _tag: "LeftAlone", reason: unrankedReason(s) }
      : { _tag: "UpToDate" }
}

/** Why a file is left as it is before it is parsed, if it is: missing, a link, not text, too large. */
export const refusalOf = (path: string, blob: Option.Option<Blob>): ManifestFailure | undefined => {
  if (Option.isNone(blob)) return new ManifestFailure({ detail: `file ${path} not found` })
  const { kind, size } = blob.value
  // A link's target is another path, never a manifest: rewriting its text would repoint it.
  if (kind === "symlink") return new ManifestFailure({ detail: `${path} is a symbolic link, not a file` })
  if (kind === "binary") return new ManifestFailure({ detail: `${path} is not UTF-8 text: the runner leaves it as it is` })
  const tooLarge = oversize(path, size, "manifests")
  return tooLarge === undefined ? undefined : new ManifestFailure({ detail: tooLarge })
}

/**
 * The patch stage for one file: each target in turn is planned on the file as the targets before
 * it left it, and its edits spliced in, so that several targets in one file build on each other.
 * The file is parsed at most once, and only when the parse cache does not know what a field holds;
 * each change comes back parsed from the check of the splice.
 */
export const patchFile = (
  path: string,
  blob: Option.Option<Blob>,
  group: ReadonlyArray<Prepared>,
  ctx: PatchContext
): Effect.Effect<PatchedFile, never, TagCache | Signatures | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const refusal = refusalOf(path, blob)
    if (refusal !== undefined || Option.isNone(blob)) {
      const failure = refusal ?? new ManifestFailure({ detail: `file ${path} not found` })
      return { reports: group.map((p) => failedReport(p, failure)), changes: [], diff: undefined }
    }
    const { oid, text: original } = blob.value
    const tags = yield* TagCache
    let manifest: Either.Either<Manifest, ManifestFailure> | undefined
    let changed = false
    const parsed = () =>
      (manifest ??= parseManifest(original).pipe(Either.mapLeft((e) => new ManifestFailure({ detail: `${path}: ${e.message}` }))))
    const hitsOf = (p: Prepared): Either.Either<ReadonlyArray<ScalarHit>, TargetFailure> => {
      const known = changed ? undefined : ctx.cache.hits(oid, p.target.field)
      if (known !== undefined) return Either.right(known)
      const hits = Either.flatMap(parsed(), (m) => fieldHits(m, p))
      if (!changed && Either.isRight(hits)) ctx.cache.keepHits(oid, p.target.field, hits.right)
      return hits
    }
    const reports: Array<TargetReport> = []
    const changes: Array<Change> = []
    for (const p of group) {
      const hits = hitsOf(p)
      if (Either.isLeft(hits)) {
        reports.push(failedReport(p, hits.left))
        continue
      }
      const listing = ctx.listingOf(p)
      if (Either.isLeft(listing)) {
        reports.push(failedReport(p, listing.left))
        continue
      }
      const currents = currentTags(hits.right, p.target, p)
      const explained = ctx.explain?.(p) === true ? { explanations: currents.map((tag) => p.selector.explain(listing.right, tag)) } : {}
      const gated = yield* gateTarget(p, currents, listing.right, ctx.gates)
      if (Either.isLeft(gated)) {
        reports.push({ ...failedReport(p, gated.left), ...explained })
        continue
      }
      const digestOf = (tag: string) =>
        tags.digest(p.provider, p.image, tag).pipe(Effect.mapError((cause) => new RegistryFailure({ provider: p.provider.name, cause })))
      const plan = yield* planWithDigests(hits.right, p.target, p, p.provider, gated.right.tags, digestOf, gated.right.pin)
      if (Either.isLeft(plan)) {
        reports.push({ ...failedReport(p, plan.left), ...explained })
        continue
      }
      const { selection, current } = plan.right
      const notes = gated.right.notes.length === 0 ? {} : { gateNotes: gated.right.notes }
      // Counted on the whole listing: a candidate the gates passed over was still listed and kept.
      const listed = listing.right.length
      const kept = selection.kept + gated.right.passedOver
      const report = { ...reportOf(p), current, chosen: selection.tag, listed, kept, ...explained, ...notes, ...signatureNote(gated.right, plan.right) }
      if (plan.right.edits.length === 0) {
        reports.push({ ...report, outcome: gated.right.passedOver > 0 ? { _tag: "Held" } : unchanged(plan.right) })
        continue
      }
      // Refused before the splice: later targets of the file build on this one's text.
      const unwritable = messageProblem(plan.right, p.target)
      if (unwritable !== undefined) {
        reports.push(failedReport(p, unwritable, current))
        continue
      }
      const patched = Either.flatMap(parsed(), (m): Either.Either<Manifest, TargetFailure> =>
        spliceManifest(m, plan.right.edits).pipe(Either.mapLeft((e) => new PatchFailure({ detail: e.message })))
      )
      if (Either.isLeft(patched)) {
        reports.push(failedReport(p, patched.left, current))
        continue
      }
      manifest = Either.right(patched.right)
      changed = true
      reports.push({ ...report, outcome: { _tag: "WouldUpdate" } })
      changes.push({ change: { path, content: patched.right.text }, plan: plan.right, prepared: p, report: reports.length - 1 })
    }
    const text = manifest !== undefined && Either.isRight(manifest) ? manifest.right.text : original
    return { reports, changes, diff: ctx.dryRun && text !== original ? unifiedDiff(path, original, text) : undefined }
  })

/** What the patch stage made of a repository's files. */
export interface PatchedFiles {
  readonly reports: ReadonlyArray<TargetReport>
  /** In commit order; `report` indexes `reports`. */
  readonly changes: ReadonlyArray<Change>
  readonly diffs: ReadonlyArray<string>
}

/** The patch stage for a repository: its targets grouped by file, every file read in one go. */
export const patchFiles = (
  checkout: Checkout,
  prepared: ReadonlyArray<Prepared>,
  ctx: PatchContext
): Effect.Effect<PatchedFiles, GitError, TagCache | Signatures | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    // Watcher files are decoded with normalised paths (`./a//b` is `a/b`), so one file is one group.
    const byFile = new Map<string, Array<Prepared>>()
    for (const p of prepared) {
      const group = byFile.get(p.target.filePath)
      if (group === undefined) byFile.set(p.target.filePath, [p])
      else group.push(p)
    }
    // With system git, one cat-file (and one ls-tree for their modes) reads them all.
    const blobs = yield* checkout.readFiles([...byFile.keys()])
    const reports: Array<TargetReport> = []
    const changes: Array<Change> = []
    const diffs: Array<string> = []
    for (const [i, [path, group]] of [...byFile].entries()) {
      const file = yield* patchFile(path, blobs[i] ?? Option.none(), group, ctx)
      // One at a time: the targets of one file come from any number of watcher files, and a spread
      // into push() puts every element on the stack.
      for (const c of file.changes) changes.push({ ...c, report: c.report + reports.length })
      for (const r of file.reports) reports.push(r)
      if (file.diff !== undefined) diffs.push(file.diff)
    }
    return { reports, changes, diffs }
  })
