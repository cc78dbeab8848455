/**
 * Why a target is held although the gates would let a candidate through: a person set it back
 * below what the runner wrote (a rollback is obeyed), or an operator suspended or paused it.
 * Pure: the tag last written and the pauses are read before decide and passed in as data.
 */
import { Either } from "effect"
import type { TagInfo } from "../domain/TagInfo.ts"
import type { NoCandidate, Selection, Selector } from "../policy/select.ts"

/** What `heldBelow` reads of a choice (evidence.ts's `Choice`, which imports this module). */
interface Chosen {
  readonly selection: Either.Either<Selection, NoCandidate>
  readonly inTurn: ReadonlyArray<TagInfo>
}

export type HoldReason =
  /** The field's tag ranks below `below`, the tag the runner last wrote into it. */
  | { readonly _tag: "RolledBack"; readonly below: string }
  | { readonly _tag: "Suspended"; readonly by: "target" | "watcher file" | "repository" }
  | { readonly _tag: "Paused" }
  /** A person closed the request that proposed this tag without merging it: `#12`, GitLab's `!12`. */
  | { readonly _tag: "Declined"; readonly request: string }

/** Why nothing is written, before any registry is asked: suspended or paused. */
export type Stop = Exclude<HoldReason, { readonly _tag: "RolledBack" | "Declined" }>

/** The report's words: `rolled back below 1.27.3: held until a newer tag`, `suspended (target)`, `paused (API)`. */
export const holdText = (reason: HoldReason): string => {
  switch (reason._tag) {
    case "RolledBack":
      return `rolled back below ${reason.below}: held until a newer tag`
    case "Suspended":
      return `suspended (${reason.by})`
    case "Paused":
      return "paused (API)"
    case "Declined":
      return `declined in ${reason.request}`
  }
}

/** One word per reason, as log events carry it. */
export const holdWord = (reason: HoldReason): "rolled_back" | "suspended" | "paused" | "declined" => {
  switch (reason._tag) {
    case "RolledBack":
      return "rolled_back"
    case "Suspended":
      return "suspended"
    case "Paused":
      return "paused"
    case "Declined":
      return "declined"
  }
}

/**
 * The tag last written, when a tag the field holds ranks below it under the target's own policy
 * (same kind: a variant or a line of its own is another target's business); undefined otherwise.
 */
export const rolledBackBelow = (
  selector: Selector,
  tags: ReadonlyArray<TagInfo>,
  currents: ReadonlyArray<string | undefined>,
  last: string | undefined
): string | undefined =>
  last !== undefined && currents.some((c) => c !== undefined && selector.above(tags, last, c)) ? last : undefined

/**
 * A choice for a field rolled back below `last`: `last` and every candidate at or below it are
 * held, the field keeps its tag; a candidate above `last` is chosen as usual. The gates then walk
 * only the candidates above it.
 */
export const heldBelow = <C extends Chosen>(selector: Selector, tags: ReadonlyArray<TagInfo>, last: string | undefined, current: string | undefined, choice: C): C => {
  if (last === undefined || current === undefined || !selector.above(tags, last, current)) return choice
  const above = (tag: string) => selector.above(tags, tag, last)
  const inTurn = choice.inTurn.filter((t) => above(t.tag))
  const s = choice.selection
  if (Either.isLeft(s) || s.right._tag !== "Update" || above(s.right.tag)) return { ...choice, inTurn }
  return { ...choice, selection: Either.right({ _tag: "UpToDate", tag: current, listed: s.right.listed, kept: s.right.kept }), inTurn: [] }
}

/** Why nothing is written for a target, before its image is listed: the repository's suspension first, then its own or its file's, then a pause. */
export const stopOf = (suspended: "target" | "watcher file" | undefined, repoSuspended: boolean, paused: boolean): Stop | undefined =>
  repoSuspended
    ? { _tag: "Suspended", by: "repository" }
    : suspended !== undefined
      ? { _tag: "Suspended", by: suspended }
      : paused
        ? { _tag: "Paused" }
        : undefined
