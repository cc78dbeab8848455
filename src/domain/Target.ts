import type { Duration } from "effect"
import type { PolicySpec } from "./PolicySpec.ts"
import type { SourceLocation } from "./SourceLocation.ts"

/**
 * What a target's field holds: a whole image reference, a bare tag, or a digest; or where to find
 * the tag in a map: a `kustomization.yaml`'s `images:` entry of the image, or a Helm values map
 * (`registry`, `repository`, `tag`).
 */
export type FieldFormat = "image" | "tag" | "digest" | "kustomize" | "helm"

export const FIELD_FORMATS: ReadonlyArray<FieldFormat> = ["image", "tag", "digest", "kustomize", "helm"]

/**
 * The field a `format: kustomize` target writes, as reports show it and as it is known by: the
 * `newTag` of the `images:` entry of its image, whatever place the entry holds in the list.
 */
export const kustomizeField = (image: string): string => `images[${image}].newTag`

/** The field a `format: helm` target writes: the `tag` of the map its `field` names. */
export const helmField = (map: string): string => `${map}.tag`

/** What a target gets when neither it, its watcher file nor its pipeline names a policy. */
export const DEFAULT_POLICY: PolicySpec = { _tag: "version", range: "auto" }

export const DEFAULT_EXCLUDE_TAGS: ReadonlyArray<string> = ["^.*\\.sig$"]

/**
 * One image field a watcher file asks to keep up to date, decoded and normalised; or one chart
 * version field (`chart`), whose `provider` names an HTTP chart repository of the Piped config, or
 * whose `repository` is an OCI registry's.
 */
export interface Target {
  /**
   * The image whose tags the field takes. A chart target is known by the image name of its chart
   * in its repository (`charts.example.com/stable/nginx`), which prepare gives it; until then it
   * is the chart's name.
   */
  readonly image: string
  /** The chart whose versions a chart target's field takes; absent for an image target. */
  readonly chart?: string
  /**
   * Of a chart in an OCI registry: `host[:port]/path` of its `repository: oci://…`, under which its
   * image is `<repository>/<chart>`; its `provider` is then `oci://<repository>`, a label.
   */
  readonly repository?: string
  readonly provider: string
  readonly filePath: string
  readonly field: string
  readonly policy: PolicySpec
  readonly filterTags?: { readonly pattern: string; readonly extract: string }
  readonly excludeTags: ReadonlyArray<string>
  readonly allowDowngrade: boolean
  /** A tag is a candidate only once it is this old; the larger of this and the gates' applies. */
  readonly minAge?: Duration.Duration
  readonly format: FieldFormat
  /** `suspend: true` on the target or on its watcher file: nothing is written for it. */
  readonly suspended?: "target" | "watcher file"
  /** Where the target was declared in its watcher file. */
  readonly source: SourceLocation
}

/**
 * A target as its watcher file declares it, before a pipeline runs it: `policy` is its own or its
 * file's `spec.defaultPolicy`, and absent when neither names one; prepare resolves it.
 */
export interface DeclaredTarget extends Omit<Target, "policy"> {
  readonly policy?: PolicySpec
}

/** A target's policy: its own or its file's default, else the pipeline's default, else DEFAULT_POLICY. */
export const resolveTarget = (target: DeclaredTarget, pipelineDefault: PolicySpec | undefined): Target => ({
  ...target,
  policy: target.policy ?? pipelineDefault ?? DEFAULT_POLICY
})
