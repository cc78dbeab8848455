import { Either, Option, type Redacted } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import { DOCKER_HUB, type ImageRef } from "./ImageRef.ts"
import { RegistryError } from "./RegistryError.ts"

export interface RegistryCredentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** Where and how to reach one repository of a registry. */
export interface RegistryEndpoint {
  /** e.g. `https://registry-1.docker.io`, `http://127.0.0.1:5000` (no trailing slash). */
  readonly baseUrl: string
  /** host[:port] as in the image reference, for messages. */
  readonly registry: string
  /** e.g. `library/nginx` */
  readonly repository: string
  readonly credentials: Option.Option<RegistryCredentials>
  /** Skip TLS certificate verification. */
  readonly insecure: boolean
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

const credentialsFor = (
  provider: ProviderConfig,
  password: Option.Option<Redacted.Redacted<string>>,
): Either.Either<Option.Option<RegistryCredentials>, string> => {
  const username = provider.username
  if (username === undefined) {
    return Option.isSome(password)
      ? Either.left(`provider ${provider.name} has a password but no username`)
      : Either.right(Option.none())
  }
  return Option.match(password, {
    onNone: () => Either.left(`provider ${provider.name} has a username but no password`),
    onSome: (value) => Either.right(Option.some({ username, password: value })),
  })
}

/**
 * OCI (and GCR/ECR, which speak the same API): baseUrl = provider.address or `https://<image registry host>`;
 * DOCKER_HUB: https://registry-1.docker.io (the image must be a docker.io image).
 */
export const endpointFor = (
  provider: ProviderConfig,
  image: ImageRef,
  password: Option.Option<Redacted.Redacted<string>>,
): Either.Either<RegistryEndpoint, RegistryError> => {
  const configError = (detail: string) =>
    new RegistryError({ reason: "Config", registry: image.registry, repository: image.repository, detail })
  if (provider.type === "STORE") {
    return Either.left(configError(`provider ${provider.name} is a tag store, not a registry`))
  }
  if (provider.type === "DOCKER_HUB" && image.registry !== DOCKER_HUB) {
    return Either.left(
      configError(`provider ${provider.name} is DOCKER_HUB but image ${image.written} is not on docker.io; use an OCI provider`),
    )
  }
  const baseUrl = provider.type === "DOCKER_HUB" ? Either.right(DOCKER_HUB_API) : baseUrlFor(provider, image)
  return Either.all([baseUrl, credentialsFor(provider, password)]).pipe(
    Either.mapLeft(configError),
    Either.map(([baseUrl, credentials]) => ({
      baseUrl,
      registry: image.registry,
      repository: image.repository,
      credentials,
      insecure: provider.insecure,
    })),
  )
}
