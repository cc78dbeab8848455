import { Either } from "effect"
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
          return `${e.current ?? "(no tag)"} -> ${s.tag}: the highest candidate`
        case "UpToDate":
          return `${s.tag} stays: it is the highest candidate`
        case "Ahead":
          return `${s.tag} stays: it ranks above the best candidate ${s.best}, and downgrades are off`
        case "Unranked":
          return `${s.tag} stays: ${unrankedReason(s)}`
        case "Floats":
          return `${s.tag} stays: ${s.reason}`
      }
    }
  })

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
  lines.push(`  ${e.listed} tags listed, ${e.candidates.length} candidates${e.candidates.length === 0 ? "" : ", best first:"}`)
  const chosen = Either.isRight(e.selection) ? e.selection.right.tag : undefined
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
  lines.push(`  result: ${verdict(e)}`)
  return lines.join("\n") + "\n"
}
