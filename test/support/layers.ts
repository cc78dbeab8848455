import { Layer } from "effect"
import { Credentials } from "../../src/credentials/Credentials.ts"
import { EcrApi } from "../../src/credentials/EcrApi.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { RegistryClient } from "../../src/registry/RegistryClient.ts"
import { ChartIndex } from "../../src/charts/ChartIndex.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { TagStore } from "../../src/registry/TagStore.ts"

/** The registry client over a RegistryHttp of its own, as main.ts wires them. */
export const registryClientLayer = RegistryClient.layer.pipe(Layer.provideMerge(RegistryHttp.layer))

/**
 * TagSource with the real services under it, composed as main.ts's `tagSources`: one RegistryHttp
 * under the client, the credentials and ECR's API. Needs the platform's context (NodeContext).
 */
export const tagSourcesLayer = (dataDir: string) =>
  TagSource.layer(dataDir).pipe(
    Layer.provideMerge(Credentials.layer),
    Layer.provideMerge(Layer.mergeAll(EcrApi.layer, RegistryClient.layer, TagStore.layer, ChartIndex.layer(dataDir))),
    Layer.provideMerge(RegistryHttp.layer)
  )
