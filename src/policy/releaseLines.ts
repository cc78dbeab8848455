/**
 * Release lines, for the default policy (`version: "auto"`): when the best candidate is on a newer
 * line than the current tag, which tags' release dates tell whether the project still maintains
 * the current line. The dates themselves are the pipeline's to find; this reads tags only.
 */
import type { TagInfo } from "../domain/TagInfo.ts"
import { compareVersions, parseVersion, releaseLine, type VersionRank } from "./version.ts"

/** The two lines at stake for one current tag, and the tags whose dates decide between them. */
export interface LineQuestion {
  /** The current tag's line (`8.0`). */
  readonly line: string
  /** The best candidate's line (`8.3`), and the best candidate (`8.3.0`). */
  readonly newerLine: string
  readonly newer: string
  /** The first release above the current line: the lowest version of the lines after it, up to the best candidate. */
  readonly first: string
  /** The tags of the current line that may have been published after it: its best release, and the current tag (rebuilt in place). */
  readonly latest: ReadonlyArray<string>
}

/** Which clock dated a release: the registry's own, Docker Hub's, the runner's first sighting, the image config. */
export type ReleaseClock = "pushed" | "hub push" | "first seen" | "created"

/** A release date the line rule compared; `date` undefined when no clock knows it. */
export interface DatedRelease {
  readonly tag: string
  readonly date: number | undefined
  readonly clock: ReleaseClock | undefined
}

/** How the line rule answered a question, for `runner explain`. */
export interface LineAnswer {
  readonly question: LineQuestion
  /** The first release above the current line, then the tags of `question.latest`. */
  readonly dates: ReadonlyArray<DatedRelease>
  /** Whether the target stays on its line. */
  readonly kept: boolean
  /** The rule that decided, in words: `kept: 8.0.36 released after 8.1.0, the first release above 8.0`. */
  readonly rule: string
}

interface Read {
  readonly info: TagInfo
  readonly rank: VersionRank
}

/**
 * The question for a current tag whose best candidate is `best`, or undefined when there is none
 * to ask: the same line, a counter (one number) or a calendar version (they move to the highest),
 * or a tag that does not read. Answers are kept per listing, by the lines and variant at stake.
 */
export const lineQuestions = (valueOf: (tag: string) => string | undefined) => {
  const readOf = (info: TagInfo): Read | undefined => {
    const value = valueOf(info.tag)
    const rank = value === undefined ? undefined : parseVersion(value, info.tag)
    return rank === undefined ? undefined : { info, rank }
  }
  const known = new WeakMap<ReadonlyArray<TagInfo>, Map<string, LineQuestion | undefined>>()
  return (tags: ReadonlyArray<TagInfo>, current: string | undefined, best: string): LineQuestion | undefined => {
    const c = current === undefined ? undefined : readOf(tags.find((t) => t.tag === current) ?? { tag: current })
    const b = readOf(tags.find((t) => t.tag === best) ?? { tag: best })
    if (c === undefined || b === undefined || c.rank.calendar || c.rank.numbers.length < 2) return undefined
    const line = releaseLine(c.rank)
    const newerLine = releaseLine(b.rank)
    if (line === newerLine) return undefined
    const key = [c.rank.word, c.rank.variant, c.rank.numbers.length, line, newerLine, current, best].join("\u0000")
    let byKey = known.get(tags)
    if (byKey === undefined) known.set(tags, (byKey = new Map()))
    if (byKey.has(key)) return byKey.get(key)
    // Releases of the variant: the first above the current line (the first line after it began
    // then), and the newest of the current line.
    let first: Read | undefined
    let onLine: Read | undefined
    for (const info of tags) {
      const r = readOf(info)
      const same = r !== undefined && r.rank.word === c.rank.word && r.rank.variant === c.rank.variant && r.rank.numbers.length === c.rank.numbers.length
      if (r === undefined || !same || r.rank.pre !== undefined) continue
      if (releaseLine(r.rank) === line) {
        if (onLine === undefined || compareVersions(r.rank, onLine.rank) > 0) onLine = r
      } else if (compareVersions(r.rank, c.rank) > 0 && compareVersions(r.rank, b.rank) <= 0 && (first === undefined || compareVersions(r.rank, first.rank) < 0)) {
        first = r
      }
    }
    const latest = [...new Set([onLine?.info.tag, current].filter((t): t is string => t !== undefined && tags.some((x) => x.tag === t)))]
    // The line as the current tag writes it (`22.04`).
    const written = c.rank.numbers.slice(0, 2).join(".")
    const question = first === undefined || latest.length === 0 ? undefined : { line: written, newerLine: b.rank.numbers.slice(0, 2).join("."), newer: best, first: first.info.tag, latest }
    byKey.set(key, question)
    return question
  }
}
