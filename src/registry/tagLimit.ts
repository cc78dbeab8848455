import { Effect } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import type { TagInfo } from "../domain/TagInfo.ts"

/** The most tags one image may list unless its provider's `maxTags` says otherwise. */
export const DEFAULT_MAX_TAGS = 100_000

/** How many tags an image of this provider may list before its listing fails. */
export const maxTagsOf = (provider: Pick<ProviderConfig, "maxTags">): number => provider.maxTags ?? DEFAULT_MAX_TAGS

/** Why a listing stopped: named after the provider whose `maxTags` the operator can raise. */
export const tooManyTags = (provider: string, max: number): string => `more than ${max} tags listed; raise maxTags of provider ${provider}`

/**
 * Adds one page to a listing, false (and nothing added) when the listing would pass `max`. One tag
 * at a time: spreading a page into `push` puts each of its tags on the stack, and a registry that
 * ignores paging sends hundreds of thousands in one page, past what the stack holds.
 */
export const appendPage = (tags: Array<TagInfo>, page: ReadonlyArray<TagInfo>, max: number): boolean => {
  if (tags.length + page.length > max) return false
  for (const tag of page) tags.push(tag)
  return true
}

/** A listing read whole (a tag store's file), held to its provider's `maxTags` like a paged one. */
export const withinLimit = (
  provider: ProviderConfig,
  image: ImageRef,
  tags: ReadonlyArray<TagInfo>,
): Effect.Effect<ReadonlyArray<TagInfo>, RegistryError> => {
  const max = maxTagsOf(provider)
  return tags.length > max ? Effect.fail(providerError(provider, image)("Limit", tooManyTags(provider.name, max))) : Effect.succeed(tags)
}
