import { Array as Arr, Either, ParseResult, Schema } from "effect"
import { CHART_NAME } from "../domain/chartTarget.ts"
import { parseOciRepository } from "../domain/ociChart.ts"
import { parseImageName } from "../domain/ImageRef.ts"
import { repoPathParts } from "../domain/repoPath.ts"
import type { Issue, SourceDocument } from "./ConfigError.ts"
import { ConfigError, decodeDocumentsOfKind, decodeOptions, oneOf, opt, schemaIssues, showValue } from "./ConfigError.ts"
import type { PolicySpec } from "../domain/PolicySpec.ts"
import type { DeclaredTarget } from "../domain/Target.ts"
import type { WatcherFile } from "./model.ts"
import { FIELD_FORMATS, helmField, kustomizeField } from "../domain/Target.ts"
import { Policy, selectionOf, toPolicy } from "./policy.ts"
import { Age } from "./gates.ts"
import { API_VERSION } from "./PipedConfig.ts"
import { decodeRule, DiscoverList } from "./discover.ts"
import { type DiscoverRule, MAX_DISCOVER_RULES } from "../domain/DiscoverRule.ts"


const checked = (check: (text: string) => string | undefined) =>
  Schema.NonEmptyString.pipe(Schema.filter((text) => check(text)))

/** A repository name without tag or digest: the policy picks the tag. */
const ImageName = checked((text) => Either.match(parseImageName(text), { onLeft: (why) => why, onRight: () => undefined }))

/** Repository-relative, and never a way out of the work tree; Windows separators read as `/`. */
const normaliseRepoPath = (path: string): Either.Either<string, string> => {
  const relative = `must be relative to the repository root, got ${showValue(path)}`
  if (/^[A-Za-z]:/.test(path)) return Either.left(relative)
  const parts = repoPathParts(path.replace(/\\/g, "/"))
  if (Either.isLeft(parts)) {
    const problem = parts.left
    return Either.left(
      problem === "absolute"
        ? relative
        : problem === "outside"
          ? `must stay inside the repository, got ${showValue(path)}`
          : `must not hold a line break or NUL, got ${showValue(path)}`
    )
  }
  return parts.right.length === 0 ? Either.left(`must name a file, got ${showValue(path)}`) : Either.right(parts.right.join("/"))
}

const RepoPath = checked((text) => Either.match(normaliseRepoPath(text), { onLeft: (why) => why, onRight: () => undefined }))

/** A Helm chart's name, one path component of an image name (see CHART_NAME). */
const ChartName = checked((text) =>
  CHART_NAME.test(text) ? undefined : `expected a chart name: lower-case letters and digits, with -, _ or . between them, got ${showValue(text)}`
)

/** `oci://HOST[:PORT]/PATH`: a chart's registry and the path its image is under. */
const OciRepository = checked((text) => Either.match(parseOciRepository(text), { onLeft: (why) => why, onRight: () => undefined }))

// `image` or `chart` (exactly one); `provider`, or for a chart `repository` instead: see sourceIssues.
const TargetSection = Schema.Struct({
  image: opt(ImageName),
  chart: opt(ChartName),
  repository: opt(OciRepository),
  provider: opt(Schema.NonEmptyString),
  filePath: RepoPath,
  // Required unless the format is kustomize, which finds its entry by image: see fieldIssues.
  field: opt(Schema.NonEmptyString),
  policy: opt(Policy),
  filterTags: opt(Schema.Struct({ pattern: opt(Schema.String), extract: opt(Schema.String) })),
  excludeTags: opt(Schema.Array(Schema.String)),
  allowDowngrade: opt(Schema.Boolean),
  minAge: opt(Age),
  format: opt(oneOf(...FIELD_FORMATS)),
  suspend: opt(Schema.Boolean)
})

// Targets are decoded one by one, so that one bad target does not take its neighbours with it.
const WatcherDocument = Schema.Struct({
  apiVersion: oneOf(API_VERSION),
  kind: Schema.Literal("ImageWatcher"),
  // A bad default fails the document whole: its targets without a policy would run under the wrong one.
  spec: Schema.Struct({
    targets: opt(Schema.Array(Schema.Unknown)),
    discover: opt(DiscoverList),
    defaultPolicy: opt(Policy),
    suspend: opt(Schema.Boolean)
  })
})

interface Decoded {
  readonly targets: ReadonlyArray<DeclaredTarget>
  readonly discover: ReadonlyArray<DiscoverRule>
  readonly rejected: ReadonlyArray<ConfigError>
}

/** `field` is what every format but kustomize reads; a kustomize target finds its entry by image. */
const fieldIssues = (raw: unknown, index: number): ReadonlyArray<Issue> => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return []
  const path = ["spec", "targets", index, "field"]
  const kustomize = "format" in raw && raw.format === "kustomize"
  const given = "field" in raw && raw.field !== undefined
  if (kustomize && given) {
    return [{ path, message: "format: kustomize finds the images: entry of its image in filePath, so it takes no field; leave it out" }]
  }
  return kustomize || given ? [] : [{ path, message: "required key is missing" }]
}

const has = (raw: object, key: string): boolean => Object.hasOwn(raw, key) && Reflect.get(raw, key) !== undefined

/**
 * What a target watches: an image, or a chart (`chart` with an HTTP chart repository as `provider`,
 * or an OCI registry's `repository: oci://…`, and a field that holds the version alone). A chart in
 * an OCI registry takes its credentials by its address from the operator's chartRegistries or
 * imageProviders: a provider named beside it would only be a second, conflicting answer.
 */
const sourceIssues = (raw: unknown, index: number): ReadonlyArray<Issue> => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return []
  const at = (key: string) => ["spec", "targets", index, key]
  const [image, chart, repository, provider] = [has(raw, "image"), has(raw, "chart"), has(raw, "repository"), has(raw, "provider")]
  const issues: Array<Issue> = []
  if (image && chart) issues.push({ path: at("chart"), message: "a target watches an image or a chart, not both: remove image or chart" })
  if (!image && !chart) issues.push({ path: at("image"), message: "required key is missing (or chart, for a Helm chart's versions)" })
  if (repository && !chart) {
    issues.push({ path: at("repository"), message: "repository (oci://…) is where a chart is: it goes with chart, not image" })
  } else if (repository && provider && "repository" in raw && typeof raw.repository === "string" && raw.repository.startsWith("oci://")) {
    issues.push({ path: at("provider"), message: "a chart in an OCI registry (repository: oci://…) takes no provider: its credentials come from spec.chartRegistries or imageProviders by its address" })
  }
  if (!provider && !(chart && repository)) {
    issues.push({ path: at("provider"), message: chart ? "required key is missing (or repository: oci://…, for a chart in an OCI registry)" : "required key is missing" })
  }
  const format = "format" in raw ? raw.format : undefined
  if (chart && format !== undefined && format !== "tag") {
    issues.push({ path: at("format"), message: `a chart target's field holds the version alone: format must be tag (its default), got ${showValue(String(format))}` })
  }
  return issues
}

const KEY_ORDER: ReadonlyArray<PropertyKey | undefined> = Object.keys(TargetSection.fields)

/** A target's problems in the order of its keys, whichever check found them. */
const inKeyOrder = (issues: ReadonlyArray<Issue>): ReadonlyArray<Issue> => {
  const rank = (issue: Issue) => {
    const at = KEY_ORDER.indexOf(issue.path[3])
    return at < 0 ? KEY_ORDER.length : at
  }
  return [...issues].sort((a, b) => rank(a) - rank(b))
}

const keyIssues = (raw: unknown, index: number): ReadonlyArray<Issue> => [...fieldIssues(raw, index), ...sourceIssues(raw, index)]

/** The field a target is known and reported by: the scalar it writes. */
const writtenField = (format: string | undefined, image: string, field: string | undefined): string =>
  format === "kustomize" ? kustomizeField(image) : format === "helm" ? helmField(field ?? "") : (field ?? "")

const decodeTarget = (
  path: string,
  doc: SourceDocument,
  fileDefault: PolicySpec | undefined,
  fileSuspended: boolean,
  raw: unknown,
  index: number
): Either.Either<DeclaredTarget, ReadonlyArray<ConfigError>> =>
  Schema.decodeUnknownEither(TargetSection, decodeOptions)(raw).pipe(
    Either.mapLeft((error: ParseResult.ParseError) => doc.errors(inKeyOrder([...schemaIssues(error, ["spec", "targets", index]), ...keyIssues(raw, index)]))),
    Either.filterOrLeft(
      () => keyIssues(raw, index).length === 0,
      () => doc.errors(inKeyOrder(keyIssues(raw, index)))
    ),
    Either.map((target): DeclaredTarget => {
      // Until prepare finds its repository, a chart target is known by its chart's name.
      const image = (target.image ?? target.chart ?? "").trim()
      const repository = target.repository === undefined ? undefined : Either.getOrUndefined(parseOciRepository(target.repository))
      return {
        image,
        ...(target.chart === undefined ? {} : { chart: target.chart }),
        ...(repository === undefined ? {} : { repository }),
        provider: target.provider ?? `oci://${repository ?? ""}`,
        filePath: Either.getOrElse(normaliseRepoPath(target.filePath), () => target.filePath),
        field: writtenField(target.format, image, target.field),
        ...selectionOf(target, fileDefault),
        format: target.format ?? (target.chart === undefined ? "image" : "tag"),
        ...(fileSuspended ? { suspended: "watcher file" as const } : target.suspend === true ? { suspended: "target" as const } : {}),
        source: { file: path, line: doc.lineOf(["spec", "targets", index]) }
      }
    })
  )

const decodeTargets = (path: string) => (doc: SourceDocument): Either.Either<Decoded, ReadonlyArray<ConfigError>> =>
  Schema.decodeUnknownEither(WatcherDocument, decodeOptions)(doc.value).pipe(
    Either.mapLeft((error: ParseResult.ParseError) => doc.errors(schemaIssues(error))),
    Either.map(({ spec }) => {
      const fileDefault = toPolicy(spec.defaultPolicy)
      const suspended = spec.suspend === true
      const [rejected, targets] = Arr.separate((spec.targets ?? []).map((raw, index) => decodeTarget(path, doc, fileDefault, suspended, raw, index)))
      const [refused, discover] = Arr.separate((spec.discover ?? []).map((raw, index) => decodeRule(path, doc, fileDefault, suspended, raw, index)))
      return { targets, discover, rejected: [...rejected.flat(), ...refused.flat()] }
    })
  )

/** A watcher file whose valid targets can run although others were rejected. */
export interface PartialWatcherFile extends WatcherFile {
  readonly rejected: ReadonlyArray<ConfigError>
}

/**
 * Decodes an ImageWatcher file, keeping its valid targets: the pipeline runs those and reports
 * each rejected one. A file that is not valid YAML, or not an ImageWatcher, is an error whole.
 */
export const decodeWatcherTargets = (path: string, text: string): Either.Either<PartialWatcherFile, ReadonlyArray<ConfigError>> =>
  Either.flatMap(decodeDocumentsOfKind(path, text, "ImageWatcher", decodeTargets(path)), (docs) => {
    const discover = docs.flatMap((d) => d.discover)
    // The cap holds for the file, whatever number of documents its rules are spread over.
    if (discover.length > MAX_DISCOVER_RULES) {
      const reason = `${discover.length} discover rules: at most ${MAX_DISCOVER_RULES} in a watcher file`
      return Either.left([new ConfigError({ file: path, line: discover[MAX_DISCOVER_RULES]?.source.line, path: "spec.discover", reason })])
    }
    return Either.right({
      path,
      targets: docs.flatMap((d) => d.targets),
      ...(discover.length === 0 ? {} : { discover }),
      rejected: docs.flatMap((d) => d.rejected)
    })
  })

/** Decodes an ImageWatcher file strictly: the targets of all its `kind: ImageWatcher` documents, or every error. */
export const decodeWatcherFile = (path: string, text: string): Either.Either<WatcherFile, ReadonlyArray<ConfigError>> =>
  Either.flatMap(decodeWatcherTargets(path, text), (file) =>
    file.rejected.length > 0
      ? Either.left(file.rejected)
      : Either.right({ path, targets: file.targets, ...(file.discover === undefined ? {} : { discover: file.discover }) })
  )
