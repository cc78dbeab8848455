import type { TagInfo } from "../domain/TagInfo.ts"

/**
 * A tag policy reads the values extracted from tags (`parse`: undefined for a value that is not a
 * version under this policy) and, for a target's current tag, says which of them are candidates
 * and in what order (`lineOf`). Policies that rank every tag alike give every target one line.
 */
export interface TagPolicy<R = unknown> {
  readonly name: string
  /** Ranks by push or creation time, which providers may have to look up tag by tag. */
  readonly usesCreated: boolean
  /** A current tag this policy cannot read is a floating tag (`latest`, `stable`), not a stale one. */
  readonly floating: boolean
  readonly parse: (value: string, tag: TagInfo) => R | undefined
  /** How a tag was read, for `runner explain`. */
  readonly describe: (rank: R) => string
  /**
   * Read once per listing: why a current tag is left alone whatever is listed, in the report's
   * words (an alias of a longer version, the only tag of its variant), or undefined when it is
   * ranked like any other.
   */
  readonly stays?: (listed: ReadonlyArray<{ readonly rank: R }>) => (current: R) => string | undefined
  /** The candidates and their order for a target whose current tag reads as `current` (undefined: none). */
  readonly lineOf: (current: R | undefined) => Line<R>
}

export interface Line<R> {
  /** Targets whose current tags give the same key share one ranking of a listing. */
  readonly key: string
  /** What the candidates have in common, in words (`variant alpine, 3 numbers, major 1`); may be empty. */
  readonly scope: string
  /** Why a tag is not a candidate, or undefined when it is one. */
  readonly reject: (rank: R) => string | undefined
  /** Positive when `a` ranks above `b`. Never 0 for two different tags, so the choice is stable. */
  readonly compare: (a: R, b: R) => number
  /** Two tags that stand for the same version: a current tag spelled otherwise is not moved. */
  readonly same: (a: R, b: R) => boolean
  /**
   * The line without its range: when no candidate is left, a current tag above every tag of this
   * line is ahead of the listing (the registry lags behind git), not without candidates.
   */
  readonly unbounded?: Line<R>
}

/** The line of a policy that ranks every tag alike, whatever the current tag. */
export const fixedLine = <R>(reject: (rank: R) => string | undefined, compare: (a: R, b: R) => number): Line<R> =>
  ({ key: "", scope: "", reject, compare, same: () => false })

/** Compares strings by code unit, which is byte order for the ASCII that tags are made of. */
export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
