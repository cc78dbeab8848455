/**
 * What discovery makes of the chart versions it found: the chart repository each comes from, or
 * the note that says why none, and the target it becomes. Pure, as discovered.ts is.
 */
import { Either } from "effect"
import type { ChartRepository, HttpChartRepository } from "../domain/ChartSource.ts"
import { parseOciRepository } from "../domain/ociChart.ts"
import { type DiscoverRule, ruleSelection } from "../domain/DiscoverRule.ts"
import type { DeclaredTarget } from "../domain/Target.ts"
import type { FoundChart, FoundFluxRepository } from "../manifest/scanCharts.ts"

/** How much of a source written in a watched file a note shows: the file is untrusted and may be large. */
const MAX_SHOWN = 200

const shown = (text: string): string => (text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text)

const unmatched = (source: string): string => `no chart repository for ${shown(source)}`

/** An address as compared with a repository's: the URL's own spelling (host in lower case, no default port), no trailing slash. */
const addressKey = (address: string): string => (URL.canParse(address) ? new URL(address).href : address).replace(/\/+$/, "")

/** The HTTP chart repository whose address is `url`, ignoring a trailing slash. */
const byAddress = (url: string, repositories: ReadonlyArray<ChartRepository>): Either.Either<HttpChartRepository, string> => {
  const key = addressKey(url)
  const repository = repositories.find((r): r is HttpChartRepository => r.type === "HTTP" && addressKey(r.address) === key)
  return repository === undefined ? Either.left(unmatched(url)) : Either.right(repository)
}

/** The chart repository of `spec.chartRepositories` by its name; a git one has versions that are not tags. */
const byName = (name: string, repositories: ReadonlyArray<ChartRepository>): Either.Either<HttpChartRepository, string> => {
  const repository = repositories.find((r) => r.name === name)
  if (repository === undefined) return Either.left(unmatched(name))
  return repository.type === "HTTP" ? Either.right(repository) : Either.left(`chart repository ${shown(name)} is a git repository: chart versions are not tags`)
}

/**
 * The Flux HelmRepository a release's `namespace/name` (or `name`) names: the one of that
 * namespace and name, else by name alone when either side has no namespace, as long as every
 * such repository has the same url.
 */
export const fluxSourceOf = (ref: string, found: ReadonlyArray<FoundFluxRepository>): Either.Either<FoundFluxRepository, string> => {
  const slash = ref.indexOf("/")
  const [namespace, name] = slash < 0 ? [undefined, ref] : [ref.slice(0, slash), ref.slice(slash + 1)]
  const exact = found.find((r) => r.name === name && r.namespace === namespace)
  if (exact !== undefined) return Either.right(exact)
  const loose = found.filter((r) => r.name === name && (namespace === undefined || r.namespace === undefined))
  const [first] = loose
  if (first === undefined) return Either.left(unmatched(`HelmRepository ${ref}`))
  return loose.every((r) => r.url === first.url)
    ? Either.right(first)
    : Either.left(`HelmRepository ${shown(ref)}: several in the repository with other urls; give the release's sourceRef a namespace`)
}

/** Where a found chart's versions come from: an HTTP chart repository, or an OCI registry's address (`host[:port]/path`). */
export type ChartSourceOf = { readonly _tag: "Http"; readonly repository: HttpChartRepository } | { readonly _tag: "Oci"; readonly address: string }

const http = (repository: Either.Either<HttpChartRepository, string>) => Either.map(repository, (r): ChartSourceOf => ({ _tag: "Http", repository: r }))

/** An OCI repository as written (`oci://host/path`, or as Argo CD writes it, without the scheme). */
const oci = (written: string): Either.Either<ChartSourceOf, string> =>
  Either.match(parseOciRepository(written.startsWith("oci://") ? written : `oci://${written}`), {
    onLeft: (why) => Either.left(`chart repository ${shown(written)}: ${why}`),
    onRight: (address) => Either.right({ _tag: "Oci", address })
  })

/**
 * Where a found chart's versions come from: a repository NAME of `spec.chartRepositories`, a URL
 * equal to one's address, an OCI registry's address (whose credentials, if any, prepare finds by
 * that address in the operator's config), or the Flux HelmRepository of the same repository whose
 * url is one of those; else the note that says why none.
 */
export const chartRepositoryFor = (
  found: Pick<FoundChart, "chart" | "repository" | "repositoryKind">,
  repositories: ReadonlyArray<ChartRepository>,
  flux: ReadonlyArray<FoundFluxRepository>
): Either.Either<ChartSourceOf, string> => {
  switch (found.repositoryKind) {
    case "name":
      return http(byName(found.repository, repositories))
    case "url":
      return http(byAddress(found.repository, repositories))
    case "oci":
      return oci(found.repository)
    case "flux-source":
      return Either.flatMap(fluxSourceOf(found.repository, flux), (source) =>
        source.type === "oci" ? oci(source.url) : http(byAddress(source.url, repositories))
      )
  }
}

/** The target of a chart version a rule found: its field as found, the version alone (format tag), the rule's selection. */
export const chartTargetOf = (rule: DiscoverRule, filePath: string, found: FoundChart, source: ChartSourceOf): DeclaredTarget => ({
  image: found.chart,
  chart: found.chart,
  ...(source._tag === "Http" ? { provider: source.repository.name } : { provider: `oci://${source.address}`, repository: source.address }),
  filePath,
  field: found.field,
  format: "tag",
  ...ruleSelection(rule)
})
