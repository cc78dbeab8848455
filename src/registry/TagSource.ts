import { FileSystem, Path } from "@effect/platform"
import { Context, Effect, Either, Layer, Option, Redacted } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import type { TagInfo } from "../policy/TagPolicy.ts"
import { endpointFor } from "./endpoint.ts"
import type { ImageRef } from "./ImageRef.ts"
import { RegistryClient } from "./RegistryClient.ts"
import { RegistryError } from "./RegistryError.ts"
import { TagStore, type TagStoreError } from "./TagStore.ts"

export type TagSourceError = RegistryError | TagStoreError

/** Where a STORE provider keeps its tags. */
export const storeDir = (provider: ProviderConfig, dataDir: string, path: Path.Path): string =>
  provider.path ?? path.join(dataDir, "store", provider.name)

/** Lists the tags of an image through the provider that watches it. */
export class TagSource extends Context.Tag("TagSource")<
  TagSource,
  { readonly list: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, TagSourceError> }
>() {
  static readonly layer = (dataDir: string) =>
    Layer.effect(
      TagSource,
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const registry = yield* RegistryClient
        const store = yield* TagStore

        // Read on every listing, so a rotated password is picked up without a restart.
        const password = (provider: ProviderConfig, image: ImageRef) =>
          provider.passwordFile === undefined
            ? Effect.succeed(Option.none<Redacted.Redacted<string>>())
            : fs.readFileString(provider.passwordFile).pipe(
                Effect.map((text) => Option.some(Redacted.make(text.trim()))),
                Effect.mapError(
                  (e) =>
                    new RegistryError({
                      reason: "Config",
                      registry: image.registry,
                      repository: image.repository,
                      detail: `provider ${provider.name}: cannot read passwordFile ${provider.passwordFile}: ${e.message}`
                    })
                )
              )

        const list = Effect.fn("TagSource.list")(function* (provider: ProviderConfig, image: ImageRef) {
          yield* Effect.annotateCurrentSpan({ provider: provider.name, image: `${image.registry}/${image.repository}` })
          switch (provider.type) {
            case "STORE":
              return yield* store.list(storeDir(provider, dataDir, path), image)
            case "OCI":
            case "DOCKER_HUB":
            case "GCR": {
              const endpoint = endpointFor(provider, image, yield* password(provider, image))
              if (Either.isLeft(endpoint)) return yield* endpoint.left
              const tags = yield* registry.listTags(endpoint.right)
              return tags.map((tag): TagInfo => ({ tag }))
            }
            case "ECR":
              return yield* new RegistryError({
                reason: "Config",
                registry: image.registry,
                repository: image.repository,
                detail: `provider ${provider.name}: type ECR is not supported yet`
              })
          }
        })
        return { list }
      })
    )
}
