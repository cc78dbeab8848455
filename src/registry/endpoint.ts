import { type Effect, Either, Encoding, Option, Redacted } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import { DOCKER_HUB, type ImageRef } from "./ImageRef.ts"
import { DEFAULT_RATE_LIMIT } from "./RateLimiter.ts"
import { RegistryError, registryError, scopeOf } from "./RegistryError.ts"
import type { Target } from "./RegistryHttp.ts"

export interface RegistryCredentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** `user:password` in base64, as Docker config `auth` entries and ECR tokens carry it; none unless it decodes and holds a colon. */
export const decodeBasicPair = (encoded: string): Option.Option<RegistryCredentials> =>
  Either.getRight(Encoding.decodeBase64String(encoded)).pipe(
    Option.flatMap((text) => {
      const colon = text.indexOf(":")
      return colon < 0 ? Option.none() : Option.some({ username: text.slice(0, colon), password: Redacted.make(text.slice(colon + 1)) })
    })
  )

/** Where and how to reach one repository of a registry. */
export interface RegistryEndpoint extends Target {
  /** e.g. `https://registry-1.docker.io`, `http://127.0.0.1:5000` (no trailing slash). */
  readonly baseUrl: string
  readonly credentials: Option.Option<RegistryCredentials>
  /**
   * Fresh credentials once the registry rejected `credentials`: a rotated password file read
   * again, a cloud token fetched anew. Absent when asking again cannot change the answer.
   */
  readonly renewCredentials: Option.Option<Effect.Effect<Option.Option<RegistryCredentials>, RegistryError>>
}

/** `docker.io` is only the name in image references; its registry API lives elsewhere. */
export const DOCKER_HUB_API = "https://registry-1.docker.io"

const baseUrlFor = (provider: ProviderConfig, image: ImageRef): Either.Either<string, string> => {
  if (provider.address === undefined) {
    return Either.right(image.registry === DOCKER_HUB ? DOCKER_HUB_API : `https://${image.registry}`)
  }
  let url: URL
  try {
    url = new URL(provider.address)
  } catch {
    return Either.left(`address "${provider.address}" of provider ${provider.name} is not a URL`)
  }
  if (url.username !== "" || url.password !== "") {
    // The address is echoed in messages and logs, so it must not carry credentials.
    return Either.left(`address of provider ${provider.name} must not contain credentials; use username and passwordFile`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(`address "${provider.address}" of provider ${provider.name} must be an http:// or https:// URL`)
  }
  if (url.search !== "" || url.hash !== "") {
    return Either.left(`address "${provider.address}" of provider ${provider.name} must not have a query or fragment`)
  }
  return Either.right(`${url.origin}${url.pathname.replace(/\/+$/, "")}`)
}

/**
 * OCI (and GCR/ECR, which speak the same API): baseUrl = provider.address or `https://<image registry host>`;
 * DOCKER_HUB: https://registry-1.docker.io (the image must be a docker.io image). Credentials are
 * the caller's to add: they depend on the provider's kind and on files read at the time.
 */
export const endpointFor = (provider: ProviderConfig, image: ImageRef): Either.Either<RegistryEndpoint, RegistryError> => {
  const configError = (detail: string) => registryError(scopeOf(provider, image))("Config", detail)
  if (provider.type === "STORE") {
    return Either.left(configError(`provider ${provider.name} is a tag store, not a registry`))
  }
  if (provider.type === "DOCKER_HUB" && image.registry !== DOCKER_HUB) {
    return Either.left(
      configError(`provider ${provider.name} is DOCKER_HUB but image ${image.written} is not on docker.io; use an OCI provider`),
    )
  }
  const baseUrl = provider.type === "DOCKER_HUB" ? Either.right(DOCKER_HUB_API) : baseUrlFor(provider, image)
  return baseUrl.pipe(
    Either.mapLeft(configError),
    Either.map((baseUrl) => ({
      baseUrl,
      provider: provider.name,
      registry: image.registry,
      repository: image.repository,
      credentials: Option.none(),
      renewCredentials: Option.none(),
      insecure: provider.insecure,
      caCert: Option.none(),
      rateLimit: provider.rateLimit ?? DEFAULT_RATE_LIMIT,
    })),
  )
}
