import { Cache, Context, Duration, Effect, Equal, Exit, Hash, Layer } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import type { TagInfo } from "../policy/TagPolicy.ts"
import { type ImageRef, imageName } from "../registry/ImageRef.ts"
import { TagSource, type TagSourceError } from "../registry/TagSource.ts"

/** A provider and an image; equal when they name the same provider declaration and repository. */
class TagKey implements Equal.Equal {
  readonly id: string
  constructor(
    readonly provider: ProviderConfig,
    readonly image: ImageRef
  ) {
    this.id = `${provider.source.file}:${provider.source.line}:${provider.name}\u0000${imageName(image)}`
  }
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof TagKey && that.id === this.id
  }
  [Hash.symbol](): number {
    return Hash.string(this.id)
  }
}

interface Listing {
  readonly tags: ReadonlyArray<TagInfo>
  readonly interval: Duration.Duration
}

/**
 * The fetch stage. Each image is listed at most once per its provider's interval however many
 * targets, files and repositories watch it; concurrent requests for one image share one call.
 * A failed listing is not kept, so the next pass asks again.
 */
export class TagCache extends Context.Tag("TagCache")<
  TagCache,
  {
    readonly get: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, TagSourceError>
    /** Forgets an image's listing so the next pass lists it again (a registry told us it changed). */
    readonly invalidate: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<void>
  }
>() {
  static readonly layer = Layer.effect(
    TagCache,
    Effect.gen(function* () {
      const source = yield* TagSource
      const cache = yield* Cache.makeWith({
        capacity: 100_000,
        lookup: (key: TagKey) =>
          source.list(key.provider, key.image).pipe(Effect.map((tags): Listing => ({ tags, interval: key.provider.interval }))),
        timeToLive: (exit) => (Exit.isSuccess(exit) ? exit.value.interval : Duration.zero)
      })
      return {
        get: (provider, image) => cache.get(new TagKey(provider, image)).pipe(Effect.map((l) => l.tags)),
        invalidate: (provider, image) => cache.invalidate(new TagKey(provider, image))
      }
    })
  )
}
