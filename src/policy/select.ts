import { Data, Either } from "effect"
import type { PolicySpec } from "../domain/PolicySpec.ts"
import { isValidTag } from "../domain/ImageRef.ts"
import { isValidChartVersion } from "../domain/ociChart.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { memoize } from "../memo.ts"
import { compileRe2, expandTemplate, type Re2 } from "./re2.ts"
import { alphabeticalPolicy, newestPolicy, numericalPolicy } from "./ordered.ts"
import { type LineAnswer, type LineQuestion, lineQuestions } from "./releaseLines.ts"
import { semverPolicy, validSemverRange } from "./semver.ts"
import type { Line, TagPolicy } from "./TagPolicy.ts"
import { validVersionRange, versionPolicy } from "./version.ts"

interface Counts {
  readonly listed: number
  readonly kept: number
}

/** What tag selection concluded for one target. "Nothing to do" is a value, not an error. */
export type Selection =
  | ({ readonly _tag: "Update"; readonly tag: string } & Counts)
  | ({ readonly _tag: "UpToDate"; readonly tag: string } & Counts)
  /** The current tag ranks above every candidate and downgrades are not allowed. */
  | ({ readonly _tag: "Ahead"; readonly tag: string; readonly best: string } & Counts)
  /**
   * The policy cannot rank the current tag, which is left alone unless downgrades are allowed:
   * a floating tag (`latest`, `stable`) under `version`, a value outside the policy otherwise.
   */
  | ({ readonly _tag: "Unranked"; readonly tag: string; readonly floating: boolean; readonly policy: string } & Counts)
  /** The policy reads the current tag but leaves it alone (`reason`): an alias that follows its line by itself, the only tag of its variant. */
  | ({ readonly _tag: "Floats"; readonly tag: string; readonly reason: string } & Counts)

export class NoCandidate extends Data.TaggedError("NoCandidate")<{
  readonly listed: number
  readonly policy: string
  /** What the candidates would have had in common, for policies that follow the current tag. */
  readonly scope: string
  readonly current: string | undefined
}> {
  override get message() {
    const line = this.scope === "" ? "" : ` for ${this.current ?? "a field without tag"} (${this.scope})`
    return `no tag out of ${this.listed} listed matches ${this.policy}${line}`
  }
}

/** How a selector read and judged a listing for one current tag: what `runner explain` prints. */
export interface Explanation {
  readonly policy: string
  readonly current: string | undefined
  readonly currentReading: string | undefined
  /** What the candidates have in common, in words; empty for policies that rank every tag alike. */
  readonly scope: string
  readonly listed: number
  /** Best first. */
  readonly candidates: ReadonlyArray<{ readonly tag: string; readonly reading: string }>
  /** The other tags, by the reason they were passed over: best first where the policy ranks them, in listing order otherwise. */
  readonly passedOver: ReadonlyArray<{
    readonly reason: string
    readonly tags: ReadonlyArray<{ readonly tag: string; readonly reading: string | undefined }>
  }>
  readonly selection: Either.Either<Selection, NoCandidate>
  /** The default policy's release-line rule, when the best candidate was on a newer line: `selection` is then what it left. */
  readonly line?: LineAnswer
}

export interface SelectorSpec {
  readonly policy: PolicySpec
  readonly filterTags?: { readonly pattern: string; readonly extract: string }
  readonly excludeTags: ReadonlyArray<string>
  readonly allowDowngrade: boolean
  /** Set for a chart target: its versions may carry `+` (build metadata), which its OCI tag stores as `_`. */
  readonly chart?: string
}

export interface Selector {
  /** The policy's name, as reports and errors say it (`version auto`). */
  readonly name: string
  /** True when the policy ranks by creation time, which a provider may have to look up tag by tag. */
  readonly needsCreated: boolean
  /** The tags that pass the grammar, exclusions and filter: the only ones worth a lookup. */
  readonly candidates: (tags: ReadonlyArray<TagInfo>) => ReadonlyArray<TagInfo>
  readonly select: (tags: ReadonlyArray<TagInfo>, current: string | undefined) => Either.Either<Selection, NoCandidate>
  /**
   * Whether `tag` ranks above `current` on the current tag's line: true too when either cannot be
   * ranked or there is no current tag, as nothing then shows the tag to be history.
   */
  readonly newer: (tags: ReadonlyArray<TagInfo>, tag: string, current: string | undefined) => boolean
  /** Whether `tag` ranks above `current`, both read by the policy and of its kind (variant, numbers), whatever the range; false if unreadable. */
  readonly above: (tags: ReadonlyArray<TagInfo>, tag: string, current: string) => boolean
  /**
   * The tags `select` would choose one after another, best first, were each in turn taken out of
   * `tags`: what a gate passes over at once, in one ranking instead of one selection per tag.
   */
  readonly inTurn: (tags: ReadonlyArray<TagInfo>, current: string | undefined) => ReadonlyArray<TagInfo>
  /** How every tag was read and judged for this current tag, and why the choice fell as it did. */
  readonly explain: (tags: ReadonlyArray<TagInfo>, current: string | undefined) => Explanation
  /** The best tag of the current tag's kind above it that the policy's range leaves out (`16.1` for `15.4` under `^`). */
  readonly outside: (tags: ReadonlyArray<TagInfo>, current: string | undefined) => string | undefined
  /**
   * For a policy that keeps maintained release lines (`version: "auto"`): the question that
   * release dates answer when the best candidate is on a newer line, and the selector that
   * chooses on the current line when the answer is to stay.
   */
  readonly maintained?: {
    readonly question: (tags: ReadonlyArray<TagInfo>, current: string | undefined, best: string) => LineQuestion | undefined
    readonly stay: Selector
  }
}

/** Referrer fallback tags (`sha256-<hex>[.sig|.att|...]`) are artifacts, never images to deploy. */
const referrerTag = /^sha256-[0-9a-f]{64}/

interface Filters {
  readonly excludes: ReadonlyArray<Re2>
  readonly filter: Re2 | undefined
  readonly valueOf: (tag: string) => string | undefined
  readonly allowDowngrade: boolean
  readonly validTag: (tag: string) => boolean
}

interface Ranked<R> {
  readonly info: TagInfo
  readonly rank: R
}

/** Why a tag is dropped before its value is even extracted, or undefined when it is not. */
const dropped = (filters: Filters, tag: string): string | undefined => {
  if (!filters.validTag(tag)) return "not a valid tag"
  if (referrerTag.test(tag)) return "a signature or attestation"
  const excluded = filters.excludes.find((re) => re.test(tag))
  return excluded === undefined ? undefined : `excluded by ${excluded.source}`
}

const selectorOf = <R>(policy: TagPolicy<R>, filters: Filters): Selector => {
  const rankOf = (info: TagInfo): R | undefined => {
    const value = filters.valueOf(info.tag)
    return value === undefined ? undefined : policy.parse(value, info)
  }
  const eligible = (info: TagInfo) => dropped(filters, info.tag) === undefined
  const passes = (info: TagInfo) => eligible(info) && filters.valueOf(info.tag) !== undefined
  // Every target of an image reads the same listing: read each tag once, rank once per line.
  const readings = new WeakMap<ReadonlyArray<TagInfo>, ReadonlyArray<Ranked<R>>>()
  const read = (tags: ReadonlyArray<TagInfo>) => {
    let known = readings.get(tags)
    if (known === undefined) {
      const ranked: Array<Ranked<R>> = []
      for (const info of tags) {
        const rank = eligible(info) ? rankOf(info) : undefined
        if (rank !== undefined) ranked.push({ info, rank })
      }
      readings.set(tags, (known = ranked))
    }
    return known
  }
  const rankings = new WeakMap<ReadonlyArray<TagInfo>, Map<string, { readonly best: Ranked<R> | undefined; readonly kept: number }>>()
  const ranking = (tags: ReadonlyArray<TagInfo>, line: Line<R>) => {
    let byLine = rankings.get(tags)
    if (byLine === undefined) rankings.set(tags, (byLine = new Map()))
    const known = byLine.get(line.key)
    if (known !== undefined) return known
    let best: Ranked<R> | undefined
    let kept = 0
    for (const r of read(tags)) {
      if (line.reject(r.rank) !== undefined) continue
      kept++
      if (best === undefined || line.compare(r.rank, best.rank) > 0) best = r
    }
    const result = { best, kept }
    byLine.set(line.key, result)
    return result
  }
  const stayings = new WeakMap<ReadonlyArray<TagInfo>, (current: R) => string | undefined>()
  const staysIn = (tags: ReadonlyArray<TagInfo>) => {
    if (policy.stays === undefined) return undefined
    let known = stayings.get(tags)
    if (known === undefined) stayings.set(tags, (known = policy.stays(read(tags))))
    return known
  }
  /** The current tag as the policy reads it; `null` when it cannot. */
  const currentRank = (tags: ReadonlyArray<TagInfo>, current: string | undefined): R | undefined | null =>
    current === undefined ? undefined : rankOf(tags.find((t) => t.tag === current) ?? { tag: current }) ?? null
  const lineFor = (rank: R | undefined | null) => policy.lineOf(rank ?? undefined)

  const select = (tags: ReadonlyArray<TagInfo>, current: string | undefined): Either.Either<Selection, NoCandidate> => {
    const listed = tags.length
    const rank = currentRank(tags, current)
    const line = lineFor(rank)
    const { best, kept } = ranking(tags, line)
    // A tag the policy cannot rank is never replaced by a "best" one it cannot be compared with.
    if (current !== undefined && rank === null && !filters.allowDowngrade) {
      return Either.right({ _tag: "Unranked", tag: current, floating: policy.floating, policy: policy.name, listed, kept })
    }
    const stays = current === undefined || rank == null ? undefined : staysIn(tags)?.(rank)
    if (current !== undefined && stays !== undefined) return Either.right({ _tag: "Floats", tag: current, reason: stays, listed, kept })
    if (best === undefined) {
      const above = line.unbounded === undefined || rank == null ? undefined : ranking(tags, line.unbounded).best
      if (current !== undefined && rank != null && above !== undefined && !filters.allowDowngrade && line.compare(rank, above.rank) > 0) {
        return Either.right({ _tag: "Ahead", tag: current, best: above.info.tag, listed, kept })
      }
      return Either.left(new NoCandidate({ listed, policy: policy.name, scope: line.scope, current }))
    }
    if (current === best.info.tag) return Either.right({ _tag: "UpToDate", tag: current, listed, kept })
    if (current !== undefined && rank != null) {
      if (line.same(rank, best.rank)) return Either.right({ _tag: "UpToDate", tag: current, listed, kept })
      if (!filters.allowDowngrade && line.compare(rank, best.rank) > 0) {
        return Either.right({ _tag: "Ahead", tag: current, best: best.info.tag, listed, kept })
      }
    }
    return Either.right({ _tag: "Update", tag: best.info.tag, listed, kept })
  }

  const newer = (tags: ReadonlyArray<TagInfo>, tag: string, current: string | undefined): boolean => {
    const rank = currentRank(tags, current)
    const candidate = rankOf(tags.find((t) => t.tag === tag) ?? { tag })
    return rank == null || candidate === undefined || lineFor(rank).compare(candidate, rank) > 0
  }

  const above = (tags: ReadonlyArray<TagInfo>, tag: string, current: string): boolean => {
    const rank = currentRank(tags, current)
    const other = currentRank(tags, tag)
    if (rank == null || other == null) return false
    const line = lineFor(rank)
    const kind = line.unbounded ?? line
    return kind.reject(other) === undefined && line.compare(other, rank) > 0 && !line.same(other, rank)
  }

  // select's stopping rules, applied down the ranking instead of to each best in turn.
  const inTurn = (tags: ReadonlyArray<TagInfo>, current: string | undefined): ReadonlyArray<TagInfo> => {
    const rank = currentRank(tags, current)
    if (current !== undefined && rank === null && !filters.allowDowngrade) return []
    if (rank != null && staysIn(tags)?.(rank) !== undefined) return []
    const line = lineFor(rank)
    const ranked = read(tags).filter((r) => line.reject(r.rank) === undefined)
    ranked.sort((a, b) => line.compare(b.rank, a.rank))
    const chosen: Array<TagInfo> = []
    const seen = new Set<string>()
    for (const r of ranked) {
      if (current === r.info.tag) break
      if (current !== undefined && rank != null && (line.same(rank, r.rank) || (!filters.allowDowngrade && line.compare(rank, r.rank) > 0))) break
      if (seen.has(r.info.tag)) continue
      seen.add(r.info.tag)
      chosen.push(r.info)
    }
    return chosen
  }

  const explain = (tags: ReadonlyArray<TagInfo>, current: string | undefined): Explanation => {
    const rank = currentRank(tags, current)
    const line = lineFor(rank)
    const candidates: Array<Ranked<R>> = []
    const passedOver = new Map<string, Array<{ readonly tag: string; readonly rank: R | undefined }>>()
    const pass = (reason: string, tag: string, rank?: R) => {
      const group = passedOver.get(reason) ?? []
      if (group.length === 0) passedOver.set(reason, group)
      group.push({ tag, rank })
    }
    // Ranked tags best first, then the unread ones as listed (a stable sort keeps their order).
    const byRank = (a: { readonly rank: R | undefined }, b: { readonly rank: R | undefined }) =>
      a.rank === undefined ? (b.rank === undefined ? 0 : 1) : b.rank === undefined ? -1 : line.compare(b.rank, a.rank)
    for (const info of tags) {
      const drop = dropped(filters, info.tag)
      const r = drop === undefined ? rankOf(info) : undefined
      if (drop !== undefined) pass(drop, info.tag)
      else if (filters.valueOf(info.tag) === undefined) pass(`not matched by filterTags ${filters.filter?.source ?? ""}`, info.tag)
      else if (r === undefined) pass(`not read by ${policy.name}`, info.tag)
      else {
        const reason = line.reject(r)
        if (reason === undefined) candidates.push({ info, rank: r })
        else pass(reason, info.tag, r)
      }
    }
    candidates.sort((a, b) => line.compare(b.rank, a.rank))
    return {
      policy: policy.name,
      current,
      currentReading: current === undefined ? undefined : rank == null ? `not read by ${policy.name}` : policy.describe(rank),
      scope: line.scope,
      listed: tags.length,
      candidates: candidates.map((c) => ({ tag: c.info.tag, reading: policy.describe(c.rank) })),
      passedOver: [...passedOver].map(([reason, group]) => ({
        reason,
        tags: group.sort(byRank).map((t) => ({ tag: t.tag, reading: t.rank === undefined ? undefined : policy.describe(t.rank) }))
      })),
      selection: select(tags, current)
    }
  }

  const outside = (tags: ReadonlyArray<TagInfo>, current: string | undefined): string | undefined => {
    const rank = currentRank(tags, current)
    if (rank == null) return undefined
    const line = lineFor(rank)
    const open = line.unbounded
    const best = open === undefined ? undefined : ranking(tags, open).best
    return open !== undefined && best !== undefined && line.reject(best.rank) !== undefined && open.compare(best.rank, rank) > 0 ? best.info.tag : undefined
  }

  return { name: policy.name, needsCreated: policy.usesCreated, candidates: (tags) => tags.filter(passes), select, newer, above, inTurn, explain, outside }
}

/** Checks every regex and range of a target before any registry is called. Targets by the thousand share a handful of specs. */
export const compileSelector: (spec: SelectorSpec) => Either.Either<Selector, string> = memoize((spec) => compile(spec), (spec) =>
  JSON.stringify([spec.policy, spec.filterTags, spec.excludeTags, spec.allowDowngrade, spec.chart !== undefined]), 1_000)

const selectorFor = (policy: PolicySpec, filters: Filters): Either.Either<Selector, string> => {
  switch (policy._tag) {
    case "version":
      if (policy.range === "auto") {
        // `^`, unless release dates show that the project still maintains the current line: then `~`.
        const maintained = { question: lineQuestions(filters.valueOf), stay: selectorOf(versionPolicy("~"), filters) }
        return Either.right({ ...selectorOf(versionPolicy("auto"), filters), maintained })
      }
      return validVersionRange(policy.range)
        ? Either.right(selectorOf(versionPolicy(policy.range), filters))
        : Either.left(`invalid version range ${JSON.stringify(policy.range)}: use "auto", "~", "^", "*" or a semver range`)
    case "semver":
      return validSemverRange(policy.range) === undefined
        ? Either.left(`invalid semver range ${JSON.stringify(policy.range)}`)
        : Either.right(selectorOf(semverPolicy(policy.range), filters))
    case "alphabetical":
      return Either.right(selectorOf(alphabeticalPolicy(policy.order), filters))
    case "numerical":
      return Either.right(selectorOf(numericalPolicy(policy.order), filters))
    case "newest":
      return Either.right(selectorOf(newestPolicy, filters))
  }
}

const compile = (spec: SelectorSpec): Either.Either<Selector, string> =>
  Either.gen(function* () {
    const excludes: Array<Re2> = []
    for (const source of spec.excludeTags) excludes.push(yield* compileRe2(source))
    const filter =
      spec.filterTags !== undefined && spec.filterTags.pattern !== "" ? yield* compileRe2(spec.filterTags.pattern) : undefined
    const extract = spec.filterTags?.extract ?? ""
    const filters: Filters = {
      excludes,
      filter,
      allowDowngrade: spec.allowDowngrade,
      validTag: spec.chart === undefined ? isValidTag : isValidChartVersion,
      valueOf: (tag) => {
        if (filter === undefined) return tag
        // Without a template a yes or no will do, which costs re2js less than its groups.
        if (extract === "") return filter.test(tag) ? tag : undefined
        const m = filter.exec(tag)
        return m === null ? undefined : expandTemplate(extract, m)
      }
    }
    return yield* selectorFor(spec.policy, filters)
  })
