/**
 * `resolve`: the one stage of a pass that talks to registries. For one (provider, image) it
 * gathers the `Evidence` every target of the image is decided on: the listing, creation times
 * for policies that rank by them, first sightings, and the digests, push times and signature
 * verdicts the gates and pinned digests ask for. Those are asked for lazily: `judge` names the
 * fact it lacks, in the selector's rank order, and resolve looks it up and asks again.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Clock, Effect, Either, Option } from "effect"
import type { Pipeline } from "../config/model.ts"
import { RegistryFailure } from "../domain/failures.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { recordSightings } from "../gates/ages.ts"
import { noGates } from "../gates/match.ts"
import { Signatures, UnusableTrust } from "../gates/Signatures.ts"
import type { Selector } from "../policy/select.ts"
import { type TagSourceError, tellsPushTimes } from "../registry/TagSource.ts"
import { choose, type Decision, judge } from "./decide.ts"
import { type Choice, type CosignRule, type Evidence, type Facts, type Need, needKey, noFacts, type Reading, signatureKey, type Subject } from "./evidence.ts"
import { decideLine } from "./lines.ts"
import { TagCache } from "./TagCache.ts"

/** Lookups of one image at once; each host's limiter paces them further. */
const LOOKUP_CONCURRENCY = 4

type Requirements = TagCache | Signatures | FileSystem.FileSystem | Path.Path

/**
 * A target that may lack a fact: one with a gate, whose field pins a digest, or whose best
 * candidate is on a newer release line (release dates decide). The others are decided on the listing.
 */
const mayAsk = (readings: ReadonlyMap<Selector, Reading>) => (s: Subject): boolean =>
  !noGates(s.gates) ||
  s.prepared.target.format === "digest" ||
  s.hits.some((hit) => hit.value.includes("@") || (hit.key === "digest" && hit.value !== "")) ||
  s.currents.some((current) => readings.get(s.prepared.selector)?.choices.get(current)?.line !== undefined)

/** Each selector's choice per current tag of the targets that read the listing through it: the selector runs once for each. */
const choicesOf = (selector: Selector, subjects: ReadonlyArray<Subject>, tags: ReadonlyArray<TagInfo>): ReadonlyMap<string | undefined, Choice> => {
  const gated = new Map<string | undefined, boolean>()
  for (const s of subjects) for (const current of s.currents) gated.set(current, gated.get(current) === true || !noGates(s.gates))
  return new Map([...gated].map(([current, walk]) => [current, choose(selector, tags, current, walk)] as const))
}

/** Every selector's reading of the listing: the listing itself, or with creation times looked up for the candidates it keeps. */
const readingsOf = (subjects: ReadonlyArray<Subject>, provider: ProviderConfig, image: ImageRef, listing: ReadonlyArray<TagInfo>) => {
  const bySelector = new Map<Selector, Array<Subject>>()
  for (const s of subjects) {
    const group = bySelector.get(s.prepared.selector)
    if (group === undefined) bySelector.set(s.prepared.selector, [s])
    else group.push(s)
  }
  const readingOf = (selector: Selector, group: ReadonlyArray<Subject>, tags: Either.Either<ReadonlyArray<TagInfo>, RegistryFailure>): Reading => ({
    tags,
    choices: Either.isRight(tags) ? choicesOf(selector, group, tags.right) : new Map()
  })
  const dating = [...bySelector].filter(([selector]) => selector.needsCreated)
  // Most policies read the listing as it is: no effect, no fiber per image.
  const readings = new Map([...bySelector].flatMap(([selector, group]) => (selector.needsCreated ? [] : [[selector, readingOf(selector, group, Either.right(listing))] as const])))
  if (dating.length === 0) return Effect.succeed(readings)
  return Effect.flatMap(TagCache, (cache) =>
    Effect.forEach(
      dating,
      ([selector, group]) =>
        cache.withCreated(provider, image, listing, selector.candidates(listing)).pipe(
          Effect.mapError(failure(provider)),
          Effect.either,
          Effect.map((tags) => readings.set(selector, readingOf(selector, group, tags)))
        ),
      { concurrency: LOOKUP_CONCURRENCY, discard: true }
    ).pipe(Effect.as(readings))
  )
}

const failure = (provider: ProviderConfig) => (cause: TagSourceError) => new RegistryFailure({ provider: provider.name, cause })

const verify = (provider: ProviderConfig, image: ImageRef, digest: string, { cosign }: CosignRule) =>
  Effect.flatMap(Signatures, (signatures) => {
    if (cosign.publicKeyFile !== undefined) return signatures.verify(provider, image, digest, cosign.publicKeyFile)
    // The config loader accepts trustedRootFile only with an identity.
    if (cosign.trustedRootFile === undefined || cosign.identity === undefined) return Effect.fail(new UnusableTrust({ detail: "cosign needs publicKeyFile, or trustedRootFile with identity" }))
    return signatures.verifyKeyless(provider, image, digest, { trustedRootFile: cosign.trustedRootFile, identity: cosign.identity })
  }).pipe(Effect.either)

/**
 * What the release-line rule lacks to answer the image's choices: push times (or another fact)
 * first, else every missing creation time in one need. Asked per choice, which many targets
 * share, before any target is judged.
 */
const lineNeeds = (readings: ReadonlyMap<Selector, Reading>, facts: Facts): ReadonlyArray<Need> => {
  const others = new Map<string, Need>()
  const created = new Set<string>()
  for (const reading of readings.values()) {
    if (Either.isLeft(reading.tags)) continue
    for (const choice of reading.choices.values()) {
      if (choice.line === undefined) continue
      const decided = decideLine(choice, reading.tags.right, facts)
      if (Either.isRight(decided)) continue
      if (decided.left._tag === "Created") for (const tag of decided.left.tags) created.add(tag)
      else others.set(needKey(decided.left), decided.left)
    }
  }
  if (others.size > 0) return [...others.values()]
  return created.size === 0 ? [] : [{ _tag: "Created", tags: [...created] }]
}

/** Looks the needs up, and returns the facts with their answers. */
const lookUp = (provider: ProviderConfig, image: ImageRef, listing: ReadonlyArray<TagInfo>, needs: ReadonlyArray<Need>, facts: Facts) =>
  Effect.gen(function* () {
    const cache = yield* TagCache
    const created = new Map(facts.created)
    const digests = new Map(facts.digests)
    const signatures = new Map(facts.signatures)
    const platforms = new Map(facts.platforms)
    let pushTimes = facts.pushTimes
    const answer = (need: Need): Effect.Effect<void, never, TagCache | Signatures> => {
      switch (need._tag) {
        case "PushTimes":
          return cache.pushTimes(provider, image).pipe(Effect.option, Effect.map((times) => void (pushTimes = times)))
        case "Created": {
          const infos = need.tags.map((tag) => listing.find((t) => t.tag === tag) ?? { tag })
          return cache.withCreated(provider, image, infos, infos).pipe(
            Effect.option,
            Effect.map((dated) => {
              for (const [i, { tag }] of infos.entries()) created.set(tag, dated._tag === "Some" ? dated.value[i]?.created : undefined)
            })
          )
        }
        case "Digest":
          return cache.digest(provider, image, need.tag).pipe(Effect.either, Effect.map((digest) => void digests.set(need.tag, digest)))
        case "Signature":
          return verify(provider, image, need.digest, need.rule).pipe(Effect.map((verdict) => void signatures.set(signatureKey(need.rule, need.digest), verdict)))
        case "Platforms":
          return cache.platforms(provider, image, need.digest).pipe(Effect.either, Effect.map((known) => void platforms.set(need.digest, known)))
      }
    }
    yield* Effect.forEach(needs, answer, { concurrency: needs.length > 1 ? LOOKUP_CONCURRENCY : 1, discard: true })
    return { ...facts, created, digests, signatures, platforms, pushTimes } satisfies Facts
  })

/** What resolve shares across a repository's pass. */
export interface ResolveContext {
  readonly pipeline: Pipeline
  readonly dataDir: string
}

/**
 * What resolve found: the evidence, and the decisions `judge` already reached on it while asking
 * what it lacked (decide need not judge those targets again).
 */
export interface Resolved {
  readonly evidence: Evidence
  readonly decided: ReadonlyMap<Subject, Decision>
}

/** The evidence about one (provider, image), for `subjects`: every target of the pass that watches it. */
export const resolve = (subjects: ReadonlyArray<Subject>, ctx: ResolveContext): Effect.Effect<Resolved, never, Requirements> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const first = subjects[0]
    const without = (evidence: Evidence): Resolved => ({ evidence, decided: new Map() })
    if (first === undefined) return without({ listing: Either.right([]), readings: new Map(), facts: noFacts(now) })
    const { provider, image } = first.prepared
    const listing = yield* (yield* TagCache).get(provider, image).pipe(Effect.mapError(failure(provider)), Effect.either)
    if (Either.isLeft(listing)) return without({ listing, readings: new Map(), facts: noFacts(now) })
    const readings = yield* readingsOf(subjects, provider, image, listing.right)
    // Recorded on every pass with a minimum age for the image, whether or not a candidate needs
    // dating, so that the first listing is the first one ever.
    const minAge = subjects.some((s) => s.gates.minAge !== undefined)
    const sightings = minAge ? yield* recordSightings(ctx.dataDir, provider, image, listing.right, now) : undefined
    // Push times are asked only of a provider that has them apart from its listing.
    const pushTimes = tellsPushTimes(provider) ? undefined : Option.some(new Map<string, Date>())
    let evidence: Evidence = { listing, readings, facts: { ...noFacts(now), sightings, pushTimes } }
    const asked = new Set<string>()
    const ask = (needs: ReadonlyArray<Need>) =>
      Effect.map(lookUp(provider, image, listing.right, needs, evidence.facts), (facts) => {
        for (const need of needs) asked.add(needKey(need))
        evidence = { ...evidence, facts }
      })
    // The line rule's dates first, for every choice at once: then each target is judged once.
    for (;;) {
      const needs = lineNeeds(readings, evidence.facts).filter((n) => !asked.has(needKey(n)))
      if (needs.length === 0) break
      yield* ask(needs)
    }
    let asking = subjects.filter(mayAsk(readings))
    // The decisions of the last round, judged on the evidence as it is returned.
    let decided = new Map<Subject, Decision>()
    while (asking.length > 0) {
      const needs = new Map<string, Need>()
      const still: Array<Subject> = []
      decided = new Map()
      for (const s of asking) {
        const judged = judge(s, evidence)
        if (Either.isRight(judged)) {
          decided.set(s, judged.right)
          continue
        }
        still.push(s)
        const key = needKey(judged.left)
        if (!asked.has(key)) needs.set(key, judged.left)
      }
      // A need asked again after its answer would not end: decide then says what was missing.
      if (needs.size === 0) break
      yield* ask([...needs.values()])
      asking = still
    }
    return { evidence, decided }
  })
