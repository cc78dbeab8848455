import type { CommandExecutor, FileSystem } from "@effect/platform"
import { Context, Effect, Layer, Option } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import type { RegistryError } from "../domain/RegistryError.ts"
import type { RegistryHttp } from "../http/RegistryHttp.ts"
import { EcrApi } from "./EcrApi.ts"
import { caCertOf, fileCredentials } from "./files.ts"
import { makeGcpCredentials } from "./gcp.ts"
import type { RegistryCredentials } from "./RegistryCredentials.ts"
import { checkServed } from "./servedHosts.ts"

type Requirements = RegistryHttp | FileSystem.FileSystem | CommandExecutor.CommandExecutor

/** What a provider presents to the registry of one image. */
export interface Access {
  /** PEM certificates of the provider's caFile, trusted besides the system's. */
  readonly caCert: Option.Option<string>
  readonly credentials: Option.Option<RegistryCredentials>
  /**
   * Fresh credentials once the registry rejected `credentials`: a rotated password file read
   * again, a cloud token fetched anew. Absent when asking again cannot change the answer.
   */
  readonly renewCredentials: Option.Option<Effect.Effect<Option.Option<RegistryCredentials>, RegistryError>>
}

/**
 * A provider's credentials, from the family its type names: files (read on every use, so rotated
 * files take effect without a restart), Docker config files and their helpers, and the cloud token
 * services of GCR and ECR, whose tokens are kept until shortly before they expire. It only gives what
 * is presented to a registry: ECR's own API is EcrApi's.
 */
export class Credentials extends Context.Tag("Credentials")<
  Credentials,
  {
    readonly forImage: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<Access, RegistryError>
  }
>() {
  static readonly layer: Layer.Layer<Credentials, never, Requirements | EcrApi> = Layer.effect(Credentials, Effect.suspend(() => make))
}

const make = Effect.gen(function* () {
  const context = yield* Effect.context<Requirements>()
  const gcp = yield* makeGcpCredentials
  const ecr = yield* EcrApi

  const credentials = (
    provider: ProviderConfig,
    image: ImageRef,
    fresh: boolean,
  ): Effect.Effect<Option.Option<RegistryCredentials>, RegistryError, Requirements> => {
    switch (provider.type) {
      case "GCR":
        return gcp(provider, image, fresh)
      case "ECR":
        return ecr.authorization(provider, image, fresh)
      default:
        return fileCredentials(provider, image)
    }
  }

  const forImage = (provider: ProviderConfig, image: ImageRef) =>
    Effect.gen(function* () {
      // No secret is read, fetched or sent for an image on a host the provider does not serve.
      yield* checkServed(provider, image)
      const caCert = yield* caCertOf(provider, image)
      const current = yield* credentials(provider, image, false)
      // A cloud token can always be fetched anew; files can only have changed if they gave something.
      const renewable = provider.type === "GCR" || provider.type === "ECR" || Option.isSome(current)
      const renew = Effect.provide(credentials(provider, image, true), context)
      return { caCert, credentials: current, renewCredentials: renewable ? Option.some(renew) : Option.none() }
    }).pipe(Effect.provide(context))

  return Credentials.of({ forImage })
})
