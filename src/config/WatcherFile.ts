import { Array as Arr, Either, ParseResult, Schema } from "effect"
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

const TargetSection = Schema.Struct({
  image: ImageName,
  provider: Schema.NonEmptyString,
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
    Either.mapLeft((error: ParseResult.ParseError) => doc.errors([...schemaIssues(error, ["spec", "targets", index]), ...fieldIssues(raw, index)])),
    Either.filterOrLeft(
      () => fieldIssues(raw, index).length === 0,
      () => doc.errors(fieldIssues(raw, index))
    ),
    Either.map((target): DeclaredTarget => {
      return {
        image: target.image.trim(),
        provider: target.provider,
        filePath: Either.getOrElse(normaliseRepoPath(target.filePath), () => target.filePath),
        field: writtenField(target.format, target.image.trim(), target.field),
        ...selectionOf(target, fileDefault),
        format: target.format ?? "image",
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
