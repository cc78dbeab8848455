/**
 * Why a target's candidates were passed over, as its report line says it. A listing may hold any
 * number of candidates that fail a gate: a few are told one by one, more are counted by what they
 * failed, so that the line stays one line of bounded length.
 */

/** Up to this many candidates are all told one by one; past it, the first is, and the rest counted by kind. */
const TOLD = 3
/** A told note is cut here: a tag, a key file's name and a verifier's reason are the registry's or the config's words. */
const NOTE_CHARS = 200

/** One candidate passed over: the report's words for it, and the short kind it is counted under past the first few. */
export interface PassedOver {
  /** `skipped: 1.3.0 not signed by cosign.pub (no signature)` */
  readonly note: string
  /** `not signed by cosign.pub` */
  readonly kind: string
}

export interface GateNotes {
  /** `count` candidates passed over for the same reason at once (those never checked) are counted, never told. */
  readonly add: (passed: PassedOver, count?: number) => void
  /** How many candidates were passed over in all. */
  readonly count: () => number
  /** The notes of the report line: at most three told, or past that the first told and the rest counted by kind. */
  readonly render: () => ReadonlyArray<string>
}

const cut = (text: string): string => (text.length <= NOTE_CHARS ? text : `${text.slice(0, NOTE_CHARS - 1)}…`)

const thousands = (n: number): string => n.toLocaleString("en-US")

export const makeGateNotes = (): GateNotes => {
  // The first notes, while every candidate came alone: all of them are the line when there are few.
  const told: Array<string> = []
  // Every candidate but the first, by kind in the order first met: a handful of kinds (one per gate rule) whatever their number.
  const counted = new Map<string, number>()
  let batched = false
  let total = 0
  return {
    add: (passed, count = 1) => {
      if (count <= 0) return
      if (count > 1) batched = true
      if (count === 1 && !batched && told.length < TOLD) told.push(cut(passed.note))
      // The first candidate is told on any line; the others are counted.
      if (total > 0 || count > 1) counted.set(passed.kind, (counted.get(passed.kind) ?? 0) + count)
      total += count
    },
    count: () => total,
    render: () => {
      if (!batched && total <= TOLD) return told
      const kinds = [...counted].map(([kind, n]) => `${thousands(n)} ${kind}`).join(", ")
      // Told is empty only when a batch came first, and then that batch is counted whole.
      const first = told.slice(0, 1)
      return [...first, `${thousands(total - first.length)} more: ${cut(kinds)}`]
    },
  }
}
