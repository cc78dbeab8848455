import { Duration, Schema } from "effect"
import type { PolicySpec } from "../domain/PolicySpec.ts"
import { DEFAULT_EXCLUDE_TAGS } from "../domain/Target.ts"
import { validVersionRange } from "../policy/version.ts"
import { oneOf, opt, showValue } from "./ConfigError.ts"

const order = oneOf("asc", "desc")
const policyKeys = ["version", "semver", "alphabetical", "numerical", "newest"] as const

/** Checked where it is written, so that a pipeline's or a file's default fails on its own line, not on every target's. */
const VersionRange = Schema.NonEmptyString.pipe(
  Schema.filter((range) =>
    validVersionRange(range) ? undefined : `invalid version range ${showValue(range)}: use "auto", "~", "^", "*" or a semver range`
  )
)

/**
 * How a target ranks tags, in every place one is written: a target's `policy`, a watcher file's
 * `spec.defaultPolicy` and a pipeline's `spec.imageWatcher.defaultPolicy`.
 */
export const Policy = Schema.Struct({
  version: opt(VersionRange),
  semver: opt(Schema.NonEmptyString),
  alphabetical: opt(order),
  numerical: opt(order),
  newest: opt(
    Schema.Literal(true).annotations({
      message: () => ({ message: "only `newest: true` is allowed; leave policy out for the default", override: true })
    })
  )
}).pipe(
  Schema.filter((policy) => {
    const given = policyKeys.filter((key) => policy[key] !== undefined)
    return given.length === 1 ? undefined : `give exactly one of ${policyKeys.join(", ")}${given.length > 1 ? `, got ${given.join(" and ")}` : ""}`
  })
)

/** The policy a decoded section names; undefined where none is written, for the next default to decide. */
export const toPolicy = (policy: typeof Policy.Type | undefined): PolicySpec | undefined => {
  if (policy?.alphabetical !== undefined) return { _tag: "alphabetical", order: policy.alphabetical }
  if (policy?.numerical !== undefined) return { _tag: "numerical", order: policy.numerical }
  if (policy?.newest !== undefined) return { _tag: "newest" }
  if (policy?.semver !== undefined) return { _tag: "semver", range: policy.semver }
  if (policy?.version !== undefined) return { _tag: "version", range: policy.version }
  return undefined
}

/** What a target or a discover rule writes of how tags are chosen, as decoded. */
interface SelectionSection {
  readonly policy?: typeof Policy.Type | undefined
  readonly filterTags?: { readonly pattern?: string | undefined; readonly extract?: string | undefined } | undefined
  readonly excludeTags?: ReadonlyArray<string> | undefined
  readonly allowDowngrade?: boolean | undefined
  readonly minAge?: Duration.Duration | undefined
}

/** How tags are chosen, defaults applied: the section's policy, else its file's; no zero minimum age. */
export const selectionOf = (section: SelectionSection, fileDefault: PolicySpec | undefined) => {
  const policy = toPolicy(section.policy) ?? fileDefault
  return {
    ...(policy === undefined ? {} : { policy }),
    ...(section.filterTags === undefined ? {} : { filterTags: { pattern: section.filterTags.pattern ?? "", extract: section.filterTags.extract ?? "" } }),
    excludeTags: section.excludeTags ?? DEFAULT_EXCLUDE_TAGS,
    allowDowngrade: section.allowDowngrade ?? false,
    ...(section.minAge === undefined || Duration.isZero(section.minAge) ? {} : { minAge: section.minAge })
  }
}
