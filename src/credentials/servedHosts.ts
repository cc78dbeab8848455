import { Either } from "effect"
import { type EcrProvider, isRegistryProvider, type ProviderConfig } from "../domain/ProviderConfig.ts"
import { DOCKER_HUB, DOCKER_HUB_ALIASES, type ImageRef } from "../domain/ImageRef.ts"
import { hostListed, hostnameOf } from "../domain/hosts.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"

/**
 * Which registry hosts a provider serves, and so where its credentials may go. Watcher files name
 * images, and an image names its host: without this binding, anyone who can commit a watcher file
 * could send the operator's secrets to a host of their choosing.
 * Hosts are patterns of domain/hosts.ts.
 */

/** Docker Hub's registry, its aliases, and its token service. */
const DOCKER_HUB_HOSTS: ReadonlyArray<string> = [DOCKER_HUB, ...DOCKER_HUB_ALIASES, "auth.docker.io"]
const GCR_HOSTS: ReadonlyArray<string> = ["gcr.io", "*.gcr.io", "*-docker.pkg.dev"]

/** ECR: the provider's own account and region when it names them, else any account or region of ECR. */
const ecrHosts = (provider: EcrProvider): ReadonlyArray<string> => {
  const account = provider.registryId ?? "*"
  const region = provider.region ?? "*"
  return [`${account}.dkr.ecr.${region}.amazonaws.com`, `${account}.dkr.ecr-fips.${region}.amazonaws.com`, `${account}.dkr.ecr.${region}.amazonaws.com.cn`]
}

/** The hosts the operator's config names for a provider: its address and its `hosts`. */
export const namedHosts = (provider: ProviderConfig): ReadonlyArray<string> =>
  isRegistryProvider(provider)
    ? [...(provider.address === undefined ? [] : [hostnameOf(provider.address)]), ...(provider.hosts ?? []).map((host) => host.toLowerCase())]
    : []

const servedByProvider = new WeakMap<ProviderConfig, ReadonlyArray<string>>()

/** Every host a provider serves; empty for an OCI provider that names none (anonymous, so it may go anywhere). */
export const servedHosts = (provider: ProviderConfig): ReadonlyArray<string> => {
  const known = servedByProvider.get(provider)
  if (known !== undefined) return known
  const own = (() => {
    switch (provider.type) {
      case "DOCKER_HUB":
        return DOCKER_HUB_HOSTS
      case "GCR":
        return GCR_HOSTS
      case "ECR":
        return ecrHosts(provider)
      case "OCI":
      case "STORE":
      // A chart repository's index is read with its own credentials, never a registry's.
      case "HELM":
        return []
    }
  })()
  const hosts = [...new Set([...namedHosts(provider), ...own])]
  servedByProvider.set(provider, hosts)
  return hosts
}

/**
 * Whether the provider may be used for a registry host: one it serves, or any host when it serves
 * none by name (an anonymous OCI provider, which the config allows only without credentials).
 */
export const serves = (provider: ProviderConfig, host: string): boolean => {
  const served = servedHosts(provider)
  return served.length === 0 || hostListed(served, host)
}

/** The words for an image on a host the provider does not serve. */
export const notServedMessage = (provider: ProviderConfig, written: string): string =>
  `${written} is not served by provider ${provider.name} (it serves ${servedHosts(provider).join(", ")})`

/** Fails, before any request, an image on a host its provider does not serve. */
export const checkServed = (provider: ProviderConfig, image: ImageRef): Either.Either<void, RegistryError> =>
  serves(provider, image.registry)
    ? Either.void
    : Either.left(providerError(provider, image)("Config", notServedMessage(provider, image.written)))
