/**
 * The default policy run the way a pass runs it, for tables: a selector compiled from a target's
 * policy fields, and a listing decided with the release-line rule, its tags dated in listing order.
 */
import { describe, expect, test } from "bun:test"
import { Either, Option } from "effect"
import type { PolicySpec } from "../../src/domain/PolicySpec.ts"
import { DEFAULT_EXCLUDE_TAGS, DEFAULT_POLICY } from "../../src/domain/Target.ts"
import { choose } from "../../src/pipeline/decide.ts"
import { noFacts } from "../../src/pipeline/evidence.ts"
import { decideLine } from "../../src/pipeline/lines.ts"
import { compileSelector, type Selector } from "../../src/policy/select.ts"

const DAY = 86_400_000
const MONTH = 30 * DAY

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
 * Whether a tag is pushed with a release listed before it rather than being one: a word
 * (`latest`, `slim-bookworm`) or an alias of an earlier release (`3.13-slim` after `3.13.0-slim`).
 */
const isRetag = (tag: string, earlier: ReadonlyArray<string>): boolean => {
  const parts = /^(v?\d+(?:\.\d+)*)(.*)$/.exec(tag)
  if (parts === null) return true
  const [, numbers = "", rest = ""] = parts
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  const release = new RegExp(`^${escape(numbers)}\\.\\d[\\d.]*${escape(rest)}$`)
  return earlier.some((e) => release.test(e))
}

/**
 * A listing through the default as of the day after its last release, its releases dated in the
 * order listed, a month apart (a retag on its release's day), as the line rule reads release dates; a current tag that is not
 * listed is the oldest. The outcome reads `update X`, `uptodate X`, `ahead X`, `floats X`,
 * `unranked X` or `none: <message>`.
 */
export const decideRow = (listed: ReadonlyArray<string>, current: string): string => {
  const order = [...new Set([...(listed.includes(current) ? [] : [current]), ...listed])]
  let month = -1
  const tags = order.map((tag, i) => {
    if (!isRetag(tag, order.slice(0, i))) month += 1
    return { tag, created: new Date(Date.UTC(2024, 0, 1) + month * MONTH) }
  })
  const now = Date.UTC(2024, 0, 1) + month * MONTH + DAY
  const choice = choose(selectorFor({}), tags, current, false)
  const line = Either.getOrThrow(decideLine(choice, tags, { ...noFacts(now), pushTimes: Option.some(new Map()) }))
  return Either.match(line.choice.selection, { onLeft: (e) => `none: ${e.message}`, onRight: (s) => `${s._tag.toLowerCase()} ${s.tag}` })
}

/**
 * A target modelled on a real image's tag history: its tags in release order, what the default
 * does with them, and whether a careful operator would accept what it writes.
 */
export interface RealisticRow {
  readonly image: string
  readonly tags: ReadonlyArray<string>
  readonly current: string
  /** What `decideRow` gives. */
  readonly expect: string
  readonly harmless: boolean
  /** One line: why the outcome is right, or why it hurts. */
  readonly why: string
}

/** The name of a row in a test report. */
export const rowName = (r: RealisticRow): string => `${r.image}: ${r.current} -> ${r.expect} (${r.why})`

/** The rows of one family as tests: each row's outcome through the default, and the list of the harmful ones. */
export const realisticTable = (family: string, rows: ReadonlyArray<RealisticRow>, harmful: ReadonlyArray<string>): void => {
  describe(family, () => {
    for (const r of rows) test(rowName(r), () => expect(decideRow(r.tags, r.current)).toBe(r.expect))
    test("the rows a careful operator would not accept", () => {
      expect(rows.filter((r) => !r.harmless).map((r) => `${r.image}: ${r.current}`)).toEqual([...harmful])
    })
  })
}

/** Each version's tags in every variant an image publishes for it, in release order: `each(["1.0"], ["", "-alpine"])`. */
export const each = (versions: ReadonlyArray<string>, variants: ReadonlyArray<string>): ReadonlyArray<string> =>
  versions.flatMap((v) => variants.map((variant) => `${v}${variant}`))
