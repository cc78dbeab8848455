import { Data, Either } from "effect"
import type { PolicySpec } from "../config/model.ts"
import { isValidTag } from "../registry/ImageRef.ts"
import { memoize } from "../memo.ts"
import { compileRe2, expandTemplate } from "./re2.ts"
import { alphabeticalPolicy, newestPolicy, numericalPolicy } from "./ordered.ts"
import { semverPolicy, validSemverRange } from "./semver.ts"
import type { TagInfo, TagPolicy } from "./TagPolicy.ts"

/** What tag selection concluded for one target. "Nothing to do" is a value, not an error. */
export type Selection =
  | { readonly _tag: "Update"; readonly tag: string; readonly listed: number; readonly kept: number }
  | { readonly _tag: "UpToDate"; readonly tag: string; readonly listed: number; readonly kept: number }
  /** The current tag ranks above every candidate and downgrades are not allowed. */
  | { readonly _tag: "Ahead"; readonly tag: string; readonly best: string; readonly listed: number; readonly kept: number }

export class NoCandidate extends Data.TaggedError("NoCandidate")<{ readonly listed: number; readonly policy: string }> {
  override get message() {
    return `no tag out of ${this.listed} listed matches ${this.policy}`
  }
}

export interface SelectorSpec {
  readonly policy: PolicySpec
  readonly filterTags?: { readonly pattern: string; readonly extract: string }
  readonly excludeTags: ReadonlyArray<string>
  readonly allowDowngrade: boolean
}

export interface Selector {
  /** True when the policy ranks by creation time, which a provider may have to look up tag by tag. */
  readonly needsCreated: boolean
  /** The tags that pass the grammar, exclusions and filter: the only ones worth a lookup. */
  readonly candidates: (tags: ReadonlyArray<TagInfo>) => ReadonlyArray<TagInfo>
  readonly select: (tags: ReadonlyArray<TagInfo>, current: string | undefined) => Either.Either<Selection, NoCandidate>
}

/** Referrer fallback tags (`sha256-<hex>[.sig|.att|...]`) are artifacts, never images to deploy. */
const referrerTag = /^sha256-[0-9a-f]{64}/

interface Filters {
  readonly excludes: ReadonlyArray<RegExp>
  readonly valueOf: (tag: string) => string | undefined
  readonly allowDowngrade: boolean
}

const selectorOf = <R>(policy: TagPolicy<R>, filters: Filters): Selector => {
  const rankOf = (info: TagInfo): R | undefined => {
    const value = filters.valueOf(info.tag)
    return value === undefined ? undefined : policy.parse(value, info)
  }
  const eligible = (info: TagInfo) =>
    isValidTag(info.tag) && !referrerTag.test(info.tag) && !filters.excludes.some((re) => re.test(info.tag))
  const passes = (info: TagInfo) => eligible(info) && filters.valueOf(info.tag) !== undefined
  // Every target of an image ranks the same listing: rank it once, whatever the field holds.
  const rankings = new WeakMap<ReadonlyArray<TagInfo>, { readonly best: { readonly info: TagInfo; readonly rank: R } | undefined; readonly kept: number }>()
  const ranking = (tags: ReadonlyArray<TagInfo>) => {
    const known = rankings.get(tags)
    if (known !== undefined) return known
    let best: { readonly info: TagInfo; readonly rank: R } | undefined
    let kept = 0
    for (const info of tags) {
      if (!eligible(info)) continue
      const rank = rankOf(info)
      if (rank === undefined || !policy.accepts(rank)) continue
      kept++
      if (best === undefined || policy.compare(rank, best.rank) > 0) best = { info, rank }
    }
    rankings.set(tags, { best, kept })
    return { best, kept }
  }
  const select = (tags: ReadonlyArray<TagInfo>, current: string | undefined): Either.Either<Selection, NoCandidate> => {
    const { best, kept } = ranking(tags)
    const listed = tags.length
    if (best === undefined) return Either.left(new NoCandidate({ listed, policy: policy.name }))
    if (current === best.info.tag) return Either.right({ _tag: "UpToDate", tag: current, listed, kept })
    if (current !== undefined && !filters.allowDowngrade) {
      const rank = rankOf(tags.find((t) => t.tag === current) ?? { tag: current })
      if (rank !== undefined && policy.compare(rank, best.rank) > 0) {
        return Either.right({ _tag: "Ahead", tag: current, best: best.info.tag, listed, kept })
      }
    }
    return Either.right({ _tag: "Update", tag: best.info.tag, listed, kept })
  }
  return { needsCreated: policy.usesCreated, candidates: (tags) => tags.filter(passes), select }
}

/** Checks every regex and range of a target before any registry is called. Targets by the thousand share a handful of specs. */
export const compileSelector: (spec: SelectorSpec) => Either.Either<Selector, string> = memoize(
  (spec) => compile(spec),
  (spec) => JSON.stringify([spec.policy, spec.filterTags, spec.excludeTags, spec.allowDowngrade]),
  1_000
)

const compile = (spec: SelectorSpec): Either.Either<Selector, string> =>
  Either.gen(function* () {
    const excludes: Array<RegExp> = []
    for (const source of spec.excludeTags) excludes.push(yield* compileRe2(source))
    const filter =
      spec.filterTags !== undefined && spec.filterTags.pattern !== "" ? yield* compileRe2(spec.filterTags.pattern) : undefined
    const extract = spec.filterTags?.extract ?? ""
    const filters: Filters = {
      excludes,
      allowDowngrade: spec.allowDowngrade,
      valueOf: (tag) => {
        if (filter === undefined) return tag
        const m = filter.exec(tag)
        if (m === null) return undefined
        return extract === "" ? tag : expandTemplate(extract, m)
      }
    }
    const policy = spec.policy
    switch (policy._tag) {
      case "semver":
        if (validSemverRange(policy.range) === undefined) {
          return yield* Either.left(`invalid semver range ${JSON.stringify(policy.range)}`)
        }
        return selectorOf(semverPolicy(policy.range), filters)
      case "alphabetical":
        return selectorOf(alphabeticalPolicy(policy.order), filters)
      case "numerical":
        return selectorOf(numericalPolicy(policy.order), filters)
      case "newest":
        return selectorOf(newestPolicy, filters)
    }
  })
