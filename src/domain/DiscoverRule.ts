import type { DeclaredTarget } from "./Target.ts"

/** Most `spec.discover` rules one watcher file may hold: each is matched against every file of the tree. */
export const MAX_DISCOVER_RULES = 32
/** Most path globs, image globs and chart globs one rule may hold. */
export const MAX_DISCOVER_GLOBS = 64

/**
 * A watcher file's `spec.discover` rule: files whose paths match `paths` are scanned for image
 * references, kept when `images` is absent or matches, and for Helm chart versions, kept when
 * `charts` is absent or matches the chart's name; each becomes a target with what the rule gives
 * (policy, tag filters) like a declared target's. Globs are checked at decode and compiled where
 * they are used.
 */
export interface DiscoverRule extends Pick<DeclaredTarget, "policy" | "filterTags" | "excludeTags" | "allowDowngrade" | "minAge" | "suspended" | "source"> {
  readonly paths: ReadonlyArray<string>
  readonly images?: ReadonlyArray<string>
  /** Globs over chart names (`nginx`, `bitnami-*`, `!postgresql`); images are not filtered by them, nor charts by `images`. */
  readonly charts?: ReadonlyArray<string>
  /** Absent: the provider serving the image's registry host. Charts take the chart repository they name instead. */
  readonly provider?: string
}

/** What a target a rule discovers takes of the rule: how its tags are chosen, its suspension, where the rule is. */
export const ruleSelection = (rule: DiscoverRule): Pick<DeclaredTarget, "policy" | "filterTags" | "excludeTags" | "allowDowngrade" | "minAge" | "suspended" | "source"> => ({
  ...(rule.policy === undefined ? {} : { policy: rule.policy }),
  ...(rule.filterTags === undefined ? {} : { filterTags: rule.filterTags }),
  excludeTags: rule.excludeTags,
  allowDowngrade: rule.allowDowngrade,
  ...(rule.minAge === undefined ? {} : { minAge: rule.minAge }),
  ...(rule.suspended === undefined ? {} : { suspended: rule.suspended }),
  source: rule.source
})
