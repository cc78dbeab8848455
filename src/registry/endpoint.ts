import { Effect, Either, Option } from "effect"
import type { ProviderConfig, RegistryProvider } from "../domain/ProviderConfig.ts"
import type { Access, Credentials } from "../credentials/Credentials.ts"
import { checkServed, namedHosts, servedHosts } from "../credentials/servedHosts.ts"
import { type AddressProblem, parseRegistryAddress } from "../domain/address.ts"
import { DOCKER_HUB, type ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError, scopeOf } from "../domain/RegistryError.ts"
import { rateLimitOf } from "../http/RateLimiter.ts"
import type { Target } from "../http/RegistryHttp.ts"

/** Where and how to reach one repository of a registry. */
export interface RegistryEndpoint extends Target, Access {
  /** e.g. `https://registry-1.docker.io`, `http://127.0.0.1:5000` (no trailing slash). */
  readonly baseUrl: string
  /** The hosts the provider serves: the only ones its credentials may be sent to (token services included). */
  readonly servedHosts: ReadonlyArray<string>
}

/** `docker.io` is only the name in image references; its registry API lives elsewhere. */
export const DOCKER_HUB_API = "https://registry-1.docker.io"

const addressMessage = (provider: RegistryProvider, problem: AddressProblem): string => {
  switch (problem) {
    case "NotUrl":
      return `address "${provider.address}" of provider ${provider.name} is not a URL`
    case "Credentials":
      // The address is echoed in messages and logs, so it must not carry credentials.
      return `address of provider ${provider.name} must not contain credentials; use username and passwordFile`
    case "NotHttp":
      return `address "${provider.address}" of provider ${provider.name} must be an http:// or https:// URL`
    case "QueryOrFragment":
      return `address "${provider.address}" of provider ${provider.name} must not have a query or fragment`
  }
}

const baseUrlFor = (provider: RegistryProvider, image: ImageRef): Either.Either<string, string> => {
  if (provider.address === undefined) {
    return Either.right(image.registry === DOCKER_HUB ? DOCKER_HUB_API : `https://${image.registry}`)
  }
  return Either.mapLeft(parseRegistryAddress(provider.address), (problem) => addressMessage(provider, problem))
}

/**
 * OCI (and GCR/ECR, which speak the same API): baseUrl = provider.address or `https://<image registry host>`;
 * DOCKER_HUB: https://registry-1.docker.io (the image must be a docker.io image). Credentials are
 * the caller's to add: they depend on the provider's kind and on files read at the time.
 */
export const endpointFor = (provider: ProviderConfig, image: ImageRef): Either.Either<RegistryEndpoint, RegistryError> => {
  const configError = (detail: string) => providerError(provider, image)("Config", detail)
  if (provider.type === "STORE") {
    return Either.left(configError(`provider ${provider.name} is a tag store, not a registry`))
  }
  if (provider.type === "HELM") {
    return Either.left(configError(`provider ${provider.name} is a chart repository, not a registry`))
  }
  if (provider.type === "DOCKER_HUB" && image.registry !== DOCKER_HUB) {
    return Either.left(
      configError(`provider ${provider.name} is DOCKER_HUB but image ${image.written} is not on docker.io; use an OCI provider`),
    )
  }
  const baseUrl = provider.type === "DOCKER_HUB" ? Either.right(DOCKER_HUB_API) : baseUrlFor(provider, image)
  return checkServed(provider, image).pipe(
    Either.flatMap(() => Either.mapLeft(baseUrl, configError)),
    Either.map((baseUrl) => ({
      baseUrl,
      servedHosts: servedHosts(provider),
      linkLocalHosts: namedHosts(provider),
      ...scopeOf(provider, image),
      credentials: Option.none(),
      renewCredentials: Option.none(),
      insecure: provider.type !== "DOCKER_HUB" && provider.insecure,
      caCert: Option.none(),
      rateLimit: rateLimitOf(provider),
    })),
  )
}

/** The endpoint of a provider's image with what the provider presents there. */
export const resolveEndpoint = (
  credentials: Credentials["Type"],
  provider: ProviderConfig,
  image: ImageRef,
): Effect.Effect<RegistryEndpoint, RegistryError> =>
  Effect.flatMap(endpointFor(provider, image), (base) => Effect.map(credentials.forImage(provider, image), (access) => ({ ...base, ...access })))
