/**
 * The gates, judged on evidence: candidates too new or unsigned are passed over for the best that
 * passes. Pure: where a fact is missing (a digest, a signature verdict, a push time), the walk
 * stops and names it, and `resolve` looks it up before asking again.
 */
import { Duration, Either } from "effect"
import type { CosignGate } from "../config/model.ts"
import { ConfigFailure, type RegistryCause, type TargetFailure } from "../domain/failures.ts"
import { missingPlatforms } from "../domain/platform.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { noGates, unpinnableProblem } from "../gates/match.ts"
import { type Choice, type CosignRule, type Facts, type Need, signatureKey, type Subject } from "./evidence.ts"
import { makeGateNotes, type PassedOver } from "./gateNotes.ts"
import { registryTime } from "./lines.ts"
import type { TargetPlan } from "./plan.ts"

/** Candidates checked against the gates per target and pass; more would cost a signature look-up each. */
const MAX_CHECKS = 10

/** How many candidates the gates passed, held for age, or skipped for their signatures: the metric counts them. */
export interface GateTally {
  readonly passed: number
  readonly held: number
  readonly skipped: number
}

/** What the gates made of a target's candidates. */
export interface Gated {
  /** Candidates that failed a gate, or were left unchecked after too many failed. */
  readonly failed: ReadonlySet<string>
  /** Candidates that passed, with the digest whose signatures verified. */
  readonly verified: ReadonlyMap<string, string | undefined>
  /** Why candidates were passed over, as the report says it: `held: 1.3.0 too new (...)`, the first few told, the rest counted. */
  readonly notes: ReadonlyArray<string>
  readonly passedOver: number
  /** Write `tag@digest` of what was verified. */
  readonly pin: boolean
  /** The candidates whose signatures verified, with who signed them as the report names it (`cosign.pub`). */
  readonly signed: ReadonlyMap<string, string>
  readonly tally: GateTally
}

/** Why the walk stopped short: a fact to look up, or a failure of the target. */
export type Halt = Need | TargetFailure

const NEEDS: ReadonlySet<string> = new Set<Need["_tag"]>(["PushTimes", "Created", "Digest", "Signature", "Platforms"])
export const isNeed = (halt: Halt): halt is Need => NEEDS.has(halt._tag)

type Verdict = { readonly _tag: "Pass"; readonly digest: string | undefined } | ({ readonly _tag: "Fail"; readonly result: "held" | "skipped" } & PassedOver)

/** A duration as the report shows it: `45s`, `3m`, `5h20m`, `3d4h`. */
const formatAge = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  const h = Math.floor(s / 3600)
  if (h < 48) return `${h}h${Math.floor((s % 3600) / 60) > 0 ? `${Math.floor((s % 3600) / 60)}m` : ""}`
  return `${Math.floor(h / 24)}d${h % 24 > 0 ? `${h % 24}h` : ""}`
}

/**
 * When a candidate was published, by the best clock there is for it, and that clock's name.
 * `history` says the candidate ranks at or below every current tag of the target.
 */
const publishedAt = (subject: Subject, info: TagInfo, history: boolean, facts: Facts): Either.Either<{ at: number; clock: string }, Need> => {
  // Docker Hub tells push times through its web API; when it cannot (a private image), the first sighting dates the tag.
  const registry = registryTime(info, facts)
  if (Either.isLeft(registry)) return Either.left(registry.left)
  if (registry.right !== undefined) {
    return Either.right({ at: registry.right.at, clock: registry.right.listed && subject.prepared.provider.type === "STORE" ? "registered" : "pushed" })
  }
  const seen = facts.sightings?.get(info.tag) ?? { seen: facts.now, initial: false }
  if (seen.initial && history) {
    // Only a tag of the first listing may be dated by its image's `created`, which its publisher
    // writes, and only one the target has already moved past: the first listing after an empty
    // data dir must not let a backdated new tag through.
    if (!facts.created.has(info.tag)) return Either.left({ _tag: "Created", tags: [info.tag] })
    const created = facts.created.get(info.tag)
    if (created !== undefined && created.getTime() < seen.seen) return Either.right({ at: created.getTime(), clock: "created" })
  }
  return Either.right({ at: seen.seen, clock: "first seen" })
}

/** Who a gate expects to have signed, as the report names it: the key file's name, or the keyless identity. */
const signerName = (cosign: CosignGate): string =>
  cosign.publicKeyFile !== undefined
    ? (cosign.publicKeyFile.split("/").pop() ?? cosign.publicKeyFile)
    : `${cosign.identity?.issuer ?? ""} ${cosign.identity?.subject ?? cosign.identity?.subjectPattern ?? ""}`

/** What a candidate's platforms say of the gates' list: nothing when it has them all, else why it is held. */
const platformVerdict = (tag: string, required: ReadonlyArray<string>, known: Either.Either<ReadonlySet<string>, RegistryCause>): Verdict | undefined => {
  if (Either.isLeft(known)) {
    return { _tag: "Fail", result: "held", note: `held: ${tag} platforms cannot be read (${known.left.message})`, kind: "platforms unreadable" }
  }
  const missing = missingPlatforms(required, known.right)
  if (missing.length === 0) return undefined
  const kind = `without a ${missing.join(" or ")} image`
  return { _tag: "Fail", result: "held", note: `held: ${tag} has no ${missing.join(" or ")} image`, kind }
}

/** One candidate against the applied gates: age first (free), then its platforms, then each signature rule in turn. */
const check = (subject: Subject, info: TagInfo, history: boolean, facts: Facts): Either.Either<Verdict, Halt> =>
  Either.gen(function* () {
    const { minAge, cosign, platforms } = subject.gates
    if (minAge !== undefined) {
      const { at, clock } = yield* publishedAt(subject, info, history, facts)
      const age = facts.now - at
      if (age < Duration.toMillis(minAge)) {
        const needs = formatAge(Duration.toMillis(minAge))
        const note = `held: ${info.tag} too new (${clock} ${formatAge(age)} ago, needs ${needs})`
        return { _tag: "Fail", result: "held", note, kind: `too new (needs ${needs})` } satisfies Verdict
      }
    }
    if (cosign.length === 0 && platforms.length === 0) return { _tag: "Pass", digest: undefined } satisfies Verdict
    const digest = facts.digests.get(info.tag)
    if (digest === undefined) return yield* Either.left({ _tag: "Digest", tag: info.tag } satisfies Need)
    if (Either.isLeft(digest) && platforms.length > 0) {
      const note = `held: ${info.tag} has no digest to read its platforms by (${digest.left.message})`
      return { _tag: "Fail", result: "held", note, kind: "without a digest to read platforms by" } satisfies Verdict
    }
    if (Either.isLeft(digest)) {
      const note = `skipped: ${info.tag} has no digest to verify (${digest.left.message})`
      return { _tag: "Fail", result: "skipped", note, kind: "without a digest to verify" } satisfies Verdict
    }
    if (platforms.length > 0) {
      const known = facts.platforms.get(digest.right)
      if (known === undefined) return yield* Either.left({ _tag: "Platforms", digest: digest.right } satisfies Need)
      const lacking = platformVerdict(info.tag, platforms, known)
      if (lacking !== undefined) return lacking
    }
    for (const rule of cosign) {
      const verified = yield* verdictOf(facts, rule, digest.right)
      if (Either.isLeft(verified)) {
        const kind = `not signed by ${signerName(rule.cosign)}`
        return { _tag: "Fail", result: "skipped", note: `skipped: ${info.tag} ${kind} (${verified.left})`, kind } satisfies Verdict
      }
    }
    // The digest is what a pinned field takes: only one whose signatures verified.
    return { _tag: "Pass", digest: cosign.length === 0 ? undefined : digest.right } satisfies Verdict
  })

const verdictOf = (facts: Facts, rule: CosignRule, digest: string): Either.Either<Either.Either<void, string>, Halt> => {
  const known = facts.signatures.get(signatureKey(rule, digest))
  if (known === undefined) return Either.left({ _tag: "Signature", digest, rule })
  return Either.isLeft(known) ? Either.left(new ConfigFailure({ detail: `gate ${rule.where}: ${known.left.detail}` })) : Either.right(known.right)
}

/** Why the gates cannot apply to a target at all, whatever its candidates. */
export const gateProblem = (subject: Subject): ConfigFailure | undefined => {
  const { gates, prepared: p } = subject
  const unpinnable = unpinnableProblem(gates, p.target)
  if (unpinnable !== undefined) return new ConfigFailure({ detail: unpinnable })
  const registryless =
    p.provider.type === "STORE" ? "a tag store" : p.provider.type === "HELM" ? "a chart repository" : undefined
  if (gates.cosign.length > 0 && registryless !== undefined) {
    return new ConfigFailure({
      detail: `gate ${gates.cosign[0]?.where ?? ""} asks for cosign signatures, but provider ${p.provider.name} is ${registryless}: there is no registry to read them from`
    })
  }
  if (gates.platforms.length > 0 && registryless !== undefined) {
    return new ConfigFailure({
      detail: `gate ${gates.platformsBy ?? ""} asks for platforms (${gates.platforms.join(", ")}), but provider ${p.provider.name} is ${registryless}: there is no registry to read them from`
    })
  }
  return undefined
}

const NOTHING_GATED: Gated = { failed: new Set(), verified: new Map(), notes: [], passedOver: 0, pin: false, signed: new Map(), tally: { passed: 0, held: 0, skipped: 0 } }

/**
 * The gate walk: for each current tag, the candidate the policy would choose is checked; one that
 * fails is passed over and the next best checked, until one passes or none is left above the
 * current tag. Past `MAX_CHECKS` failures the rest are passed over unchecked, all at once.
 * `also` are tags outside the walk whose digest is to be written all the same (a pinned field's
 * own tag, pushed again): they are checked like candidates.
 */
export const walkGates = (
  subject: Subject,
  tags: ReadonlyArray<TagInfo>,
  choiceOf: (current: string | undefined) => Choice,
  facts: Facts,
  also: ReadonlySet<string> = new Set()
): Either.Either<Gated, Halt> =>
  Either.gen(function* () {
    if (noGates(subject.gates)) return NOTHING_GATED
    const { currents, prepared: p } = subject
    // A verdict is kept for every current tag: a tag is history only below all of them.
    const history = (tag: string) => currents.every((current) => !p.selector.newer(tags, tag, current))
    const failed = new Set<string>()
    const verified = new Map<string, string | undefined>()
    const notes = makeGateNotes()
    const tally = { passed: 0, held: 0, skipped: 0 }
    for (const current of currents) {
      const choice = choiceOf(current)
      if (Either.isLeft(choice.selection) || choice.selection.right._tag !== "Update") continue
      const candidates = choice.inTurn.filter((t) => !failed.has(t.tag))
      for (const [checks, info] of candidates.entries()) {
        if (verified.has(info.tag)) break
        if (checks === MAX_CHECKS) {
          // The rest are passed over unchecked, up to the first that passed for another current tag.
          const rest = candidates.slice(checks)
          const stop = rest.findIndex((t) => verified.has(t.tag))
          const unchecked = stop === -1 ? rest : rest.slice(0, stop)
          for (const t of unchecked) failed.add(t.tag)
          notes.add({ note: "", kind: `not checked (${MAX_CHECKS} newer tags failed first)` }, unchecked.length)
          tally.held += unchecked.length
          break
        }
        const verdict = yield* check(subject, info, history(info.tag), facts)
        if (verdict._tag === "Pass") {
          tally.passed++
          verified.set(info.tag, verdict.digest)
          break
        }
        tally[verdict.result]++
        failed.add(info.tag)
        notes.add(verdict)
      }
    }
    for (const tag of also) {
      if (verified.has(tag) || failed.has(tag)) continue
      const verdict = yield* check(subject, tags.find((t) => t.tag === tag) ?? { tag }, history(tag), facts)
      tally[verdict._tag === "Pass" ? "passed" : verdict.result]++
      if (verdict._tag === "Pass") verified.set(tag, verdict.digest)
      else {
        failed.add(tag)
        notes.add(verdict)
      }
    }
    const signers = subject.gates.cosign.map(({ cosign }) => signerName(cosign)).join(" and ")
    const signed = new Map([...verified].flatMap(([tag, digest]) => (digest === undefined ? [] : [[tag, signers] as const])))
    return { failed, verified, notes: notes.render(), passedOver: notes.count(), pin: subject.gates.pinDigest, signed, tally }
  })

/**
 * What the report says of a change to a verified candidate: who signed it, and that the digest
 * was not pinned when the new value does not carry it (`pinDigest: false`, or a field of the tag alone).
 */
export const signatureNote = (gated: Gated, plan: TargetPlan): { readonly signature?: string } => {
  const signers = plan.edits.length === 0 ? undefined : gated.signed.get(plan.newTag)
  if (signers === undefined) return {}
  return { signature: `signed by ${signers}${plan.newDigest === undefined ? ", digest not pinned" : ""}` }
}
