import { expect } from "bun:test"
import { Either } from "effect"
import { spliceScalars } from "../../src/manifest/patch.ts"
import type { PlanResult } from "../../src/pipeline/plan.ts"

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
