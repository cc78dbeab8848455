/**
 * The default policy's release-line rule, judged on evidence: when the best candidate is on a
 * newer line, a tag of the current line published after the first tag of the newer line shows
 * that the project still maintains the current line, and the target stays on it. Pure: a release
 * date the evidence lacks is named as a `Need`.
 */
import { Either } from "effect"
import type { TagInfo } from "../domain/TagInfo.ts"
import type { DatedRelease, LineAnswer, ReleaseClock } from "../policy/releaseLines.ts"
import type { Choice, Facts, Need } from "./evidence.ts"

const DAY = 86_400_000
/** A release of the current line this close before the newer line's first came with it (MySQL shipped 8.0.34 and 8.1.0 the same day). */
const ALONGSIDE = 3 * DAY
/** How old the newer line's first release must be before a current line without a release since is taken as left. */
const SETTLING = 30 * DAY

/** Dates before this are no release dates (an image built with its clock at 0, `SOURCE_DATE_EPOCH=0`). */
const FIRST_PLAUSIBLE = Date.UTC(2000, 0, 1)

/**
 * When a tag was released, by the best clock there is: the registry's push or registration time,
 * Docker Hub's push times, the runner's own first sighting (only of a tag that came after the
 * first listing), else the image config's `created`. Undefined when none is known.
 */
export const releaseDate = (info: TagInfo, facts: Facts): Either.Either<number | undefined, Need> =>
  Either.map(datedRelease(info, facts), (d) => d.date)

/**
 * When the registry itself took a tag: its push or registration time from the listing, else
 * Docker Hub's push times (asked for once per image). Undefined when the registry does not say.
 * The age gate and the release-line rule both read it first.
 */
export const registryTime = (info: TagInfo, facts: Facts): Either.Either<{ readonly at: number; readonly listed: boolean } | undefined, Need> => {
  if (info.pushed !== undefined) return Either.right({ at: info.pushed.getTime(), listed: true })
  if (facts.pushTimes === undefined) return Either.left({ _tag: "PushTimes" })
  const pushed = facts.pushTimes._tag === "Some" ? facts.pushTimes.value.get(info.tag) : undefined
  return Either.right(pushed === undefined ? undefined : { at: pushed.getTime(), listed: false })
}

/** The release date of a tag and the clock that gave it. */
const datedRelease = (info: TagInfo, facts: Facts): Either.Either<DatedRelease, Need> => {
  const at = (clock: ReleaseClock, date: number | undefined) => Either.right({ tag: info.tag, date, clock: date === undefined ? undefined : clock })
  const registry = registryTime(info, facts)
  if (Either.isLeft(registry)) return Either.left(registry.left)
  if (registry.right !== undefined) return at(registry.right.listed ? "pushed" : "hub push", registry.right.at)
  const seen = facts.sightings?.get(info.tag)
  if (seen !== undefined && !seen.initial) return at("first seen", seen.seen)
  if (info.created !== undefined) return at("created", info.created.getTime())
  if (!facts.created.has(info.tag)) return Either.left({ _tag: "Created", tags: [info.tag] })
  return at("created", facts.created.get(info.tag)?.getTime())
}

/** The release dates of `wanted`, or what they lack: push times first, then every missing creation time at once. */
const datesOf = (wanted: ReadonlyArray<string>, tags: ReadonlyArray<TagInfo>, facts: Facts): Either.Either<ReadonlyArray<DatedRelease>, Need> => {
  const dated = wanted.map((tag) => datedRelease(tags.find((t) => t.tag === tag) ?? { tag }, facts))
  const needs = dated.flatMap((d) => (Either.isLeft(d) ? [d.left] : []))
  const first = needs[0]
  if (first === undefined) return Either.right(dated.flatMap((d) => (Either.isRight(d) ? [d.right] : [])))
  return Either.left(first._tag !== "Created" ? first : { _tag: "Created", tags: needs.flatMap((n) => (n._tag === "Created" ? n.tags : [])) })
}

/** The choice the line rule leaves for one current tag, and what the report says of it. */
export interface LineDecision {
  readonly choice: Choice
  /** Set when the target stays on its line: the newer release it holds back, and the report's words. */
  readonly kept?: KeptLine
  /** Set when the rule was asked: the lines, the dates compared and what decided, for `runner explain`. */
  readonly answer?: LineAnswer
}

export interface KeptLine {
  /** `8.3.0` */
  readonly newer: string
  /** `on the maintained 8.0 line (newer: 8.3.0)` */
  readonly note: string
}

/** Decides between the current line and the newer one, or names the release date it lacks. */
const decideLineOnce = (choice: Choice, tags: ReadonlyArray<TagInfo>, facts: Facts): Either.Either<LineDecision, Need> => {
  const q = choice.line
  if (q === undefined) return Either.right({ choice })
  const asked = datesOf([q.first, ...q.latest], tags, facts)
  if (Either.isLeft(asked)) return Either.left(asked.left)
  const dates = asked.right
  const [first, ...latest] = dates
  if (first === undefined) return Either.right({ choice })
  const { stay: _stay, ...question } = q
  const answer = (kept: boolean, rule: string): LineAnswer => ({ question, dates, kept, rule })
  const usable = dates.every((d) => d.date !== undefined && d.date >= FIRST_PLAUSIBLE) && new Set(dates.map((d) => d.date)).size > 1
  if (!usable) {
    const note = `on the ${q.line} line: ${q.newer} is on a newer line; without release dates the default stays on ${q.line} (version: "^" follows new lines)`
    return Either.right({ choice: q.stay, kept: { newer: q.newer, note }, answer: answer(true, `no usable release dates: stays on ${q.line} (none, before 2000 or all equal)`) })
  }
  const newest = latest.reduce((a, b) => ((b.date ?? 0) > (a.date ?? 0) ? b : a))
  const [kept, began] = [newest.date ?? 0, first.date ?? 0]
  const stay = (rule: string, note = `on the maintained ${q.line} line (newer: ${q.newer})`) => Either.right({ choice: q.stay, kept: { newer: q.newer, note }, answer: answer(true, rule) })
  const days = (millis: number) => `${Math.floor(millis / DAY)} day${Math.floor(millis / DAY) === 1 ? "" : "s"}`
  // Released after the newer line began, or with it: the project still ships the current line.
  if (kept > began) return stay(`kept: ${newest.tag} released after ${q.first}, the first release above ${q.line}`)
  if (kept > began - ALONGSIDE) return stay(`kept: ${newest.tag} released alongside ${q.first} (${days(began - kept)} before it), the first release above ${q.line}`)
  // A line that has just begun says nothing yet of the one before it (a clock behind the dates tells no age).
  if (facts.now >= began && facts.now - began < SETTLING) {
    const note = `on the ${q.line} line: ${q.newer} is on a newer line begun ${days(facts.now - began)} ago; the default waits ${days(SETTLING)} to see whether ${q.line} is still patched`
    return stay(`waits: ${q.first} is ${days(facts.now - began)} old, under ${days(SETTLING)}: too soon to tell whether ${q.line} is maintained`, note)
  }
  return Either.right({ choice, answer: answer(false, `moved on: no ${q.line} release with or after ${q.first}, ${days(facts.now - began)} ago`) })
}

/** The last answer per choice, with the facts it was reached on: the targets that share a choice share its answer. */
const answered = new WeakMap<Choice, { readonly tags: ReadonlyArray<TagInfo>; readonly facts: Facts; readonly decided: Either.Either<LineDecision, Need> }>()

/**
 * Decides between the current line and the newer one, or names the release date it lacks. Pure;
 * the answer of a choice on the same tags and facts is reused.
 */
export const decideLine = (choice: Choice, tags: ReadonlyArray<TagInfo>, facts: Facts): Either.Either<LineDecision, Need> => {
  if (choice.line === undefined) return Either.right({ choice })
  const last = answered.get(choice)
  if (last !== undefined && last.tags === tags && last.facts === facts) return last.decided
  const decided = decideLineOnce(choice, tags, facts)
  answered.set(choice, { tags, facts, decided })
  return decided
}
