/**
 * Where a chart target's versions are read: an HTTP chart repository it names as provider, or the
 * OCI registry of its `repository: oci://…`, with the credentials the operator gave that address.
 */
import { Either } from "effect"
import type { ChartRegistry, ChartRepository } from "../domain/ChartSource.ts"
import { resolveChartTarget } from "../domain/chartTarget.ts"
import { parseImageName } from "../domain/ImageRef.ts"
import { asChartProvider, chartRegistryFor, chartRegistryProvider } from "../domain/ociChart.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { Target } from "../domain/Target.ts"
import { providerForHost } from "./discovered.ts"

/** What the operator's config offers chart targets. */
export interface ChartSources {
  readonly chartRepositories: ReadonlyArray<ChartRepository>
  readonly chartRegistries: ReadonlyArray<ChartRegistry>
  readonly providers: ReadonlyArray<ProviderConfig>
}

type Resolved = Either.Either<{ readonly target: Target; readonly provider: ProviderConfig }, string>

/**
 * A chart in an OCI registry, known as the image `<repository>/<chart>`: listed with the chart
 * registry whose address is the longest prefix of its repository's, else with the image provider
 * that serves its host (as discovery picks one), else not at all. Nothing the watcher file says
 * picks the credentials: only the address, matched against the operator's config.
 */
export const resolveOciChartTarget = (target: Target & { readonly chart: string; readonly repository: string }, sources: ChartSources): Resolved => {
  const named = parseImageName(`${target.repository}/${target.chart}`)
  if (Either.isLeft(named)) return Either.left(named.left)
  const image = `${named.right.registry}/${named.right.repository}`
  const registry = chartRegistryFor(sources.chartRegistries, target.repository)
  if (registry !== undefined) return Either.right({ target: { ...target, image }, provider: chartRegistryProvider(registry) })
  const provider = providerForHost(sources.providers, named.right.registry)
  if (provider === undefined) return Either.left(`no chart registry or image provider serves ${named.right.registry} (spec.chartRegistries, imageProviders)`)
  return Either.right({ target: { ...target, image }, provider: asChartProvider(provider) })
}

/** A chart target with the image name of its chart and the provider that lists its versions; or why none can. */
export const resolveChartSource = (target: Target & { readonly chart: string }, sources: ChartSources): Resolved => {
  const { repository } = target
  return repository === undefined ? resolveChartTarget(target, sources.chartRepositories) : resolveOciChartTarget({ ...target, repository }, sources)
}
