import { Either } from "effect"
import type { ChartRegistry } from "./ChartSource.ts"
import { isValidTag } from "./ImageRef.ts"
import type { OciProvider, ProviderConfig } from "./ProviderConfig.ts"

/**
 * Charts in OCI registries (`repository: oci://HOST[:PORT]/PATH` in a watcher file, credentials
 * from Piped's `spec.chartRegistries`): their versions are the tags of the image HOST/PATH/CHART.
 */

/** `host[:port]` with an optional path below it, as `helm registry login` and Piped's chartRegistries take it. */
const REGISTRY_ADDRESS = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9._-]+)*$/

/** An address without `oci://`, trailing slashes or upper case; undefined when it is no `host[:port][/path]`. */
export const normaliseRegistryAddress = (text: string): string | undefined => {
  const address = text.trim().toLowerCase().replace(/^oci:\/\//, "").replace(/\/+$/, "")
  return REGISTRY_ADDRESS.test(address) ? address : undefined
}

/** The `host[:port]` an address starts with. */
export const registryHostOf = (address: string): string => address.split("/")[0] ?? address

/**
 * A watcher file's `repository: oci://…`, as the address its chart's image name starts with; or
 * why not. A host without a dot or port (but localhost) would read as a Docker Hub name.
 */
export const parseOciRepository = (text: string): Either.Either<string, string> => {
  if (!text.startsWith("oci://")) return Either.left("expected oci://HOST[:PORT]/PATH (an HTTP chart repository is named by provider)")
  const address = normaliseRegistryAddress(text)
  if (address === undefined) return Either.left("expected oci://HOST[:PORT]/PATH with a lower-case host and path, without credentials, query or tag")
  const host = registryHostOf(address)
  if (!host.includes(".") && !host.includes(":") && host !== "localhost") {
    return Either.left(`registry host ${host} has no dot: give it a domain or a port, or it reads as a Docker Hub name`)
  }
  return Either.right(address)
}

/**
 * The chart registry whose address is the longest prefix of a repository's, segment by segment:
 * `host:5000/charts` covers `host:5000/charts/team`, never `host:50001/…` or `host:5000/chartsx`.
 * The first segment is the host, so an entry's credentials only ever go to its own host.
 */
export const chartRegistryFor = (registries: ReadonlyArray<ChartRegistry>, repository: string): ChartRegistry | undefined => {
  const covers = (registry: ChartRegistry) => repository === registry.address || repository.startsWith(`${registry.address}/`)
  return registries.filter(covers).reduce<ChartRegistry | undefined>((best, r) => (best === undefined || r.address.length > best.address.length ? r : best), undefined)
}

/** Loopback registries speak plain http, as Docker takes 127.0.0.0/8 for an insecure registry by default. */
const isLoopback = (host: string): boolean => {
  const name = host.replace(/:\d+$/, "")
  return name === "localhost" || /^127(\.\d{1,3}){3}$/.test(name)
}

const registryProviders = new WeakMap<ChartRegistry, OciProvider>()

/**
 * A chart registry as the OCI provider of its charts: its address's host is the only host it
 * serves, so its password goes nowhere else, whatever the registry's token realm names. One per
 * registry, so that its targets share listings and rate.
 */
export const chartRegistryProvider = (registry: ChartRegistry): OciProvider => {
  const known = registryProviders.get(registry)
  if (known !== undefined) return known
  const host = registryHostOf(registry.address)
  const login = registry.username === undefined || registry.password === undefined ? {} : { username: registry.username, password: registry.password }
  const provider: OciProvider = {
    type: "OCI",
    name: `chart registry ${registry.address}`,
    address: `${isLoopback(host) ? "http" : "https"}://${host}`,
    hosts: [host.replace(/:\d+$/, "")],
    insecure: false,
    ...login,
    interval: registry.interval,
    source: registry.source,
    chartTags: true
  }
  registryProviders.set(registry, provider)
  return provider
}

const chartProviders = new WeakMap<ProviderConfig, ProviderConfig>()

/** An image provider serving a chart's registry, reading its tags as chart versions. */
export const asChartProvider = (provider: ProviderConfig): ProviderConfig => {
  if (provider.chartTags === true) return provider
  const known = chartProviders.get(provider)
  if (known !== undefined) return known
  const charted = { ...provider, chartTags: true as const }
  chartProviders.set(provider, charted)
  return charted
}

/** A chart version as its OCI tag stores it: Helm writes `+`, which tags cannot hold, as `_`. */
export const ociTagOf = (version: string): string => version.replaceAll("+", "_")

/** An OCI tag of a chart read back as the version Helm pushed: `1.2.3_build.4` is `1.2.3+build.4`. */
export const chartVersionOf = (tag: string): string => tag.replaceAll("_", "+")

/** Whether a chart version reads a valid OCI tag: `1.2.3+build.4` does, as `1.2.3_build.4`. */
export const isValidChartVersion = (version: string): boolean => isValidTag(ociTagOf(version))
