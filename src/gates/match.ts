import { Duration, Either } from "effect"
import type { Target } from "../domain/Target.ts"
import type { CosignGate, GateConfig } from "../config/model.ts"
import { imageGlob } from "../domain/glob.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { memoizeString } from "../memo.ts"

/** What the gates demand of one target's candidates. */
export interface AppliedGates {
  /** The largest of the matching gates' `minAge` and the target's own. */
  readonly minAge: Duration.Duration | undefined
  /** Every matching gate's signature rule: a candidate must satisfy them all. */
  readonly cosign: ReadonlyArray<{ readonly cosign: CosignGate; readonly where: string }>
  /** Every platform a matching gate names (canonical spelling, each once): a candidate must have an image for each. */
  readonly platforms: ReadonlyArray<string>
  /** Where the first gate naming platforms is declared, for messages. */
  readonly platformsBy: string | undefined
  /** Write `tag@digest` of what was verified. */
  readonly pinDigest: boolean
  /** Where the first gate that pins the digest is declared (`piped.yaml:30`), for messages. */
  readonly pinnedBy: string | undefined
}

// The config loader refused invalid globs, so a failure here matches nothing.
const globOf = memoizeString((pattern) => Either.getOrElse(imageGlob(pattern), () => () => false))

const larger = (a: Duration.Duration | undefined, b: Duration.Duration | undefined) =>
  a === undefined ? b : b === undefined ? a : Duration.max(a, b)

/** The gates that apply to a target: every gate one of whose globs matches the image's normalised name. */
export const gatesFor = (gates: ReadonlyArray<GateConfig>, target: Target, image: ImageRef): AppliedGates => {
  const name = imageName(image)
  const matching = gates.filter((gate) => gate.images.some((pattern) => globOf(pattern)(name)))
  const where = (gate: GateConfig) => `${gate.source.file}:${gate.source.line}`
  const pinning = matching.find((gate) => gate.cosign !== undefined && gate.pinDigest)
  const naming = matching.find((gate) => gate.platforms !== undefined)
  return {
    minAge: matching.reduce((age, gate) => larger(age, gate.minAge), target.minAge),
    cosign: matching.flatMap((gate) => (gate.cosign === undefined ? [] : [{ cosign: gate.cosign, where: where(gate) }])),
    platforms: [...new Set(matching.flatMap((gate) => gate.platforms ?? []))],
    platformsBy: naming === undefined ? undefined : where(naming),
    pinDigest: pinning !== undefined,
    pinnedBy: pinning === undefined ? undefined : where(pinning)
  }
}

/** True when nothing is asked of the candidates. */
export const noGates = (applied: AppliedGates): boolean => applied.minAge === undefined && applied.cosign.length === 0 && applied.platforms.length === 0

/**
 * Why a target cannot take a gate's pinned digest: its field holds the tag alone (`format: tag`),
 * so the digest that was verified could not be written, and the tag written would not be pinned.
 * The operator says so with `pinDigest: false` on the gate. Shared by the pipeline and `runner validate`.
 */
export const unpinnableProblem = (applied: AppliedGates, target: Target): string | undefined =>
  applied.pinnedBy === undefined || target.format !== "tag"
    ? undefined
    : `gate ${applied.pinnedBy} verifies cosign signatures and pins the verified digest, but field ${target.field} of ` +
      `${target.filePath} holds the tag alone (format: tag), where no digest can be written: set pinDigest: false on ` +
      `the gate to write such tags unpinned`
