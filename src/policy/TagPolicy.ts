/**
 * A tag policy ranks the values extracted from tags. `parse` says whether a value is a version
 * under this policy at all; `accepts` narrows the candidates (a semver range); `compare` orders.
 */
export interface TagPolicy<R = unknown> {
  readonly name: string
  /** Ranks by push or creation time, which providers may have to look up tag by tag. */
  readonly usesCreated: boolean
  readonly parse: (value: string, tag: TagInfo) => R | undefined
  readonly accepts: (rank: R) => boolean
  /** Positive when `a` ranks above `b`. Never 0 for two different tags, so the choice is stable. */
  readonly compare: (a: R, b: R) => number
}

/** A tag as a provider lists it. `created` is known only where the provider gives it cheaply. */
export interface TagInfo {
  readonly tag: string
  readonly created?: Date
  readonly digest?: string
}

/** Compares strings by code unit, which is byte order for the ASCII that tags are made of. */
export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
