import { Either, Option } from "effect"
import type { Target } from "../domain/Target.ts"
import { ConfigFailure, ManifestFailure, type NoCandidateFailure, PatchFailure, type TargetFailure } from "../domain/failures.ts"
import { lineBreakIn, type Placeholder } from "../domain/messageTemplate.ts"
import { parseFieldPath, type Segment } from "../manifest/FieldPath.ts"
import { findMapsIn, type MapShape } from "../manifest/maps.ts"
import { type Edit, findScalarsIn, type Manifest, type ScalarHit } from "../manifest/patch.ts"
import { compileSelector, type Selection, type Selector } from "../policy/select.ts"
import { type ImageRef, parseImageRef } from "../domain/ImageRef.ts"
import { type Occurrence, occurrencesOf, shapeOf } from "./occurrences.ts"

/** The plan stage: what one target's field holds, what it should hold, and the edits that get it there. */
export interface TargetPlan {
  readonly current: string | undefined
  readonly selection: Selection
  readonly edits: ReadonlyArray<{ readonly hit: ScalarHit; readonly value: string }>
  /** The field's value before the change, for the commit message (`gcr.io/pipecd/foo:0.1.0`). */
  readonly oldImage: string
  /** What the commit message says the field moves to: the tag, or `tag@digest` when the field pins a digest. */
  readonly newValue: string
  /** For message templates: the repository as the field writes it, the old tag, the new tag and digest. */
  readonly image: string
  readonly oldTag: string
  readonly newTag: string
  readonly newDigest: string | undefined
}

/** What a commit message template may name, for one planned change (`{{image}}`, `{{tag}}`, ...). */
/** A template's values for one change; `{{digest}}` is the pinned digest, else the one looked up for it (`lookedUp`). */
export const messageValues = (plan: TargetPlan, target: Target, repoId: string, lookedUp?: string): Record<Placeholder, string> => ({
  image: plan.image,
  old: plan.oldTag,
  tag: plan.newTag,
  digest: plan.newDigest ?? lookedUp ?? "",
  file: target.filePath,
  field: target.field,
  repoId
})

/**
 * Why a planned change cannot be committed: a value its message would carry (a template's, or the
 * default message's current and new value) holds a line break. The target fails; others commit.
 */
export const messageProblem = (plan: TargetPlan, target: Target): PatchFailure | undefined => {
  const values = { ...messageValues(plan, target, ""), "current value": plan.oldImage, "new value": plan.newValue }
  const name = lineBreakIn(values)
  if (name === undefined) return undefined
  const label = name in values && !name.includes(" ") ? `{{${name}}}` : `the ${name}`
  return new PatchFailure({
    detail: `${label} ${JSON.stringify(values[name as keyof typeof values])} holds a line break: a commit message takes one-line values only, so the change is not written`
  })
}

/** A plan, or the tags whose digests must be looked up before one can be made. */
export type PlanResult =
  | { readonly _tag: "Planned"; readonly plan: TargetPlan }
  | { readonly _tag: "NeedsDigest"; readonly tag: string }

/** A target's image, field path and selector, checked once before any registry is called. */
export interface CompiledTarget {
  readonly image: ImageRef
  /** Where its value is found: the field, or the map (helm) or list of maps (kustomize) a map format reads. */
  readonly path: ReadonlyArray<Segment>
  /** What a map format reads at its path. */
  readonly shape?: MapShape
  readonly selector: Selector
}

/** The path a target reads: a helm target's field is its map's `tag`, a kustomize target reads `images`. */
const pathOf = (target: Target): Either.Either<ReadonlyArray<Segment>, string> => {
  if (target.format === "kustomize") return Either.right(["images"])
  const path = parseFieldPath(target.field).pipe(Either.mapLeft((e) => `field: ${e.message}`))
  return target.format === "helm" ? Either.map(path, (segments) => segments.slice(0, -1)) : path
}

/** The static checks of a target, shared by the pipeline and `runner validate`. */
export const compileTarget = (target: Target): Either.Either<CompiledTarget, string> => {
  const image = parseImageRef(target.image)
  const path = pathOf(target)
  const shape = shapeOf(target)
  const selector = compileSelector(target)
  // Every problem at once, so that one run of `validate` shows them all.
  const problems = [Either.getLeft(image), Either.getLeft(path), Either.getLeft(selector)].flatMap(Option.toArray)
  return Either.isRight(image) && Either.isRight(path) && Either.isRight(selector)
    ? Either.right({ image: image.right, path: path.right, ...(shape === undefined ? {} : { shape }), selector: selector.right })
    : Either.left(problems.join("; "))
}

/** The tags the field names where the target finds it (undefined for a field without tag), once each. */
export const currentTags = (
  hits: ReadonlyArray<ScalarHit>,
  target: Target,
  { image }: CompiledTarget
): ReadonlyArray<string | undefined> => {
  // A field's hits are read one by one, so that one the plan will refuse leaves the others' tags; a map format's together.
  const read = shapeOf(target) === undefined ? hits.map((hit) => occurrencesOf(target, image, [hit])) : [occurrencesOf(target, image, hits)]
  return [...new Set(read.flatMap((found) => Either.match(found, { onLeft: () => [], onRight: (os) => os.map((o) => o.tag) })))]
}

/** The scalars a target's field path finds in its file, parsed; a map format's, the keys of its maps. */
export const fieldHits = (manifest: Manifest, { path, shape }: CompiledTarget): Either.Either<ReadonlyArray<ScalarHit>, ManifestFailure> =>
  (shape === undefined ? findScalarsIn(manifest, path) : findMapsIn(manifest, path, shape)).pipe(
    Either.mapLeft((e) => new ManifestFailure({ detail: e.message }))
  )

/** What the parse cache keeps a target's hits by: a map format's hits are not a field's. */
export const hitsKey = (target: Pick<Target, "format" | "field">): string =>
  shapeOf(target) === undefined ? target.field : `${target.format}\u0000${target.field}`

/** What planning a target reads besides its field: the tag chosen for each current tag, and digests. */
export interface PlanInputs {
  /** What the policy, past the gates, chose for a current tag. */
  readonly choose: (current: string | undefined) => Either.Either<Selection, NoCandidateFailure>
  /**
   * A tag's digest where known: the one the gates verified, the listing's, or one looked up;
   * `null` when the gates refused the tag's digest, which is then not written.
   */
  readonly digestOf: (tag: string) => string | undefined | null
  /** Write `tag@digest` of the chosen tag (a gate verified that digest). */
  readonly pin: boolean
}

/** A gate pins the verified digest, and the map the target writes has no digest key to hold it. */
const unpinnable = (target: Target, o: Occurrence): ConfigFailure =>
  new ConfigFailure({
    detail: `line ${o.hit.line}: a gate pins the verified digest, but the ${target.format === "kustomize" ? "images: entry" : "map"} of ${o.name} has no digest key to hold it: ` +
      "add digest: to it, or set pinDigest: false on the gate to write such tags unpinned"
  })

/**
 * Plans one target from the scalars its field path finds in its file. Nothing here touches git
 * or a registry: when a pinned digest must be refreshed and the chosen tag's digest is unknown,
 * it asks for it with `NeedsDigest`. With `pin`, a field that names a tag alone gets `tag@digest`
 * when it moves.
 */
export const planTarget = (
  hits: ReadonlyArray<ScalarHit>,
  target: Target,
  watched: ImageRef,
  { choose, digestOf, pin }: PlanInputs
): Either.Either<PlanResult, TargetFailure> =>
  Either.gen(function* () {
    const occurrences: ReadonlyArray<Occurrence> = yield* occurrencesOf(target, watched, hits).pipe(Either.mapLeft((detail) => new ManifestFailure({ detail })))
    const first = occurrences[0]
    if (first === undefined) return yield* Either.left(new ManifestFailure({ detail: `field ${target.field} not found in ${target.filePath}` }))

    const edits: Array<Edit> = []
    let selection: Selection | undefined
    let newValue = ""
    let newDigest: string | undefined
    for (const o of occurrences) {
      const s = yield* choose(o.tag)
      if (selection === undefined || s._tag === "Update") selection = s
      if (o.digest === undefined) {
        if (s._tag !== "Update") continue
        const pinned = pin ? (digestOf(s.tag) ?? undefined) : undefined
        if (pinned !== undefined && !o.pinnable && target.format !== "tag") return yield* Either.left(unpinnable(target, o))
        edits.push(...o.write(s.tag, pinned))
        newValue = pinned === undefined || !o.pinnable ? s.tag : `${s.tag}@${pinned}`
        newDigest = o.pinnable ? pinned : undefined
        continue
      }
      // A pinned digest follows the tag it names, and is refreshed when that tag was pushed again.
      if (s._tag === "Ahead" || s._tag === "Unranked") continue
      const digest = digestOf(s.tag)
      if (digest === undefined) return { _tag: "NeedsDigest", tag: s.tag } as const
      if (digest === null) continue
      if ((s._tag === "UpToDate" || s._tag === "Floats") && digest === o.digest) continue
      if (o.tag === undefined && digest === o.digest) {
        // A bare digest already at the chosen tag's image.
        selection = { _tag: "UpToDate", tag: s.tag, listed: s.listed, kept: s.kept }
        continue
      }
      edits.push(...o.write(s.tag, digest))
      selection = { _tag: "Update", tag: s.tag, listed: s.listed, kept: s.kept }
      newValue = `${s.tag}@${digest}`
      newDigest = digest
    }
    const currents = [...new Set(occurrences.map((o) => o.tag ?? o.digest ?? "(no tag)"))]
    if (selection === undefined) return yield* Either.left(new ManifestFailure({ detail: `field ${target.field} not found` }))
    const plan: TargetPlan = {
      current: currents.join(","),
      selection,
      edits,
      oldImage: first.asImage,
      newValue,
      image: first.name,
      oldTag: first.tag ?? first.digest ?? "",
      newTag: selection.tag,
      newDigest
    }
    return { _tag: "Planned", plan } as const
  })
