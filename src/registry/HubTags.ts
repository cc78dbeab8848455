import { Effect, Schema } from "effect"
import type { DockerHubProvider } from "../domain/ProviderConfig.ts"
import { cloudJson, cloudTarget } from "../credentials/cloud.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import type { RegistryHttp } from "../http/RegistryHttp.ts"

/** Docker Hub's web API, which knows when each tag was last pushed; the registry API does not. */
const HUB_API = "https://hub.docker.com"
const PAGE_SIZE = 100
const MAX_PAGES = 100

const TagsPage = Schema.Struct({
  next: Schema.optional(Schema.NullOr(Schema.String)),
  results: Schema.Array(Schema.Struct({ name: Schema.String, tag_last_pushed: Schema.optional(Schema.NullOr(Schema.String)) }))
})

/**
 * When Docker Hub last took each tag of a public image (`tag_last_pushed`): the registry's own
 * clock, which the image's publisher does not write. Pages are followed on the same host only.
 * `endpoint` in the provider's config points elsewhere (a mirror of the API, or a test server).
 */
export const hubPushTimes = (
  provider: DockerHubProvider,
  image: ImageRef
): Effect.Effect<ReadonlyMap<string, Date>, RegistryError, RegistryHttp> =>
  Effect.gen(function* () {
    const base = (provider.endpoint ?? HUB_API).replace(/\/+$/, "")
    const [namespace, ...rest] = image.repository.split("/")
    const target = { ...cloudTarget(provider, image), registry: new URL(base).host }
    const times = new Map<string, Date>()
    let url: string | undefined = `${base}/v2/namespaces/${namespace}/repositories/${rest.join("/")}/tags?page_size=${PAGE_SIZE}`
    for (let page = 0; url !== undefined && page < MAX_PAGES; page++) {
      const answer: typeof TagsPage.Type = yield* cloudJson(target, { method: "GET", url, headers: { accept: "application/json" } }, TagsPage, "Docker Hub's tag list")
      for (const tag of answer.results) {
        const pushed = tag.tag_last_pushed === undefined || tag.tag_last_pushed === null ? Number.NaN : Date.parse(tag.tag_last_pushed)
        if (Number.isFinite(pushed)) times.set(tag.name, new Date(pushed))
      }
      const next: string | null | undefined = answer.next
      if (next === undefined || next === null || next === "") return times
      if (new URL(next, url).host !== new URL(base).host) return yield* providerError(provider, image)("Protocol", "Docker Hub's next page is on another host")
      url = new URL(next, url).href
    }
    return times
  })
