/**
 * The default policy run the way a pass runs it, for tables: a selector compiled from a target's
 * policy fields, and a listing decided with the release-line rule, its tags dated in listing order.
 */
import { Either, Option } from "effect"
import type { PolicySpec } from "../../src/domain/PolicySpec.ts"
import { DEFAULT_EXCLUDE_TAGS, DEFAULT_POLICY } from "../../src/domain/Target.ts"
import { choose } from "../../src/pipeline/decide.ts"
import { noFacts } from "../../src/pipeline/evidence.ts"
import { decideLine } from "../../src/pipeline/lines.ts"
import { compileSelector, type Selector } from "../../src/policy/select.ts"

export interface SelectorFields {
  readonly policy?: PolicySpec
  readonly allowDowngrade?: boolean
  readonly filterTags?: { pattern: string; extract: string }
}

/** The selector of a target with these fields; the default policy and exclusions otherwise. */
export const selectorFor = (c: SelectorFields): Selector =>
  Either.getOrThrow(
    compileSelector({
      policy: c.policy ?? DEFAULT_POLICY,
      excludeTags: DEFAULT_EXCLUDE_TAGS,
      allowDowngrade: c.allowDowngrade ?? false,
      ...(c.filterTags === undefined ? {} : { filterTags: c.filterTags })
    })
  )

/**
 * A listing through the default, its tags dated in the order listed (a day apart), as the line
 * rule reads release dates; a current tag that is not listed is the oldest. The outcome reads
 * `update X`, `uptodate X`, `ahead X`, `floats X`, `unranked X` or `none: <message>`.
 */
export const decideRow = (listed: ReadonlyArray<string>, current: string): string => {
  const order = [...new Set([...(listed.includes(current) ? [] : [current]), ...listed])]
  const tags = order.map((tag, i) => ({ tag, created: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000) }))
  const choice = choose(selectorFor({}), tags, current, false)
  const line = Either.getOrThrow(decideLine(choice, tags, { ...noFacts(0), pushTimes: Option.some(new Map()) }))
  return Either.match(line.choice.selection, { onLeft: (e) => `none: ${e.message}`, onRight: (s) => `${s._tag.toLowerCase()} ${s.tag}` })
}
