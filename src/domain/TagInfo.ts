import type { Option } from "effect"

/** A tag as a provider lists it. `created` is known only where the provider gives it cheaply. */
export interface TagInfo {
  readonly tag: string
  readonly created?: Date
  /**
   * When the registry itself took the tag (ECR's `imagePushedAt`, GCR's upload time, the tag
   * store's registration): a clock the image's publisher does not control, unlike `created`.
   */
  readonly pushed?: Date
  readonly digest?: string
}

/**
 * When a tag's image was built, as its config says, and the digest of the manifest (or index) the
 * tag pointed at when asked: a date is kept by that digest, which a rebuild in place changes.
 */
export interface Dated {
  readonly digest: Option.Option<string>
  readonly created: Option.Option<Date>
}
