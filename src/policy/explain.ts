import { Either } from "effect"
import type { LineAnswer } from "./releaseLines.ts"
import type { Explanation, Selection } from "./select.ts"

/** Candidates shown in full; a listing of thousands stays readable. */
const SHOWN_CANDIDATES = 20
/** Examples shown for each reason a tag was passed over. */
const SHOWN_PER_REASON = 6

const verdict = (e: Explanation): string =>
  Either.match(e.selection, {
    onLeft: (none) => `failed: ${none.message}`,
    onRight: (s) => {
      switch (s._tag) {
        case "Update":
          return `${e.current ?? "(no tag)"} -> ${s.tag}: the highest candidate${onLine(e)}`
        case "UpToDate":
          return `${s.tag} stays: it is the highest candidate${onLine(e)}`
        case "Ahead":
          return `${s.tag} stays: it ranks above the best candidate ${s.best}, and downgrades are off`
        case "Unranked":
          return `${s.tag} stays: ${unrankedReason(s)}`
        case "Floats":
          return `${s.tag} stays: ${s.reason}`
      }
    }
  })

/** Where the line rule kept the target, in the result's words. */
const onLine = (e: Explanation): string => (e.line?.kept === true ? ` on the ${e.line.question.line} line` : "")

/** `1 candidate`, `2 candidates`. */
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`

const dateOf = (d: LineAnswer["dates"][number]): string =>
  d.date === undefined ? "no date" : `${new Date(d.date).toISOString()} (${d.clock ?? ""})`

/** The release-line rule: the lines, the dates it compared, and what decided. */
const lineLines = (a: LineAnswer, current: string | undefined): ReadonlyArray<string> => {
  const q = a.question
  const roles = new Map<string, string>([[q.first, `first release above ${q.line}`]])
  // `latest` is the line's newest release, then the current tag (rebuilt in place), once each.
  q.latest.forEach((tag, i) => roles.set(tag, [i === 0 ? `newest of ${q.line}` : "", tag === current ? "current" : ""].filter((r) => r !== "").join(", ")))
  const rows = a.dates.map((d) => [d.tag, `${dateOf(d)}  ${roles.get(d.tag) ?? ""}`.trimEnd()] as const)
  return [
    `  release line: ${q.line}; newer line ${q.newerLine} (best: ${q.newer}); release dates compared:`,
    ...column(rows).map((l) => `    ${l}`),
    `  line rule: ${a.rule}`
  ]
}

/** What the report says of a current tag the policy cannot rank. */
export const unrankedReason = (s: Extract<Selection, { _tag: "Unranked" }>): string =>
  s.floating
    ? "floating tag: name a policy to manage it"
    : `not read by ${s.policy}: left alone (allowDowngrade: true replaces it)`

const column = (rows: ReadonlyArray<readonly [string, string]>): ReadonlyArray<string> => {
  const width = Math.min(40, Math.max(0, ...rows.map(([tag]) => tag.length)))
  return rows.map(([tag, text]) => (text === "" ? tag : `${tag.padEnd(width)}  ${text}`))
}

/** The explanation as indented lines, under a heading that names the target. */
export const formatExplanation = (heading: string, e: Explanation): string => {
  const lines = [heading, `  policy: ${e.policy}`]
  if (e.current !== undefined) lines.push(`  current: ${e.current} (${e.currentReading ?? ""})`)
  if (e.scope !== "") lines.push(`  candidates must have: ${e.scope}`)
  lines.push(`  ${count(e.listed, "tag")} listed, ${count(e.candidates.length, "candidate")}${e.candidates.length === 0 ? "" : ", best first:"}`)
  // Only a move or a confirmed highest is a choice; a tag left alone is the current one.
  const s = Either.isRight(e.selection) ? e.selection.right : undefined
  const chosen = s?._tag === "Update" || s?._tag === "UpToDate" ? s.tag : undefined
  const shown = e.candidates.slice(0, SHOWN_CANDIDATES)
  lines.push(
    ...column(
      shown.map((c) => [c.tag, `${c.reading}${c.tag === chosen ? "  <- chosen" : c.tag === e.current ? "  <- current" : ""}`] as const)
    ).map((l) => `    ${l}`)
  )
  if (e.candidates.length > shown.length) lines.push(`    ... and ${e.candidates.length - shown.length} more`)
  for (const group of e.passedOver) {
    lines.push(`  passed over, ${group.reason} (${group.tags.length}):`)
    const examples = group.tags.slice(0, SHOWN_PER_REASON)
    lines.push(...column(examples.map((t) => [t.tag, t.reading ?? ""] as const)).map((l) => `    ${l}`))
    if (group.tags.length > examples.length) lines.push(`    ... and ${group.tags.length - examples.length} more`)
  }
  if (e.line !== undefined) lines.push(...lineLines(e.line, e.current))
  lines.push(`  result: ${verdict(e)}`)
  return lines.join("\n") + "\n"
}
