import type { FileSystem, Path } from "@effect/platform"
import { Clock, Duration, Effect, Either, Metric } from "effect"
import type { CosignGate, Pipeline } from "../config/model.ts"
import { ConfigFailure, type TargetFailure } from "../domain/failures.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { recordSightings, type Sighting } from "../gates/ages.ts"
import { type AppliedGates, gatesFor, noGates, unpinnableProblem } from "../gates/match.ts"
import { Signatures } from "../gates/Signatures.ts"
import { gateDecisions } from "../metrics.ts"
import { makeGateNotes, type PassedOver } from "./gateNotes.ts"
import type { TargetPlan } from "./plan.ts"
import type { Prepared } from "./prepare.ts"
import { listingKey, TagCache } from "./TagCache.ts"

/** Candidates checked against the gates per target and pass; more would cost a signature look-up each. */
const MAX_CHECKS = 10

/** What the gates made of a target's listing. */
export interface Gated {
  /** The listing less the candidates that failed a gate; verified candidates carry the digest that was verified. */
  readonly tags: ReadonlyArray<TagInfo>
  /** Why candidates were passed over, as the report says it: `held: 1.3.0 too new (...)`, the first few told, the rest counted. */
  readonly notes: ReadonlyArray<string>
  /** How many candidates were passed over. */
  readonly passedOver: number
  /** Write `tag@digest` of what was verified. */
  readonly pin: boolean
  /** The candidates whose signatures verified, with who signed them as the report names it (`cosign.pub`). */
  readonly signed: ReadonlyMap<string, string>
}

/** What the gate stage shares across a repository's targets in one pass. */
export interface GateContext {
  readonly pipeline: Pipeline
  readonly dataDir: string
  /** First sightings recorded this pass, per listing: each image's file is read and written once. */
  readonly sightings: Map<string, ReadonlyMap<string, Sighting>>
}

type Verdict =
  | { readonly _tag: "Pass"; readonly digest: string | undefined }
  | ({ readonly _tag: "Fail"; readonly result: "held" | "skipped" } & PassedOver)

/** The items before the first that `stop` holds for. */
const takeUntil = <A>(items: ReadonlyArray<A>, stop: (item: A) => boolean): ReadonlyArray<A> => {
  const at = items.findIndex(stop)
  return at === -1 ? items : items.slice(0, at)
}

/** A duration as the report shows it: `45s`, `3m`, `5h20m`, `3d4h`. */
const formatAge = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  const h = Math.floor(s / 3600)
  if (h < 48) return `${h}h${Math.floor((s % 3600) / 60) > 0 ? `${Math.floor((s % 3600) / 60)}m` : ""}`
  return `${Math.floor(h / 24)}d${h % 24 > 0 ? `${h % 24}h` : ""}`
}

type Requirements = TagCache | Signatures | FileSystem.FileSystem | Path.Path

/**
 * The image's first sightings, recorded once per pass: on every pass that has a minimum age for
 * it, whether or not a candidate needs dating, so that the first listing is the first one ever.
 */
const sightingsOf = (p: Prepared, listing: ReadonlyArray<TagInfo>, ctx: GateContext, now: number) =>
  Effect.gen(function* () {
    const key = listingKey(p.provider, p.image)
    const known = ctx.sightings.get(key)
    if (known !== undefined) return known
    const sightings = yield* recordSightings(ctx.dataDir, p.provider, p.image, listing, now)
    ctx.sightings.set(key, sightings)
    return sightings
  })

/**
 * When a candidate was published, by the best clock there is for it, and that clock's name.
 * `history` says the candidate ranks at or below every current tag of the target.
 */
const publishedAt = (p: Prepared, info: TagInfo, history: boolean, ctx: GateContext, listing: ReadonlyArray<TagInfo>, now: number) =>
  Effect.gen(function* () {
    if (info.pushed !== undefined) return { at: info.pushed.getTime(), clock: p.provider.type === "STORE" ? "registered" : "pushed" }
    // Docker Hub tells push times through its web API; when it cannot (a private image), the first sighting dates the tag.
    const pushed = yield* (yield* TagCache).pushTimes(p.provider, p.image).pipe(Effect.option)
    const pushedAt = pushed._tag === "Some" ? pushed.value.get(info.tag) : undefined
    if (pushedAt !== undefined) return { at: pushedAt.getTime(), clock: "pushed" }
    const seen = (yield* sightingsOf(p, listing, ctx, now)).get(info.tag) ?? { seen: now, initial: false }
    if (seen.initial && history) {
      // Only a tag of the first listing may be dated by its image's `created`, which its publisher
      // writes, and only one the target has already moved past: the first listing after an empty
      // data dir must not let a backdated new tag through.
      const dated = yield* (yield* TagCache).withCreated(p.provider, p.image, [info], [info]).pipe(Effect.option)
      const created = dated._tag === "Some" ? dated.value[0]?.created : undefined
      if (created !== undefined && created.getTime() < seen.seen) return { at: created.getTime(), clock: "created" }
    }
    return { at: seen.seen, clock: "first seen" }
  })

/** Checks one candidate against the applied gates: age first (free), then each signature rule. */
const check = (p: Prepared, gates: AppliedGates, info: TagInfo, history: boolean, listing: ReadonlyArray<TagInfo>, ctx: GateContext, now: number) =>
  Effect.gen(function* () {
    if (gates.minAge !== undefined) {
      const { at, clock } = yield* publishedAt(p, info, history, ctx, listing, now)
      const age = now - at
      if (age < Duration.toMillis(gates.minAge)) {
        const needs = formatAge(Duration.toMillis(gates.minAge))
        const note = `held: ${info.tag} too new (${clock} ${formatAge(age)} ago, needs ${needs})`
        return { _tag: "Fail", result: "held", note, kind: `too new (needs ${needs})` } satisfies Verdict
      }
    }
    if (gates.cosign.length === 0) return { _tag: "Pass", digest: undefined } satisfies Verdict
    const digest = yield* (yield* TagCache).digest(p.provider, p.image, info.tag).pipe(Effect.either)
    if (Either.isLeft(digest)) {
      const note = `skipped: ${info.tag} has no digest to verify (${digest.left.message})`
      return { _tag: "Fail", result: "skipped", note, kind: "without a digest to verify" } satisfies Verdict
    }
    const signatures = yield* Signatures
    for (const { cosign, where } of gates.cosign) {
      const verified = yield* verifyCosign(signatures, p, digest.right, cosign).pipe(
        Effect.mapError((detail) => new ConfigFailure({ detail: `gate ${where}: ${detail}` }))
      )
      if (Either.isLeft(verified)) {
        const kind = `not signed by ${signerName(cosign)}`
        return { _tag: "Fail", result: "skipped", note: `skipped: ${info.tag} ${kind} (${verified.left})`, kind } satisfies Verdict
      }
    }
    return { _tag: "Pass", digest: digest.right } satisfies Verdict
  })

/** Who a gate expects to have signed, as the report names it: the key file's name, or the keyless identity. */
const signerName = (cosign: CosignGate): string =>
  cosign.publicKeyFile !== undefined
    ? (cosign.publicKeyFile.split("/").pop() ?? cosign.publicKeyFile)
    : `${cosign.identity?.issuer ?? ""} ${cosign.identity?.subject ?? cosign.identity?.subjectPattern ?? ""}`

const verifyCosign = (signatures: Signatures["Type"], p: Prepared, digest: string, cosign: CosignGate) => {
  if (cosign.publicKeyFile !== undefined) return signatures.verify(p.provider, p.image, digest, cosign.publicKeyFile)
  // The config loader accepts trustedRootFile only with an identity.
  if (cosign.trustedRootFile === undefined || cosign.identity === undefined) return Effect.fail("cosign needs publicKeyFile, or trustedRootFile with identity")
  return signatures.verifyKeyless(p.provider, p.image, digest, { trustedRootFile: cosign.trustedRootFile, identity: cosign.identity })
}

/**
 * The gate stage, between selection and plan: the candidate the policy would choose is checked;
 * one that fails is passed over and the next best checked, until one passes or none is left
 * above the current tag. A STORE provider has no registry to read signatures from: a cosign gate
 * on its image fails the target.
 */
export const gateTarget = (
  p: Prepared,
  currents: ReadonlyArray<string | undefined>,
  listing: ReadonlyArray<TagInfo>,
  ctx: GateContext
): Effect.Effect<Either.Either<Gated, TargetFailure>, never, Requirements> =>
  Effect.gen(function* () {
    const gates = gatesFor(ctx.pipeline.gates, p.target, p.image)
    if (noGates(gates)) return { tags: listing, notes: [], passedOver: 0, pin: false, signed: new Map() }
    const unpinnable = unpinnableProblem(gates, p.target)
    if (unpinnable !== undefined) return yield* new ConfigFailure({ detail: unpinnable })
    if (gates.cosign.length > 0 && p.provider.type === "STORE") {
      return yield* new ConfigFailure({
        detail: `gate ${gates.cosign[0]?.where ?? ""} asks for cosign signatures, but provider ${p.provider.name} is a tag store: there is no registry to read them from`
      })
    }
    const now = yield* Clock.currentTimeMillis
    if (gates.minAge !== undefined) yield* sightingsOf(p, listing, ctx, now)
    // The listing itself until a tag is passed over: the selector reads and ranks a listing once,
    // by the array, so every target of an image shares that work while nothing is rejected.
    let kept = listing
    // A verdict is kept for every current tag: a tag is history only below all of them.
    const history = (tag: string) => currents.every((current) => !p.selector.newer(listing, tag, current))
    const verified = new Map<string, string | undefined>()
    const notes = makeGateNotes()
    const decided = (result: "passed" | "held" | "skipped", count = 1) =>
      Metric.incrementBy(gateDecisions({ pipeline: ctx.pipeline.name, result }), count)
    for (const current of currents) {
      for (let checks = 0; ; checks++) {
        const chosen = p.selector.select(kept, current)
        if (Either.isLeft(chosen) || chosen.right._tag !== "Update" || verified.has(chosen.right.tag)) break
        if (checks === MAX_CHECKS) {
          // The rest are passed over unchecked, all at once: one ranking, not one selection each.
          const rest = takeUntil(p.selector.inTurn(kept, current), (t) => verified.has(t.tag))
          const unchecked = new Set(rest.map((t) => t.tag))
          kept = kept.filter((t) => !unchecked.has(t.tag))
          notes.add({ note: "", kind: `not checked (${MAX_CHECKS} newer tags failed first)` }, unchecked.size)
          yield* decided("held", unchecked.size)
          break
        }
        const tag = chosen.right.tag
        const verdict = yield* check(p, gates, listing.find((t) => t.tag === tag) ?? { tag }, history(tag), listing, ctx, now)
        yield* decided(verdict._tag === "Pass" ? "passed" : verdict.result)
        if (verdict._tag === "Pass") {
          verified.set(tag, verdict.digest)
          break
        }
        kept = kept.filter((t) => t.tag !== tag)
        notes.add(verdict)
      }
    }
    const withDigest = (t: TagInfo): TagInfo => {
      const digest = verified.get(t.tag)
      return digest === undefined ? t : { ...t, digest }
    }
    const tags = [...verified.values()].some((digest) => digest !== undefined) ? kept.map(withDigest) : kept
    const signers = gates.cosign.map(({ cosign }) => signerName(cosign)).join(" and ")
    const signed = new Map([...verified].flatMap(([tag, digest]) => (digest === undefined ? [] : [[tag, signers] as const])))
    return { tags, notes: notes.render(), passedOver: notes.count(), pin: gates.pinDigest, signed }
  }).pipe(Effect.either)

/**
 * What the report says of a change to a verified candidate: who signed it, and that the digest
 * was not pinned when the new value does not carry it (`pinDigest: false`, or a field of the tag alone).
 */
export const signatureNote = (gated: Gated, plan: TargetPlan): { readonly signature?: string } => {
  const signers = plan.edits.length === 0 ? undefined : gated.signed.get(plan.newTag)
  if (signers === undefined) return {}
  return { signature: `signed by ${signers}${plan.newDigest === undefined ? ", digest not pinned" : ""}` }
}
