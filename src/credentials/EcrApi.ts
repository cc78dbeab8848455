import type { FileSystem } from "@effect/platform"
import { Context, Effect, Layer, type Option, type Schema } from "effect"
import type { EcrProvider } from "../domain/ProviderConfig.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import type { RegistryError } from "../domain/RegistryError.ts"
import type { RegistryHttp } from "../http/RegistryHttp.ts"
import { type EcrAction, makeEcr } from "./ecr.ts"
import type { RegistryCredentials } from "./RegistryCredentials.ts"
import { checkServed } from "./servedHosts.ts"

type Requirements = RegistryHttp | FileSystem.FileSystem

/**
 * ECR's own API, signed with the AWS keys of the moment: the listing with push times
 * (DescribeImages) and the authorization token the registry takes as Basic credentials. Nothing is
 * signed or sent for an image on a host the provider does not serve.
 */
export class EcrApi extends Context.Tag("EcrApi")<
  EcrApi,
  {
    readonly call: <A, I>(
      provider: EcrProvider,
      image: ImageRef,
      action: EcrAction,
      body: unknown,
      schema: Schema.Schema<A, I>,
    ) => Effect.Effect<A, RegistryError>
    /** The registry credentials of an authorization token, kept until an hour before it expires; `fresh` fetches anew. */
    readonly authorization: (provider: EcrProvider, image: ImageRef, fresh: boolean) => Effect.Effect<Option.Option<RegistryCredentials>, RegistryError>
  }
>() {
  static readonly layer: Layer.Layer<EcrApi, never, Requirements> = Layer.effect(EcrApi, Effect.suspend(() => make))
}

const make = Effect.gen(function* () {
  const context = yield* Effect.context<Requirements>()
  const ecr = yield* makeEcr
  return EcrApi.of({
    call: (provider, image, action, body, schema) =>
      Effect.zipRight(checkServed(provider, image), Effect.provide(ecr.call(provider, image, action, body, schema), context)),
    authorization: (provider, image, fresh) =>
      Effect.zipRight(checkServed(provider, image), Effect.provide(ecr.credentials(provider, image, fresh), context)),
  })
})
