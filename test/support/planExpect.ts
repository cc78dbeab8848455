import { expect } from "bun:test"
import { Either } from "effect"
import { NoCandidateFailure } from "../../src/domain/failures.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import type { Target } from "../../src/domain/Target.ts"
import { parseManifest, spliceScalars } from "../../src/manifest/patch.ts"
import { compileTarget, fieldHits, type PlanResult, planTarget } from "../../src/pipeline/plan.ts"

/** A target planned on a file's text and a listing, its candidates chosen by its own selector. */
export const planOn = (t: Target, text: string, tags: ReadonlyArray<TagInfo>, pin: boolean) => {
  const compiled = Either.getOrThrow(compileTarget(t))
  const manifest = Either.getOrThrow(parseManifest(text))
  const inputs = {
    choose: (current: string | undefined) => compiled.selector.select(tags, current).pipe(Either.mapLeft((e) => new NoCandidateFailure({ detail: e.message }))),
    digestOf: (tag: string) => tags.find((x) => x.tag === tag)?.digest,
    pin
  }
  return Either.flatMap(fieldHits(manifest, compiled), (hits) => planTarget(hits, t, compiled.image, inputs))
}

/**
 * Checks a planned target against a table's `expect`: `error: <part of its message>`, `needs
 * digest <tag>`, `same` (no edit), or the file's whole text after the plan's edits.
 */
export const expectPlan = (text: string, plan: Either.Either<PlanResult, { readonly message: string }>, expected: string): void => {
  if (expected.startsWith("error: ")) {
    expect(Either.isLeft(plan) ? plan.left.message : "no error").toContain(expected.slice(7))
    return
  }
  const result = Either.getOrThrow(plan)
  if (expected.startsWith("needs digest ")) {
    expect(result).toEqual({ _tag: "NeedsDigest", tag: expected.slice(13) })
    return
  }
  if (result._tag !== "Planned") throw new Error(`asked for the digest of ${result.tag}`)
  if (expected === "same") {
    expect(result.plan.edits.length).toBe(0)
    return
  }
  expect(Either.getOrThrow(spliceScalars(text, result.plan.edits))).toBe(expected)
}
