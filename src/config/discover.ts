import { Either, Option, ParseResult, Schema } from "effect"
import { type DiscoverRule, MAX_DISCOVER_GLOBS, MAX_DISCOVER_RULES } from "../domain/DiscoverRule.ts"
import { chartGlobs, compileGlobs, imageGlob } from "../domain/glob.ts"
import type { PolicySpec } from "../domain/PolicySpec.ts"
import type { ConfigError, Issue, SourceDocument } from "./ConfigError.ts"
import { decodeOptions, opt, schemaIssues } from "./ConfigError.ts"
import { Age } from "./gates.ts"
import { Policy, selectionOf } from "./policy.ts"

const Globs = Schema.Array(Schema.String).pipe(
  Schema.minItems(1),
  Schema.maxItems(MAX_DISCOVER_GLOBS, { message: () => `at most ${MAX_DISCOVER_GLOBS} globs in a rule` })
)

const RuleSection = Schema.Struct({
  paths: Globs,
  images: opt(Globs),
  charts: opt(Globs),
  provider: opt(Schema.NonEmptyString),
  policy: opt(Policy),
  filterTags: opt(Schema.Struct({ pattern: opt(Schema.String), extract: opt(Schema.String) })),
  excludeTags: opt(Schema.Array(Schema.String)),
  allowDowngrade: opt(Schema.Boolean),
  minAge: opt(Age)
})

/** `spec.discover` itself: a list, capped, since each rule is matched against every file of the tree. */
export const DiscoverList = Schema.Array(Schema.Unknown).pipe(
  Schema.maxItems(MAX_DISCOVER_RULES, { message: () => `at most ${MAX_DISCOVER_RULES} discover rules in a watcher file` })
)

/** The globs that do not compile, at their own keys. */
const globIssues = (rule: typeof RuleSection.Type, index: number): ReadonlyArray<Issue> => {
  const at = ["spec", "discover", index]
  const paths = compileGlobs(rule.paths)
  const images = (rule.images ?? []).flatMap((pattern, i) =>
    Either.match(imageGlob(pattern), { onLeft: (message) => [{ path: [...at, "images", i], message }], onRight: () => [] })
  )
  const each = (rule.charts ?? []).flatMap((pattern, i) =>
    Either.match(chartGlobs([pattern]), { onLeft: (message) => [{ path: [...at, "charts", i], message }], onRight: () => [] })
  )
  // Good one by one, they may still spend more brace alternatives together than a rule may.
  const together = each.length === 0 && rule.charts !== undefined ? Either.getLeft(chartGlobs(rule.charts)) : Option.none()
  const charts = Option.match(together, { onNone: () => each, onSome: (message) => [{ path: [...at, "charts"], message }] })
  return [...(Either.isLeft(paths) ? [{ path: [...at, "paths"], message: paths.left }] : []), ...images, ...charts]
}

/** One rule of `spec.discover`, or its errors at file, line and key: a bad rule fails alone. */
export const decodeRule = (
  path: string,
  doc: SourceDocument,
  fileDefault: PolicySpec | undefined,
  fileSuspended: boolean,
  raw: unknown,
  index: number
): Either.Either<DiscoverRule, ReadonlyArray<ConfigError>> =>
  Schema.decodeUnknownEither(RuleSection, decodeOptions)(raw).pipe(
    Either.mapLeft((error: ParseResult.ParseError) => doc.errors(schemaIssues(error, ["spec", "discover", index]))),
    Either.filterOrLeft(
      (rule) => globIssues(rule, index).length === 0,
      (rule) => doc.errors(globIssues(rule, index))
    ),
    Either.map((rule): DiscoverRule => {
      return {
        paths: rule.paths,
        ...(rule.images === undefined ? {} : { images: rule.images }),
        ...(rule.charts === undefined ? {} : { charts: rule.charts }),
        ...(rule.provider === undefined ? {} : { provider: rule.provider }),
        ...selectionOf(rule, fileDefault),
        ...(fileSuspended ? { suspended: "watcher file" as const } : {}),
        source: { file: path, line: doc.lineOf(["spec", "discover", index]) }
      }
    })
  )
