import { Either } from "effect"
import type { ChartRepository, HttpChartRepository } from "./ChartSource.ts"
import type { HelmProvider } from "./ProviderConfig.ts"
import type { Target } from "./Target.ts"

/**
 * A chart name as a watcher file gives it: lower-case letters, digits and `-`, `_`, `.` between
 * them, as one path component of an image name is. The chart is then the last segment of the
 * image name its target is known by, and nothing else needs to carry it.
 */
export const CHART_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/

/** A path segment of a repository's address made an image path component: lower case, other runs of characters as `-`. */
const component = (segment: string): string =>
  decodeURIComponentSafe(segment).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "")

const decodeURIComponentSafe = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * The image name a chart of an HTTP repository is known by: `HOST[:PORT]/PATH/CHART` from the
 * repository's address, so that what is keyed by image (tag cache, grouping, reports, routing)
 * keeps a chart apart from every other. A host without a dot or port gets http's port, or the
 * name would read as a Docker Hub image.
 */
export const chartImageName = (address: string, chart: string): Either.Either<string, string> => {
  const url = URL.canParse(address) ? new URL(address) : undefined
  if (url === undefined) return Either.left(`chart repository address ${address} is not a URL`)
  const plain = !url.host.includes(".") && !url.host.includes(":") && url.hostname !== "localhost"
  if (plain && url.protocol === "https:") {
    return Either.left(`chart repository host ${url.hostname} has no dot: give its address a host name with a domain, or a port`)
  }
  const host = plain ? `${url.host}:80` : url.host
  const path = url.pathname.split("/").map(component).filter((part) => part !== "")
  return Either.right([host, ...path, chart].join("/"))
}

const providers = new WeakMap<HttpChartRepository, HelmProvider>()

/** The provider of a repository's chart targets: one per repository, so its targets share listings. */
export const chartProvider = (repository: HttpChartRepository): HelmProvider => {
  const known = providers.get(repository)
  if (known !== undefined) return known
  const provider: HelmProvider = { type: "HELM", name: repository.name, repository, interval: repository.interval, source: repository.source }
  providers.set(repository, provider)
  return provider
}

/**
 * A chart target with the image name of its chart, and its repository's provider; or why it cannot
 * run: no repository of that name, or a git one, whose chart versions are not tags.
 */
export const resolveChartTarget = (
  target: Target & { readonly chart: string },
  repositories: ReadonlyArray<ChartRepository>
): Either.Either<{ readonly target: Target; readonly provider: HelmProvider }, string> => {
  const repository = repositories.find((r) => r.name === target.provider)
  if (repository === undefined) return Either.left(`no chart repository ${JSON.stringify(target.provider)} in spec.chartRepositories`)
  if (repository.type === "GIT") return Either.left(`chart repository ${target.provider} is a git repository: chart versions are not tags`)
  return Either.map(chartImageName(repository.address, target.chart), (image) => ({ target: { ...target, image }, provider: chartProvider(repository) }))
}

/** How reports name a chart target in place of its image: `chart nginx (bitnami)`. */
export const chartLabel = (chart: string, repository: string): string => `chart ${chart} (${repository})`
