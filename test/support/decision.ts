/**
 * Subjects and Evidence built by hand, for tables of `decide`: a target in a file's text, the
 * gates of the Piped config, a listing, and the facts `resolve` would have gathered. No registry,
 * no git, no Effect runtime.
 */
import { expect } from "bun:test"
import { Duration, Either, Option } from "effect"
import type { GateConfig } from "../../src/config/model.ts"
import { RegistryFailure } from "../../src/domain/failures.ts"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { DEFAULT_EXCLUDE_TAGS, type Target } from "../../src/domain/Target.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { gatesFor, noGates } from "../../src/gates/match.ts"
import { UnusableTrust } from "../../src/gates/Signatures.ts"
import { parseManifest, spliceScalars } from "../../src/manifest/patch.ts"
import { choose, decide, type Decision, judge } from "../../src/pipeline/decide.ts"
import { type Evidence, type Facts, type Need, noFacts, type Reading, signatureKey, type Subject } from "../../src/pipeline/evidence.ts"
import { holdText } from "../../src/pipeline/holds.ts"
import { compileTarget, currentTags, fieldHits } from "../../src/pipeline/plan.ts"
import { formatExplanation } from "../../src/policy/explain.ts"
import { targetConfig } from "./config.ts"
import { pipelineOf } from "./inProcess.ts"

export const IMAGE = "gcr.io/x/app"
export const NOW = Date.parse("2026-11-30T12:00:00Z")
export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** `sha256:` and 64 times `c`. */
export const sha = (c: string): string => `sha256:${c.repeat(64)}`

/** A listed tag; `pushed` and `created` are how long before `NOW`. */
export const tag = (name: string, o: { readonly pushed?: number; readonly created?: number; readonly digest?: string } = {}): TagInfo => ({
  tag: name,
  ...(o.pushed === undefined ? {} : { pushed: new Date(NOW - o.pushed) }),
  ...(o.created === undefined ? {} : { created: new Date(NOW - o.created) }),
  ...(o.digest === undefined ? {} : { digest: o.digest })
})

const source = { file: "piped.yaml", line: 1 }
export const OCI: ProviderConfig = { name: "reg", type: "OCI", interval: Duration.minutes(5), insecure: false, source }
export const HUB: ProviderConfig = { name: "hub", type: "DOCKER_HUB", interval: Duration.minutes(5), source }
export const STORE: ProviderConfig = { name: "store", type: "STORE", interval: Duration.minutes(5), source }

/** A gate of `piped.yaml` over every image under `gcr.io/x/`, declared at line 30 unless told. */
export const gate = (over: Partial<GateConfig> & { readonly line?: number }): GateConfig => {
  const { line, ...rest } = over
  return { images: ["gcr.io/x/**"], pinDigest: false, source: { file: "piped.yaml", line: line ?? 30 }, ...rest }
}

export const KEY = { publicKeyFile: "/etc/runner/cosign.pub" }

/** What `resolve` would have learnt, as a row writes it: times are how long before `NOW`. */
export interface FactsRow {
  readonly sightings?: Readonly<Record<string, { readonly ago: number; readonly initial: boolean }>>
  /** Docker Hub's push times, or `none` when it cannot tell them. */
  readonly pushTimes?: Readonly<Record<string, number>> | "none"
  /** Creation times looked up, or `unknown` for a lookup that found none. */
  readonly created?: Readonly<Record<string, number | "unknown">>
  /** A digest, or the registry's words when the lookup failed. */
  readonly digests?: Readonly<Record<string, string | { readonly error: string }>>
  /** Verdicts by the index of the rule among the target's applied gates (0 unless told). */
  readonly signatures?: ReadonlyArray<{ readonly rule?: number; readonly digest: string; readonly verdict: "signed" | { readonly unsigned: string } | { readonly unusable: string } }>
  /** By digest: the platforms its manifest has images for, or the registry's words when reading them failed. */
  readonly platforms?: Readonly<Record<string, ReadonlyArray<string> | { readonly error: string }>>
}

export interface SubjectRow {
  /** The file's text; the target's field is `image` unless told. */
  readonly text: string
  readonly target?: Partial<Target>
  readonly gates?: ReadonlyArray<GateConfig>
  readonly provider?: ProviderConfig
  readonly explain?: boolean
  /** The tag the data dir remembers as last written into the target. */
  readonly lastWritten?: string
}

export interface EvidenceRow {
  readonly listing: ReadonlyArray<TagInfo> | { readonly error: string }
  /** `empty`: choices left for decide to compute; `{ error }`: the selector's reading (creation times) failed; `none`: no reading at all. */
  readonly reading?: "empty" | "none" | { readonly error: string }
  readonly facts?: FactsRow
}

const must = <A, E>(e: Either.Either<A, E>, what: string): A => {
  if (Either.isLeft(e)) throw new Error(`${what}: ${String(e.left)}`)
  return e.right
}

export const subjectOf = (row: SubjectRow): Subject => {
  const target = targetConfig({
    image: IMAGE,
    provider: (row.provider ?? OCI).name,
    policy: { _tag: "semver", range: "*" },
    excludeTags: DEFAULT_EXCLUDE_TAGS,
    ...row.target
  })
  const provider = row.provider ?? OCI
  const pipeline = pipelineOf({ providers: [provider], gates: row.gates ?? [] })
  const repo = pipeline.repositories[0]
  if (repo === undefined) throw new Error("pipelineOf names no repository")
  const compiled = must(compileTarget(target), "target")
  const prepared = { ...compiled, pipeline, repo, watcherFile: ".pipe/w.yaml", target, provider }
  const hits = must(Either.flatMap(parseManifest(row.text), (m) => fieldHits(m, compiled)), "field")
  return { prepared, hits, currents: currentTags(hits, target, compiled), gates: gatesFor(pipeline.gates, target, compiled.image), explain: row.explain === true, ...(row.lastWritten === undefined ? {} : { lastWritten: row.lastWritten }) }
}

const byAgo = <V, W>(record: Readonly<Record<string, V>>, f: (v: V) => W) => new Map(Object.entries(record).map(([k, v]) => [k, f(v)] as const))

const factsOf = (subject: Subject, row: FactsRow): Facts => ({
  ...noFacts(NOW),
  sightings: row.sightings === undefined ? undefined : byAgo(row.sightings, (s) => ({ seen: NOW - s.ago, initial: s.initial })),
  pushTimes: row.pushTimes === undefined ? undefined : row.pushTimes === "none" ? Option.none() : Option.some(byAgo(row.pushTimes, (ago) => new Date(NOW - ago))),
  created: byAgo(row.created ?? {}, (ago) => (ago === "unknown" ? undefined : new Date(NOW - ago))),
  digests: byAgo(row.digests ?? {}, (d) => (typeof d === "string" ? Either.right(d) : Either.left({ _tag: "RegistryError" as const, reason: "NotFound", message: d.error }))),
  platforms: byAgo(row.platforms ?? {}, (p) => ("error" in p ? Either.left({ _tag: "RegistryError" as const, reason: "Server", message: p.error }) : Either.right(new Set(p)))),
  signatures: new Map(
    (row.signatures ?? []).map(({ rule, digest, verdict }) => {
      const applied = subject.gates.cosign[rule ?? 0]
      if (applied === undefined) throw new Error(`no cosign rule ${rule ?? 0}`)
      const value: Either.Either<Either.Either<void, string>, UnusableTrust> =
        verdict === "signed" ? Either.right(Either.void) : "unsigned" in verdict ? Either.right(Either.left(verdict.unsigned)) : Either.left(new UnusableTrust({ detail: verdict.unusable }))
      return [signatureKey(applied, digest), value] as const
    })
  )
})

/** The evidence as `resolve` hands it over: the choices of every current tag, walked when a gate applies. */
export const evidenceOf = (subject: Subject, row: EvidenceRow): Evidence => {
  const provider = subject.prepared.provider.name
  const failure = (message: string) => new RegistryFailure({ provider, cause: { _tag: "RegistryError", message } })
  const facts = factsOf(subject, row.facts ?? {})
  if ("error" in row.listing) return { listing: Either.left(failure(row.listing.error)), readings: new Map(), facts }
  const tags = row.listing
  const selector = subject.prepared.selector
  const walk = !noGates(subject.gates)
  const reading: Reading =
    row.reading !== undefined && typeof row.reading === "object"
      ? { tags: Either.left(failure(row.reading.error)), choices: new Map() }
      : { tags: Either.right(tags), choices: row.reading === "empty" ? new Map() : new Map(subject.currents.map((c) => [c, choose(selector, tags, c, walk)] as const)) }
  return { listing: Either.right(tags), readings: row.reading === "none" ? new Map() : new Map([[selector, reading]]), facts }
}

const oneLine = (text: string) => text.trimEnd().split("\n").join(" / ")

/** A decision as one short line: `Update 1.1.0 (image: gcr.io/x/app:1.1.0) [signed by cosign.pub]; held: ...`. */
export const renderDecision = (d: Decision, text: string): string => {
  const notes = `${d.line === undefined ? "" : ` {${d.line.note}}`}${(d.gateNotes ?? []).map((n) => `; ${n}`).join("")}`
  switch (d._tag) {
    case "Update": {
      const patched = must(spliceScalars(text, d.plan.edits), "splice")
      return `Update ${d.chosen ?? ""} (${oneLine(patched)})${d.signature === undefined ? "" : ` [${d.signature}]`}${notes}`
    }
    case "UpToDate":
      return `UpToDate ${d.chosen ?? ""}${notes}`
    case "Ahead":
      return `Ahead ${d.current ?? ""} (best ${d.best})`
    case "Held":
      return `Held${d.reason === undefined ? "" : ` (${holdText(d.reason)})`}: ${(d.gateNotes ?? []).join("; ")}`
    case "LeftAlone":
      return `LeftAlone ${d.current ?? ""}: ${d.reason}`
    case "Failed":
      return `Failed ${d.failure._tag}: ${d.failure.message}`
  }
}

export const renderNeed = (need: Need): string => {
  switch (need._tag) {
    case "PushTimes":
      return "Needs PushTimes"
    case "Created":
      return `Needs Created ${need.tags.join(" ")}`
    case "Digest":
      return `Needs Digest ${need.tag}`
    case "Signature":
      return `Needs Signature ${need.digest} (gate ${need.rule.where})`
    case "Platforms":
      return `Needs Platforms ${need.digest}`
  }
}

/** One row of a table of `decide`. */
export interface Row extends SubjectRow, EvidenceRow {
  readonly name: string
  /**
   * The decision as one line (see `renderDecision`); `Failed <Failure>: <substring>` for a
   * failure; `Needs ...` for the fact `judge` asks for, where `decide` would fail.
   */
  readonly expect: string
  /** The gates' tally: passed, held, skipped. */
  readonly tally?: readonly [number, number, number]
  /** How many explanations the decision carries (`runner explain`). */
  readonly explained?: number
  /** Lines the explanations show, in this order (`runner explain`); needs `explain: true`. */
  readonly explainText?: ReadonlyArray<string>
}

/** Judges and decides a row, and checks what comes out against what it expects. */
export const checkRow = (row: Row): void => {
  const subject = subjectOf(row)
  const evidence = evidenceOf(subject, row)
  const judged = judge(subject, evidence)
  const decision = decide(subject, evidence)
  if (row.expect.startsWith("Needs ")) {
    // judge asks for the fact; decide, which must not ask, would fail the target for it.
    expect(Either.isLeft(judged) ? renderNeed(judged.left) : `decided: ${renderDecision(judged.right, row.text)}`).toBe(row.expect)
    expect(renderDecision(decision, row.text)).toStartWith("Failed InternalFailure: internal error: decided without the ")
    return
  }
  // With every fact at hand, judge decides as decide does.
  expect(Either.isRight(judged) ? judged.right : judged.left).toEqual(decision)
  const line = renderDecision(decision, row.text)
  if (row.expect.startsWith("Failed ")) {
    const [head = "", ...rest] = row.expect.split(": ")
    expect(line).toStartWith(`${head}: `)
    expect(line).toContain(rest.join(": "))
  } else expect(line).toBe(row.expect)
  if (row.tally !== undefined) {
    const [passed, held, skipped] = row.tally
    expect(decision.tally).toEqual({ passed, held, skipped })
  }
  expect(decision.explanations?.length).toBe(row.explained)
  if (row.explainText !== undefined) {
    const shown = (decision.explanations ?? []).map((e) => formatExplanation("h", e)).join("").split("\n")
    const at = row.explainText.map((l) => shown.indexOf(l))
    expect(row.explainText.filter((_l, i) => at[i] === -1), shown.join("\n")).toEqual([])
    expect(at).toEqual([...at].sort((a, b) => a - b))
  }
}
