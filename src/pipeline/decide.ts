/**
 * `decide`: what one target's field should hold, from the evidence `resolve` gathered about its
 * image. Select, gate and plan in one place, pure: no registry, no git, no clock.
 */
import { Either } from "effect"
import { InternalFailure, NoCandidateFailure, RegistryFailure, type TargetFailure } from "../domain/failures.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { unrankedReason } from "../policy/explain.ts"
import type { Explanation, Selection, Selector } from "../policy/select.ts"
import type { Choice, Evidence, Need, Subject, TargetOrigin } from "./evidence.ts"
import { type Gated, gateProblem, type GateTally, isNeed, signatureNote, walkGates } from "./gate.ts"
import { noGates } from "../gates/match.ts"
import { heldBelow, type HoldReason, rolledBackBelow, type Stop } from "./holds.ts"
import { decideLine, type KeptLine, type LineDecision } from "./lines.ts"
import { messageProblem, planTarget, type TargetPlan } from "./plan.ts"

/** What every decision tells of its target: which it is, and what the report shows of it. */
export interface Told {
  readonly origin: TargetOrigin
  readonly current: string | undefined
  readonly chosen: string | undefined
  readonly listed: number | undefined
  readonly kept: number | undefined
  /** Candidates the gates passed over, and why: `held: 1.3.0 too new (first seen 3m ago, needs 24h)`. */
  readonly gateNotes?: ReadonlyArray<string>
  /** Of a change to a verified candidate: `signed by cosign.pub`, with `, digest not pinned` when the new value does not carry it. */
  readonly signature?: string
  /** How the tags were read for each tag the field holds: only for targets `runner explain` asked about. */
  readonly explanations?: ReadonlyArray<Explanation>
  /** The gates' verdicts on candidates, which the metrics count. */
  readonly tally?: GateTally
  /** The default policy kept the target on its release line while a newer line has a release. */
  readonly line?: KeptLine
}

export type Decision =
  /** The field moves: the edits of its scalars and what the commit line says. */
  | (Told & { readonly _tag: "Update"; readonly subject: Subject; readonly plan: TargetPlan })
  | (Told & { readonly _tag: "UpToDate" })
  /** The field's tag ranks above every candidate; downgrades are off. */
  | (Told & { readonly _tag: "Ahead"; readonly best: string })
  /**
   * Nothing is written and nothing failed: every candidate above the field's tag failed a gate
   * (`gateNotes` says how), or `reason` (a rollback, a suspension, a pause).
   */
  | (Told & { readonly _tag: "Held"; readonly reason?: HoldReason })
  /** The policy cannot rank the field's tag (a floating tag under `version`), so it is left as it is. */
  | (Told & { readonly _tag: "LeftAlone"; readonly reason: string })
  | (Told & { readonly _tag: "Failed"; readonly failure: TargetFailure })

export type Update = Extract<Decision, { readonly _tag: "Update" }>

/** The decision about a target that failed before a tag could be chosen. */
export const failed = (origin: TargetOrigin, failure: TargetFailure, current?: string): Decision => ({
  _tag: "Failed",
  failure,
  origin,
  current,
  chosen: undefined,
  listed: undefined,
  kept: undefined
})

/** The decision about a suspended or paused target: held, no registry asked. */
export const stopped = (subject: Subject, reason: Stop): Decision => ({
  _tag: "Held",
  reason,
  origin: subject.prepared,
  current: subject.currents[0],
  chosen: undefined,
  listed: undefined,
  kept: undefined
})

/**
 * What the selector makes of a listing for one current tag: its choice, and when a gate may pass
 * candidates over, the candidates in the order it would choose them. `resolve` asks once per
 * selector and current tag of an image, whatever the number of targets.
 */
export const choose = (selector: Selector, tags: ReadonlyArray<TagInfo>, current: string | undefined, gated: boolean): Choice => {
  const selection = selector.select(tags, current)
  const update = Either.isRight(selection) && selection.right._tag === "Update" ? selection.right : undefined
  const upToDate = Either.isRight(selection) && selection.right._tag === "UpToDate"
  const outside = upToDate ? selector.outside(tags, current) : undefined
  const choice = { selection, inTurn: gated && update !== undefined ? selector.inTurn(tags, current) : [], ...(outside === undefined ? {} : { outside }) }
  const { maintained } = selector
  const question = maintained === undefined || update === undefined ? undefined : maintained.question(tags, current, update.tag)
  return question === undefined || maintained === undefined ? choice : { ...choice, line: { ...question, stay: choose(maintained.stay, tags, current, gated) } }
}

/** The choice for a current tag past the gates: the best candidate no gate failed, or the current tag kept. */
const chooser =
  (choiceOf: (current: string | undefined) => Choice, tags: ReadonlyArray<TagInfo>, gated: Gated) =>
  (current: string | undefined): Either.Either<Selection, NoCandidateFailure> => {
    const choice = choiceOf(current)
    if (Either.isLeft(choice.selection)) return Either.left(new NoCandidateFailure({ detail: choice.selection.left.message }))
    const s = choice.selection.right
    if (s._tag !== "Update" || gated.failed.size === 0) return Either.right(s)
    const best = choice.inTurn.find((t) => !gated.failed.has(t.tag))
    if (best !== undefined) return Either.right({ ...s, tag: best.tag })
    // Held: the field keeps its tag. A listed tag keeps following its digest, as an up-to-date one does.
    const listed = current !== undefined && tags.some((t) => t.tag === current)
    return Either.right(listed ? { _tag: "UpToDate", tag: current, listed: s.listed, kept: s.kept } : { _tag: "Ahead", tag: current ?? "", best: "", listed: s.listed, kept: s.kept })
  }

/**
 * A digest the decision may write: the one the gates verified, the listing's, or one `resolve`
 * looked up. Under a signature gate, only a verified digest is written: a refused one is `null`.
 */
const digestOf = (subject: Subject, evidence: Evidence, tags: ReadonlyArray<TagInfo>, gated: Gated) => (tag: string) => {
  const verified = gated.verified.get(tag)
  if (subject.gates.cosign.length > 0) return verified ?? (gated.failed.has(tag) ? null : undefined)
  const known = verified ?? tags.find((t) => t.tag === tag)?.digest
  if (known !== undefined) return known
  const looked = evidence.facts.digests.get(tag)
  return looked !== undefined && Either.isRight(looked) ? looked.right : undefined
}

/** The decision of a field that needs no change. */
const unchanged = (s: Selection, passedOver: number) => {
  if (passedOver > 0) return { _tag: "Held" } as const
  switch (s._tag) {
    case "Ahead":
      return { _tag: "Ahead", best: s.best } as const
    case "Unranked":
      return { _tag: "LeftAlone", reason: unrankedReason(s) } as const
    case "Floats":
      return { _tag: "LeftAlone", reason: s.reason } as const
    case "Update":
    case "UpToDate":
      return { _tag: "UpToDate" } as const
  }
}

/**
 * Decides one target on the evidence so far, or names the fact it lacks. `resolve` asks until no
 * fact is lacking; then the decision is final.
 */
export const judge = (subject: Subject, evidence: Evidence): Either.Either<Decision, Need> => {
  const p = subject.prepared
  const done = (d: Decision) => Either.right(d)
  if (Either.isLeft(evidence.listing)) return done(failed(p, evidence.listing.left))
  const reading = evidence.readings.get(p.selector)
  if (reading === undefined) return done(failed(p, new InternalFailure({ detail: `no reading of ${p.target.image} for this target` })))
  if (Either.isLeft(reading.tags)) return done(failed(p, reading.tags.left))
  const tags = reading.tags.right
  const problem = gateProblem(subject)
  if (problem !== undefined) return done({ ...failed(p, problem), ...explainedBy(subject, tags, new Map()) })
  const read = (current: string | undefined) => reading.choices.get(current) ?? choose(p.selector, tags, current, !noGates(subject.gates))
  // The default policy's line rule first: the gates walk the candidates of the line it keeps.
  const lines = new Map<string | undefined, LineDecision>()
  for (const current of subject.currents) {
    const decided = decideLine(read(current), tags, evidence.facts)
    if (Either.isLeft(decided)) return Either.left(decided.left)
    lines.set(current, decided.right)
  }
  const explained = explainedBy(subject, tags, lines)
  // A person's rollback below what the runner wrote is obeyed: what ranks at or below that is held.
  const rolledBack = rolledBackBelow(p.selector, tags, subject.currents, subject.lastWritten)
  const choiceOf = (current: string | undefined) => heldBelow(p.selector, tags, rolledBack, current, lines.get(current)?.choice ?? read(current))
  // What the target holds back: a newer line the rule kept it from, else a release outside its range.
  const beyond = subject.currents.flatMap((current) => {
    const newer = read(current).outside
    return newer === undefined ? [] : [{ newer, note: `(newer: ${newer}, outside ${p.selector.name})` }]
  })
  const kept = [...lines.values()].flatMap((l) => (l.kept === undefined ? [] : [l.kept]))[0] ?? beyond[0]
  const line = { ...(kept === undefined ? {} : { line: kept }), ...(rolledBack === undefined ? {} : { rolledBack }) }
  // A pinned field's own tag pushed again under a signature gate: its new digest is checked like a candidate's.
  const also = new Set<string>()
  for (;;) {
    const walked = walkGates(subject, tags, choiceOf, evidence.facts, also)
    if (Either.isLeft(walked)) return isNeed(walked.left) ? Either.left(walked.left) : done({ ...failed(p, walked.left), ...explained })
    const gated = walked.right
    const tally = gated.tally.passed + gated.tally.held + gated.tally.skipped === 0 ? {} : { tally: gated.tally }
    const planned = planTarget(subject.hits, p.target, p.image, { choose: chooser(choiceOf, tags, gated), digestOf: digestOf(subject, evidence, tags, gated), pin: gated.pin })
    if (Either.isLeft(planned)) return done({ ...failed(p, planned.left), ...explained, ...tally })
    if (planned.right._tag === "Planned") return done(outcome(subject, planned.right.plan, gated, { ...explained, ...tally }, line, tags.length))
    const tag = planned.right.tag
    if (subject.gates.cosign.length > 0 && !also.has(tag)) {
      also.add(tag)
      continue
    }
    const looked = evidence.facts.digests.get(tag)
    if (looked === undefined) return Either.left({ _tag: "Digest", tag })
    const cause = Either.isLeft(looked) ? looked.left : { _tag: "RegistryError" as const, message: `no digest for ${tag}` }
    return done({ ...failed(p, new RegistryFailure({ provider: p.provider.name, cause })), ...explained, ...tally })
  }
}

/** For a target `runner explain` asked about: how its tags were read, and what the line rule made of them. */
const explainedBy = (subject: Subject, tags: ReadonlyArray<TagInfo>, lines: ReadonlyMap<string | undefined, LineDecision>): Pick<Told, "explanations"> => {
  if (!subject.explain) return {}
  const explanation = (current: string | undefined): Explanation => {
    const e = subject.prepared.selector.explain(tags, current)
    const answer = lines.get(current)?.answer
    return answer === undefined ? e : { ...e, line: answer, selection: lines.get(current)?.choice.selection ?? e.selection }
  }
  return { explanations: subject.currents.map(explanation) }
}

/** What a plan makes of the target: a change, or why its field stays as it is. */
const outcome = (
  subject: Subject,
  plan: TargetPlan,
  gated: Gated,
  extra: Pick<Told, "explanations" | "tally">,
  line: Pick<Told, "line"> & { readonly rolledBack?: string },
  listed: number
): Decision => {
  const p = subject.prepared
  const notes = gated.notes.length === 0 ? {} : { gateNotes: gated.notes }
  // A held field without a tag names no tag kept.
  const chosen = plan.selection.tag === "" ? undefined : plan.selection.tag
  const { rolledBack, ...lineNote } = line
  const told: Told = { origin: p, current: plan.current, chosen, listed, kept: plan.selection.kept, ...extra, ...lineNote, ...notes, ...signatureNote(gated, plan) }
  if (plan.edits.length === 0) {
    return { ...told, ...(rolledBack === undefined ? unchanged(plan.selection, gated.passedOver) : { _tag: "Held", reason: { _tag: "RolledBack", below: rolledBack } }) }
  }
  // Refused here, before the splice: later targets of the file build on this one's text.
  const unwritable = messageProblem(plan, p.target)
  if (unwritable !== undefined) return { ...failed(p, unwritable, plan.current), ...extra }
  return { ...told, _tag: "Update", subject, plan }
}

/** The final decision about a target, once `resolve` has gathered what it needed. */
export const decide = (subject: Subject, evidence: Evidence): Decision =>
  Either.getOrElse(judge(subject, evidence), (need) =>
    failed(subject.prepared, new InternalFailure({ detail: `decided without the ${need._tag} it needed` }))
  )

