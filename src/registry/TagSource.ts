import { Path } from "@effect/platform"
import { Context, Effect, Layer, Option } from "effect"
import { ChartIndex } from "../charts/ChartIndex.ts"
import type { DockerHubProvider, HelmProvider, ProviderConfig, StoreProvider } from "../domain/ProviderConfig.ts"
import { Credentials } from "../credentials/Credentials.ts"
import { EcrApi } from "../credentials/EcrApi.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import type { Dated, TagInfo } from "../domain/TagInfo.ts"
import { listChartVersions } from "./ChartTags.ts"
import { chartVersionOf, ociTagOf } from "../domain/ociChart.ts"
import { listEcrTags } from "./EcrTags.ts"
import { resolveEndpoint } from "./endpoint.ts"
import { RegistryHttp } from "../http/RegistryHttp.ts"
import { hubPushTimes } from "./HubTags.ts"
import { RegistryClient } from "./RegistryClient.ts"
import { maxTagsOf, withinLimit } from "./tagLimit.ts"
import { TagStore, type TagStoreError } from "./TagStore.ts"

/** When the in-memory registry's first image was built, for tags a test does not date. */
const BUILT_FROM = Date.UTC(2024, 0, 1)
const WEEK = 7 * 86_400_000

export type TagSourceError = RegistryError | TagStoreError

/** The tags of an image as one kind of provider lists them. */
type Lister = (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, TagSourceError>

/** Whether a provider knows push times its listing does not carry (Docker Hub's web API); for the others `pushTimes` is empty. */
export const tellsPushTimes = (provider: ProviderConfig): provider is DockerHubProvider => provider.type === "DOCKER_HUB"

/** Where a STORE provider keeps its tags. */
export const storeDir = (provider: StoreProvider, dataDir: string, path: Path.Path): string =>
  provider.path ?? path.join(dataDir, "store", provider.name)

/** A tag store or a chart repository: no registry behind it to read manifests, blobs or signatures from. */
const isRegistryless = (provider: ProviderConfig): provider is StoreProvider | HelmProvider => provider.type === "STORE" || provider.type === "HELM"

const noRegistry = (provider: ProviderConfig, image: ImageRef) =>
  providerError(provider, image)(
    "Config",
    provider.type === "HELM"
      ? `provider ${provider.name} is a chart repository: its index.yaml lists versions, there is no registry to read digests, manifests or signatures from`
      : `provider ${provider.name} is a tag store: there is no registry to read signatures from`
  )

type Source = TagSource["Type"]

/**
 * A source whose providers of charts in OCI registries (`chartTags`) read tags as chart versions:
 * a listed `_` is the `+` Helm stored it for, and what is looked up by version asks for its tag.
 * Everything above this sees versions only.
 */
const readingChartVersions = (source: Source): Source => {
  const tagOf = (provider: ProviderConfig, tag: string) => (provider.chartTags === true ? ociTagOf(tag) : tag)
  return {
    ...source,
    list: (provider, image) =>
      provider.chartTags === true ? Effect.map(source.list(provider, image), (tags) => tags.map((t) => ({ ...t, tag: chartVersionOf(t.tag) }))) : source.list(provider, image),
    digest: (provider, image, tag) => source.digest(provider, image, tagOf(provider, tag)),
    created: (provider, image, tag) => source.created(provider, image, tagOf(provider, tag)),
    manifest: (provider, image, reference) => source.manifest(provider, image, tagOf(provider, reference)),
    pushTimes: (provider, image) =>
      provider.chartTags === true
        ? Effect.map(source.pushTimes(provider, image), (times) => new Map([...times].map(([tag, at]) => [chartVersionOf(tag), at])))
        : source.pushTimes(provider, image)
  }
}

/**
 * Lists the tags of an image through the provider that watches it. The functions on this path run
 * once per image or tag, by the thousand in a pass: they are plain functions rather than
 * `Effect.fn` spans, whose cost per call would show in the pass's time and which nothing exports.
 */
export class TagSource extends Context.Tag("TagSource")<
  TagSource,
  {
    readonly list: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, TagSourceError>
    /** The manifest digest a tag points at now, for fields that pin one. */
    readonly digest: (provider: ProviderConfig, image: ImageRef, tag: string) => Effect.Effect<string, TagSourceError>
    /** When the tag's image was created, where the listing did not say, and the digest it was read from. */
    readonly created: (provider: ProviderConfig, image: ImageRef, tag: string) => Effect.Effect<Dated, TagSourceError>
    /** A manifest by tag or digest (a signature's, say); None when there is none. */
    readonly manifest: (provider: ProviderConfig, image: ImageRef, reference: string) => Effect.Effect<Option.Option<Uint8Array>, TagSourceError>
    /** A blob by digest, checked against it. */
    readonly blob: (provider: ProviderConfig, image: ImageRef, digest: string) => Effect.Effect<Uint8Array, TagSourceError>
    /** The OCI index of what refers to a digest, by the referrers API; None when the registry has no such API. */
    readonly referrers: (provider: ProviderConfig, image: ImageRef, digest: string) => Effect.Effect<Option.Option<Uint8Array>, TagSourceError>
    /**
     * When the registry took each tag, where the listing does not say and the provider has another
     * way to tell (Docker Hub's web API); empty for the others.
     */
    readonly pushTimes: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyMap<string, Date>, TagSourceError>
  }
>() {
  static readonly layer = (dataDir: string) =>
    Layer.effect(
      TagSource,
      Effect.gen(function* () {
        const path = yield* Path.Path
        const credentials = yield* Credentials
        const ecr = yield* EcrApi
        const http = yield* RegistryHttp
        const registry = yield* RegistryClient
        const store = yield* TagStore
        const charts = yield* ChartIndex

        const endpoint = (provider: ProviderConfig, image: ImageRef) => resolveEndpoint(credentials, provider, image)

        const digest = (provider: ProviderConfig, image: ImageRef, tag: string) => Effect.gen(function* () {
          if (provider.type === "HELM") return yield* noRegistry(provider, image)
          if (provider.type !== "STORE") return yield* registry.manifestDigest(yield* endpoint(provider, image), tag)
          const registered = (yield* store.list(storeDir(provider, dataDir, path), image)).find((t) => t.tag === tag)
          if (registered?.digest !== undefined) return registered.digest
          return yield* providerError(provider, image)(
            "NotFound",
            `provider ${provider.name} has no digest for tag ${tag}: register it with --digest`
          )
        })

        const created = (provider: ProviderConfig, image: ImageRef, tag: string) => Effect.gen(function* () {
          // The index is all a chart repository tells of its versions: one it does not date is undated.
          if (provider.type === "HELM") return { digest: Option.none(), created: Option.none() } satisfies Dated
          if (provider.type !== "STORE") return yield* registry.imageCreated(yield* endpoint(provider, image), tag)
          const registered = (yield* store.list(storeDir(provider, dataDir, path), image)).find((t) => t.tag === tag)
          return { digest: Option.none(), created: Option.fromNullable(registered?.created) } satisfies Dated
        })

        const distribution = (provider: Exclude<ProviderConfig, { readonly type: "STORE" | "HELM" | "ECR" }>, image: ImageRef) =>
          Effect.flatMap(endpoint(provider, image), (e) => registry.listTags(e, { provider: provider.type, maxTags: maxTagsOf(provider) }))
        const list: Lister = (provider, image) => {
          switch (provider.type) {
            case "STORE":
              return Effect.flatMap(store.list(storeDir(provider, dataDir, path), image), (tags) => withinLimit(provider, image, tags))
            case "HELM":
              return listChartVersions(charts, provider, image)
            case "ECR":
              // DescribeImages lists tags with their push times, which the v2 tag list does not.
              return listEcrTags(ecr, provider, image)
            case "OCI":
            case "DOCKER_HUB":
            case "GCR":
              return distribution(provider, image)
          }
        }
        const manifest = (provider: ProviderConfig, image: ImageRef, reference: string) =>
          isRegistryless(provider) ? noRegistry(provider, image) : Effect.flatMap(endpoint(provider, image), (e) => registry.manifest(e, reference))
        const blob = (provider: ProviderConfig, image: ImageRef, digest: string) =>
          isRegistryless(provider) ? noRegistry(provider, image) : Effect.flatMap(endpoint(provider, image), (e) => registry.blob(e, digest))
        const referrers = (provider: ProviderConfig, image: ImageRef, digest: string) =>
          isRegistryless(provider) ? noRegistry(provider, image) : Effect.flatMap(endpoint(provider, image), (e) => registry.referrers(e, digest))
        const pushTimes = (provider: ProviderConfig, image: ImageRef) =>
          tellsPushTimes(provider) ? Effect.provideService(hubPushTimes(provider, image), RegistryHttp, http) : Effect.succeed(new Map<string, Date>())
        return readingChartVersions({ list, digest, created, manifest, blob, referrers, pushTimes })
      })
    )

  /**
   * An in-memory registry for tests that need no network: the tags of each image by its
   * normalised name (`docker.io/library/nginx`), read at every call, so a test can push a tag
   * between passes. An image it does not know is not found, as a registry answers. A chart
   * repository's versions are those of the ChartIndex provided to the layer.
   */
  static readonly layerTest = (images: Map<string, ReadonlyArray<TagInfo>>) => {
    const lookup = (provider: ProviderConfig, image: ImageRef) => {
      const tags = images.get(imageName(image))
      return tags === undefined
        ? providerError(provider, image)("NotFound", "repository unknown to the registry", 404)
        : Effect.succeed(tags)
    }
    const tagOf = (provider: ProviderConfig, image: ImageRef, tag: string) =>
      Effect.flatMap(lookup(provider, image), (tags) => {
        const found = tags.find((t) => t.tag === tag)
        return found === undefined ? providerError(provider, image)("NotFound", `manifest unknown: ${tag}`, 404) : Effect.succeed(found)
      })
    // A chart repository's versions come from the ChartIndex given to this layer (ChartIndex.layerFake), if any.
    return Layer.effect(TagSource, Effect.map(Effect.serviceOption(ChartIndex), (charts): TagSource["Type"] => readingChartVersions({
      // Listed as a registry lists them: names, and the push time where the registry tells it (ECR, GCR).
      list: (provider, image) =>
        provider.type === "HELM"
          ? Option.match(charts, {
              onNone: () => providerError(provider, image)("Config", "no ChartIndex given to the in-memory registry"),
              onSome: (index) => listChartVersions(index, provider, image)
            })
          : Effect.flatMap(lookup(provider, image), (tags) =>
              withinLimit(provider, image, tags.map(({ pushed, tag }) => (pushed === undefined ? { tag } : { tag, pushed }))),
            ),
      digest: (provider, image, tag) =>
        Effect.flatMap(tagOf(provider, image, tag), (t) =>
          t.digest === undefined ? providerError(provider, image)("NotFound", `no digest for ${tag}`) : Effect.succeed(t.digest)
        ),
      // Images are built in the order the fake lists them, a week apart, unless a test dates them.
      created: (provider, image, tag) =>
        Effect.flatMap(lookup(provider, image), (tags) => {
          const at = tags.findIndex((t) => t.tag === tag)
          const found = tags[at]
          return found === undefined
            ? providerError(provider, image)("NotFound", `manifest unknown: ${tag}`, 404)
            : Effect.succeed<Dated>({ digest: Option.fromNullable(found.digest), created: Option.some(found.created ?? new Date(BUILT_FROM + at * WEEK)) })
        }),
      // The fake registry holds tags only: no artifact is ever found.
      manifest: (provider, image) => Effect.as(lookup(provider, image), Option.none()),
      blob: (provider, image, digest) => Effect.flatMap(lookup(provider, image), () => providerError(provider, image)("NotFound", `blob unknown: ${digest}`, 404)),
      referrers: (provider, image) => Effect.as(lookup(provider, image), Option.none()),
      // Push times the fake knows are in its listing already.
      pushTimes: (provider, image) => Effect.as(lookup(provider, image), new Map<string, Date>())
    })))
  }
}
