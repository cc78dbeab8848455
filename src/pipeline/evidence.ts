/**
 * What `resolve` learns from the registries about one (provider, image), as plain values, and
 * what `decide` may ask it for. Nothing here calls anything.
 */
import type { Either, Option } from "effect"
import type { AppliedGates } from "../gates/match.ts"
import type { Sighting } from "../gates/ages.ts"
import type { UnusableTrust } from "../gates/Signatures.ts"
import type { RegistryCause, RegistryFailure } from "../domain/failures.ts"
import type { ScalarHit } from "../manifest/patch.ts"
import type { LineQuestion } from "../policy/releaseLines.ts"
import type { NoCandidate, Selection, Selector } from "../policy/select.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import type { Pipeline, RepositoryConfig } from "../config/model.ts"
import type { Target } from "../domain/Target.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { Stop } from "./holds.ts"
import type { CompiledTarget } from "./plan.ts"

/** Where a target comes from: its pipeline, repository and watcher file. */
export interface TargetOrigin {
  readonly pipeline: Pipeline
  readonly repo: RepositoryConfig
  readonly watcherFile: string
  readonly target: Target
}

/** A target that passed the static checks, with its provider. */
export interface Prepared extends CompiledTarget, TargetOrigin {
  readonly provider: ProviderConfig
}

/** One target as decide sees it: what it watches, what its field holds, and what the gates ask of it. */
export interface Subject {
  readonly prepared: Prepared
  /** The scalars its field path finds in its file, as the file stands at the checkout's head. */
  readonly hits: ReadonlyArray<ScalarHit>
  /** The tags the field names (undefined for a field without tag), once each. */
  readonly currents: ReadonlyArray<string | undefined>
  readonly gates: AppliedGates
  /** `runner explain` asked how its tags were read. */
  readonly explain: boolean
  /** The tag the runner last wrote into this target, as the data dir remembers it. */
  readonly lastWritten?: string
  /** Suspended or paused: decided without asking a registry. */
  readonly stop?: Stop
}

/** What a policy made of a listing for one current tag: the selector runs once for it. */
export interface Choice {
  readonly selection: Either.Either<Selection, NoCandidate>
  /** The candidates above the current tag, best first, when a gate must walk them; empty otherwise. */
  readonly inTurn: ReadonlyArray<TagInfo>
  /** A newer release of the current tag's kind that the policy's range leaves out, when the current tag is the best in range. */
  readonly outside?: string
  /** The default policy's question when the best candidate is on a newer release line, with the choice on the current line. */
  readonly line?: LineQuestion & { readonly stay: Choice }
}

/** One selector's reading of the listing. */
export interface Reading {
  /** The listing as the selector ranks it: with creation times, for policies that rank by them. */
  readonly tags: Either.Either<ReadonlyArray<TagInfo>, RegistryFailure>
  readonly choices: ReadonlyMap<string | undefined, Choice>
}

/** The answers to what the gates and pinned digests asked, by tag. */
export interface Facts {
  /** When the image's tags were judged: one instant for every target of the image. */
  readonly now: number
  /** First sightings, recorded when a gate has a minimum age for the image. */
  readonly sightings: ReadonlyMap<string, Sighting> | undefined
  /** The registry's push times where it tells them apart from the listing; `None` when it cannot; unset until asked. */
  readonly pushTimes: Option.Option<ReadonlyMap<string, Date>> | undefined
  /** Creation times of tags of the first listing, as their image configs say. */
  readonly created: ReadonlyMap<string, Date | undefined>
  readonly digests: ReadonlyMap<string, Either.Either<string, RegistryCause>>
  /** By `signatureKey`: the verdict (Left: why the signatures do not verify), or why the key or trusted root cannot be used at all. */
  readonly signatures: ReadonlyMap<string, Either.Either<Either.Either<void, string>, UnusableTrust>>
  /** By manifest digest: the platforms its images are for (canonical spelling), or why the registry could not say. */
  readonly platforms: ReadonlyMap<string, Either.Either<ReadonlySet<string>, RegistryCause>>
}

/** Everything decisions about one (provider, image) need, gathered by `resolve`. */
export interface Evidence {
  readonly listing: Either.Either<ReadonlyArray<TagInfo>, RegistryFailure>
  readonly readings: ReadonlyMap<Selector, Reading>
  readonly facts: Facts
}

export type CosignRule = AppliedGates["cosign"][number]

/** A fact `decide` found missing: `resolve` looks it up and asks again. */
export type Need =
  | { readonly _tag: "PushTimes" }
  /** Creation times of these tags, asked together: the line rule names every date it lacks at once. */
  | { readonly _tag: "Created"; readonly tags: ReadonlyArray<string> }
  | { readonly _tag: "Digest"; readonly tag: string }
  | { readonly _tag: "Signature"; readonly digest: string; readonly rule: CosignRule }
  /** The platforms of the manifest (or index) behind a digest. */
  | { readonly _tag: "Platforms"; readonly digest: string }

/** A signature verdict's place in `Facts.signatures`: one per gate rule and digest. */
export const signatureKey = (rule: CosignRule, digest: string): string => `${rule.where}\u0000${digest}`

/** The same need asked by several targets is looked up once. */
export const needKey = (need: Need): string => {
  switch (need._tag) {
    case "PushTimes":
      return "pushTimes"
    case "Created":
      return `Created\u0000${need.tags.join("\u0000")}`
    case "Digest":
      return `Digest\u0000${need.tag}`
    case "Signature":
      return `signature\u0000${signatureKey(need.rule, need.digest)}`
    case "Platforms":
      return `Platforms\u0000${need.digest}`
  }
}

export const noFacts = (now: number): Facts => ({
  now,
  sightings: undefined,
  pushTimes: undefined,
  created: new Map(),
  digests: new Map(),
  signatures: new Map(),
  platforms: new Map()
})
