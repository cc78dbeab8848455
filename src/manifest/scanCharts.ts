import { Either } from "effect"
import { isMap, isSeq, type YAMLMap } from "yaml"
import { formatFieldPath } from "./FieldPath.ts"
import { type Manifest, parseManifest } from "./patch.ts"
import { isTemplated, lineOf, mapAt, type Path, scalarText, type ScanContext, stringAt, valueAt } from "./scanNodes.ts"

/** A Helm chart's version found in a file, as discovery turns it into a chart target. */
export interface FoundChart {
  readonly kind: "pipecd" | "chart-dependency" | "argocd" | "flux"
  /** The chart's name (`nginx`). */
  readonly chart: string
  /**
   * Where it comes from as written: an http(s) repository URL, an OCI repository (`oci://host/path`,
   * or Argo CD's `host/path` without scheme), a repository NAME (a Piped chartRepositories entry, or a
   * Chart.yaml `@alias` / `alias:NAME` without its prefix), or for Flux the HelmRepository's
   * `namespace/name` (`name` alone when neither the sourceRef nor the release says a namespace).
   */
  readonly repository: string
  readonly repositoryKind: "url" | "oci" | "name" | "flux-source"
  /** The field path holding the version, as targets write it (`spec.input.helmChart.version`, `dependencies[2].version`). */
  readonly field: string
  /** The document of the file it is in, 0-based. */
  readonly document: number
  /** The version as written (`1.2.3`, `~1.2`, `>=1.0.0 <2`). */
  readonly version: string
  /** A range or wildcard, not a pinned version: discovery leaves these alone (Helm resolves them itself). */
  readonly ranged: boolean
  /** The 1-based line of the version, for reports. */
  readonly line: number
}

/** A Flux `HelmRepository` object: what a HelmRelease's `sourceRef` names, to match the two in one repository. */
export interface FoundFluxRepository {
  readonly name: string
  readonly namespace?: string
  /** `namespace/name`, or `name` without a namespace: how a Flux FoundChart's `repository` names it. */
  readonly ref: string
  /** `spec.url` as written (`https://…`, or `oci://…` for an OCI repository). */
  readonly url: string
  readonly type: "default" | "oci"
  readonly document: number
  /** The 1-based line of the url. */
  readonly line: number
}

type Origin = Pick<FoundChart, "repository" | "repositoryKind">

/** Helm's dependency files: `Chart.yaml`, and `requirements.yaml` of apiVersion v1 charts. */
const DEPENDENCY_FILES = new Set(["Chart.yaml", "requirements.yaml"])

/** Operators and separators of Helm's (Masterminds) version constraints; whitespace joins or spans ranges. */
const RANGE_MARKS = /[~^*<>=!|,\s]/

/**
 * A version constraint rather than one version: an operator, a wildcard, an `x` segment (`1.x`)
 * or several parts (`>=1 <2`, `1.2 - 1.4`). An operator on one version (`=1.2.3`) counts too:
 * writing over it would drop what its author wrote.
 */
export const isVersionRange = (version: string): boolean =>
  RANGE_MARKS.test(version) || (version.split(/[-+]/)[0] ?? "").split(".").some((part) => part === "x" || part === "X")

/**
 * The Helm charts a YAML file pins: PipeCD applications' `spec.input.helmChart`, `Chart.yaml`
 * dependencies, Argo CD Applications' Helm sources and Flux HelmReleases. Templated and empty
 * values, charts from git or local paths, and Flux's `chartRef` are passed over; version ranges
 * are found and marked `ranged`. A file that is not YAML is the one failure.
 */
export const scanChartReferences = (text: string, path: string): Either.Either<ReadonlyArray<FoundChart>, string> =>
  parseManifest(text).pipe(
    Either.mapLeft((e) => `${path}: ${e.message}`),
    Either.map((manifest) => scanChartManifest(manifest, path))
  )

/** `scanChartReferences` on a file already parsed. */
export const scanChartManifest = ({ documents, lines, text }: Manifest, path: string): ReadonlyArray<FoundChart> => {
  const dependencyFile = DEPENDENCY_FILES.has(path.split("/").pop() ?? "")
  const found: Array<FoundChart> = []
  for (const [document, doc] of documents.entries()) {
    const ctx: ScanContext = { document, lines, text }
    const root = doc.contents
    if (!isMap(root)) continue
    if (dependencyFile) found.push(...dependencyCharts(ctx, root))
    for (const [object, prefix] of objectsOf(ctx, root)) found.push(...objectCharts(ctx, object, prefix))
  }
  return found
}

/** The Flux HelmRepository objects a YAML file holds. */
export const scanFluxRepositories = (text: string, path: string): Either.Either<ReadonlyArray<FoundFluxRepository>, string> =>
  parseManifest(text).pipe(
    Either.mapLeft((e) => `${path}: ${e.message}`),
    Either.map(fluxRepositoriesIn)
  )

/** `scanFluxRepositories` on a file already parsed. */
export const fluxRepositoriesIn = ({ documents, lines, text }: Manifest): ReadonlyArray<FoundFluxRepository> =>
  [...documents.entries()].flatMap(([document, doc]) => {
    const ctx: ScanContext = { document, lines, text }
    return objectsOf(ctx, doc.contents).flatMap(([object]) => fluxRepository(ctx, object))
  })

/** A Kubernetes-style object and the path to it: the document's root, or each item of a `kind: List`. */
const objectsOf = (ctx: ScanContext, root: unknown): ReadonlyArray<readonly [YAMLMap, Path]> => {
  if (!isMap(root)) return []
  if (stringAt(ctx.text, root, "kind") !== "List" || stringAt(ctx.text, root, "apiVersion") === undefined) return [[root, []]]
  const items = valueAt(ctx.text, root, "items")
  if (!isSeq(items)) return []
  return items.items.flatMap((item, i): ReadonlyArray<readonly [YAMLMap, Path]> => (isMap(item) ? [[item, ["items", i]]] : []))
}

/** An object's API group (`argoproj.io` of `argoproj.io/v1alpha1`), and its kind. */
const typeOf = (ctx: ScanContext, object: YAMLMap): { readonly group: string | undefined; readonly kind: string | undefined } => {
  const apiVersion = stringAt(ctx.text, object, "apiVersion")
  const slash = apiVersion?.indexOf("/") ?? -1
  return { group: apiVersion === undefined || slash < 0 ? undefined : apiVersion.slice(0, slash), kind: stringAt(ctx.text, object, "kind") }
}

const objectCharts = (ctx: ScanContext, object: YAMLMap, prefix: Path): ReadonlyArray<FoundChart> => {
  const { group, kind } = typeOf(ctx, object)
  if (group === "pipecd.dev") return pipecdChart(ctx, object, prefix)
  if (group === "argoproj.io" && kind === "Application") return argoCharts(ctx, object, prefix)
  if (group === "helm.toolkit.fluxcd.io" && kind === "HelmRelease") return fluxChart(ctx, object, prefix)
  return []
}

/** A non-empty string written as it is, not filled in later by a template. */
const literalAt = (ctx: ScanContext, node: unknown, key: string): string | undefined => {
  const value = stringAt(ctx.text, node, key)
  return value === undefined || isTemplated(value) ? undefined : value
}

/** The version scalar at `key` of `map`, at `path`, as a found chart; none when empty, templated or not a version. */
const versionAt = (
  ctx: ScanContext,
  map: unknown,
  path: Path,
  found: Pick<FoundChart, "kind" | "chart"> & Origin,
  key: string
): ReadonlyArray<FoundChart> => {
  const value = scalarText(ctx.text, valueAt(ctx.text, map, key))
  // A number keeps its spelling (`1.10`); a boolean or a null is no version.
  if (value === undefined || value.text.trim() === "" || isTemplated(value.text) || (!value.isString && !/^\d/.test(value.text))) return []
  return [{
    ...found,
    field: formatFieldPath([...path, key]),
    document: ctx.document,
    version: value.text,
    ranged: isVersionRange(value.text),
    line: lineOf(ctx, value.start)
  }]
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//

/** An http(s) or `oci://` address, by its scheme; none for any other scheme. */
const addressOrigin = (repository: string): Origin | undefined => {
  const scheme = SCHEME.exec(repository)?.[1]?.toLowerCase()
  if (scheme === "http" || scheme === "https") return { repository, repositoryKind: "url" }
  if (scheme === "oci") return { repository, repositoryKind: "oci" }
  return undefined
}

/**
 * PipeCD's `spec.input.helmChart` (pkg/config/application_kubernetes.go, InputHelmChart): a chart
 * from a Piped `chartRepositories` entry named by `repository`, or from an `oci://` registry. A
 * chart from git (`gitRemote`) or a local `path` has no repository and no version to move.
 */
const pipecdChart = (ctx: ScanContext, object: YAMLMap, prefix: Path): ReadonlyArray<FoundChart> => {
  const path = ["spec", "input", "helmChart"]
  const helmChart = mapAt(ctx.text, object, path)
  const repository = literalAt(ctx, helmChart, "repository")
  const chart = literalAt(ctx, helmChart, "name")
  if (helmChart === undefined || repository === undefined || chart === undefined || stringAt(ctx.text, helmChart, "gitRemote") !== undefined) return []
  const origin = addressOrigin(repository) ?? (SCHEME.test(repository) ? undefined : { repository, repositoryKind: "name" as const })
  return origin === undefined ? [] : versionAt(ctx, helmChart, [...prefix, ...path], { kind: "pipecd", chart, ...origin }, "version")
}

/**
 * A Chart.yaml dependency's repository: a URL, an `oci://` registry, or a repository added by
 * name (`@stable`, `alias:stable`, given without the prefix). `file://` charts and an empty
 * repository (a chart kept in `charts/`) are local: none.
 */
const dependencyOrigin = (repository: string): Origin | undefined => {
  if (repository.startsWith("@")) return repository.length > 1 ? { repository: repository.slice(1), repositoryKind: "name" } : undefined
  if (repository.startsWith("alias:")) return repository.length > 6 ? { repository: repository.slice(6), repositoryKind: "name" } : undefined
  return addressOrigin(repository)
}

const dependencyCharts = (ctx: ScanContext, root: YAMLMap): ReadonlyArray<FoundChart> => {
  const dependencies = valueAt(ctx.text, root, "dependencies")
  if (!isSeq(dependencies)) return []
  return dependencies.items.flatMap((entry, i) => {
    const chart = literalAt(ctx, entry, "name")
    const repository = literalAt(ctx, entry, "repository")
    const origin = repository === undefined ? undefined : dependencyOrigin(repository)
    return chart === undefined || origin === undefined
      ? []
      : versionAt(ctx, entry, ["dependencies", i], { kind: "chart-dependency", chart, ...origin }, "version")
  })
}

/** A host with an optional port (`registry.example.com:5000`). */
const HOST = /^[A-Za-z0-9.-]+(?::\d+)?$/
const NOT_IN_PATH = /[\s:@]/

/** A host, an optional port and a path: an OCI repository written without its scheme, checked in one pass. */
const isSchemelessOci = (address: string): boolean => {
  const slash = address.indexOf("/")
  return HOST.test(slash < 0 ? address : address.slice(0, slash)) && (slash < 0 || !NOT_IN_PATH.test(address.slice(slash)))
}

/**
 * An Argo CD Helm source's `repoURL`. Argo CD writes OCI Helm repositories without a scheme
 * (`registry-1.docker.io/bitnamicharts`), so an address without one is OCI; newer releases also
 * take `oci://`. A git address (`git@host:org/repo`, `ssh://`) holds no Helm repository: none.
 */
const argoOrigin = (repoURL: string): Origin | undefined =>
  SCHEME.test(repoURL) ? addressOrigin(repoURL) : isSchemelessOci(repoURL) ? { repository: repoURL, repositoryKind: "oci" } : undefined

/** One Argo CD source: a Helm chart when it names a `chart`; a source without one is git's. */
const argoSource = (ctx: ScanContext, source: unknown, path: Path): ReadonlyArray<FoundChart> => {
  const chart = literalAt(ctx, source, "chart")
  const repoURL = literalAt(ctx, source, "repoURL")
  const origin = repoURL === undefined ? undefined : argoOrigin(repoURL)
  return chart === undefined || origin === undefined ? [] : versionAt(ctx, source, path, { kind: "argocd", chart, ...origin }, "targetRevision")
}

/** An Argo CD Application's `spec.sources`, or its `spec.source` (which Argo CD ignores when `sources` is not empty). */
const argoCharts = (ctx: ScanContext, object: YAMLMap, prefix: Path): ReadonlyArray<FoundChart> => {
  const spec = mapAt(ctx.text, object, ["spec"])
  const sources = valueAt(ctx.text, spec, "sources")
  return isSeq(sources) && sources.items.length > 0
    ? sources.items.flatMap((source, i) => argoSource(ctx, source, [...prefix, "spec", "sources", i]))
    : argoSource(ctx, valueAt(ctx.text, spec, "source"), [...prefix, "spec", "source"])
}

/** `namespace/name`, or the name alone. */
const refOf = (name: string, namespace: string | undefined): string => (namespace === undefined ? name : `${namespace}/${name}`)

/**
 * A Flux HelmRelease's `spec.chart.spec` from a HelmRepository. The sourceRef's namespace defaults
 * to the release's own, as Flux reads it. A chart from a GitRepository or Bucket is a path, and a
 * release by `spec.chartRef` (an OCIRepository or HelmChart object) carries no version: none.
 * Without `version` Flux takes the newest (`*`): there is no field to write, so none either.
 */
const fluxChart = (ctx: ScanContext, object: YAMLMap, prefix: Path): ReadonlyArray<FoundChart> => {
  const path = ["spec", "chart", "spec"]
  const chartSpec = mapAt(ctx.text, object, path)
  const chart = literalAt(ctx, chartSpec, "chart")
  const sourceRef = valueAt(ctx.text, chartSpec, "sourceRef")
  const name = literalAt(ctx, sourceRef, "name")
  if (chart === undefined || name === undefined || stringAt(ctx.text, sourceRef, "kind") !== "HelmRepository") return []
  const namespace = literalAt(ctx, sourceRef, "namespace") ?? literalAt(ctx, valueAt(ctx.text, object, "metadata"), "namespace")
  return versionAt(ctx, chartSpec, [...prefix, ...path], { kind: "flux", chart, repository: refOf(name, namespace), repositoryKind: "flux-source" }, "version")
}

/** A Flux `HelmRepository` (source.toolkit.fluxcd.io): its name, namespace and url. */
const fluxRepository = (ctx: ScanContext, object: YAMLMap): ReadonlyArray<FoundFluxRepository> => {
  const { group, kind } = typeOf(ctx, object)
  if (group !== "source.toolkit.fluxcd.io" || kind !== "HelmRepository") return []
  const metadata = valueAt(ctx.text, object, "metadata")
  const spec = valueAt(ctx.text, object, "spec")
  const name = literalAt(ctx, metadata, "name")
  const namespace = literalAt(ctx, metadata, "namespace")
  const url = scalarText(ctx.text, valueAt(ctx.text, spec, "url"))
  if (name === undefined || url === undefined || !url.isString || url.text === "" || isTemplated(url.text)) return []
  const type = stringAt(ctx.text, spec, "type") === "oci" || url.text.startsWith("oci://") ? "oci" : "default"
  return [{
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ref: refOf(name, namespace),
    url: url.text,
    type,
    document: ctx.document,
    line: lineOf(ctx, url.start)
  }]
}
