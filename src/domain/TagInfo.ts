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
