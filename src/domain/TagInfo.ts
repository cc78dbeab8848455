/** A tag as a provider lists it. `created` is known only where the provider gives it cheaply. */
export interface TagInfo {
  readonly tag: string
  readonly created?: Date
  readonly digest?: string
}
