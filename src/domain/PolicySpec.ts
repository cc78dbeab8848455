/** How a target ranks tags: the policy a watcher file names, or the default. */
export type PolicySpec =
  | { readonly _tag: "version"; readonly range: string }
  | { readonly _tag: "semver"; readonly range: string }
  | { readonly _tag: "alphabetical"; readonly order: "asc" | "desc" }
  | { readonly _tag: "numerical"; readonly order: "asc" | "desc" }
  | { readonly _tag: "newest" }
