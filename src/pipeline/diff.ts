import { Either } from "effect"
import type { Target } from "../config/model.ts"
import { parseFieldPath } from "../manifest/FieldPath.ts"
import { findScalars, type ScalarHit } from "../manifest/patch.ts"
import type { Selection, Selector } from "../policy/select.ts"
import type { TagInfo } from "../policy/TagPolicy.ts"
import { formatImageRef, type ImageRef, imageName, parseImageRef } from "../registry/ImageRef.ts"

/** The diff stage: what one target's field holds, what it should hold, and the edits that get it there. */
export interface TargetPlan {
  readonly current: string | undefined
  readonly selection: Selection
  readonly edits: ReadonlyArray<{ readonly hit: ScalarHit; readonly value: string }>
  /** The field's value before the change, for the commit message (`gcr.io/pipecd/foo:0.1.0`). */
  readonly oldImage: string
}

interface Occurrence {
  readonly hit: ScalarHit
  readonly tag: string | undefined
  readonly rewrite: (tag: string, digest: string | undefined) => string
  readonly pinsDigest: boolean
  readonly asImage: string
}

const occurrence = (target: Target, watched: ImageRef, hit: ScalarHit): Either.Either<Occurrence, string> => {
  switch (target.format) {
    case "tag":
      return Either.right({
        hit,
        tag: hit.value,
        rewrite: (tag) => tag,
        pinsDigest: false,
        asImage: `${target.image}:${hit.value}`
      })
    case "digest":
      return Either.left("format digest is not supported yet")
    case "image":
      return parseImageRef(hit.value).pipe(
        Either.mapLeft((e) => `line ${hit.line}: the field holds ${JSON.stringify(hit.value)}, not an image reference (${e})`),
        Either.flatMap((ref) =>
          imageName(ref) === imageName(watched)
            ? Either.right({
                hit,
                tag: ref.tag,
                rewrite: (tag: string, digest: string | undefined) => formatImageRef(ref.written, tag, digest),
                pinsDigest: ref.digest !== undefined,
                asImage: hit.value
              })
            : Either.left(`line ${hit.line}: the field holds ${hit.value}, not the watched image ${target.image}`)
        )
      )
  }
}

/** Plans one target against the current text of its file. Nothing here touches git or a registry. */
export const planTarget = (
  text: string,
  target: Target,
  watched: ImageRef,
  selector: Selector,
  tags: ReadonlyArray<TagInfo>
): Either.Either<TargetPlan, string> =>
  Either.gen(function* () {
    const path = yield* parseFieldPath(target.field).pipe(Either.mapLeft((e) => e.message))
    const hits = yield* findScalars(text, path).pipe(Either.mapLeft((e) => e.message))
    if (hits.length === 0) return yield* Either.left(`field ${target.field} not found in ${target.filePath}`)
    const occurrences: Array<Occurrence> = []
    for (const hit of hits) occurrences.push(yield* occurrence(target, watched, hit))

    const edits: Array<{ hit: ScalarHit; value: string }> = []
    let selection: Selection | undefined
    for (const o of occurrences) {
      const s = yield* selector.select(tags, o.tag).pipe(Either.mapLeft((e) => e.message))
      selection ??= s
      if (s._tag !== "Update") continue
      selection = s
      let digest: string | undefined
      if (o.pinsDigest) {
        digest = tags.find((t) => t.tag === s.tag)?.digest
        if (digest === undefined) return yield* Either.left(`the field pins a digest and the provider gave none for ${s.tag}`)
      }
      edits.push({ hit: o.hit, value: o.rewrite(s.tag, digest) })
    }
    const first = occurrences[0]
    if (selection === undefined || first === undefined) return yield* Either.left(`field ${target.field} not found`)
    const currents = [...new Set(occurrences.map((o) => o.tag ?? "(no tag)"))]
    return { current: currents.join(","), selection, edits, oldImage: first.asImage }
  })
