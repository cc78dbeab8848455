/**
 * The discover stage: the files `spec.discover` rules name, listed once per pass at the checkout's
 * head and scanned for image references. What a blob holds is kept in the parse cache by its id,
 * so a file that did not change is neither read nor scanned again.
 */
import { Effect, Either, Option } from "effect"
import type { WatcherFile } from "../config/model.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { Blob, Checkout, GitError } from "../git/GitRepo.ts"
import { validFilePath } from "../git/commitBatch.ts"
import { type FoundReference, scanReferences } from "../manifest/scan.ts"
import { compileRules, type Discovery, discoveredTargets } from "./discovered.ts"
import type { ParseCache } from "./ParseCache.ts"
import { oversize } from "./sizeLimit.ts"

/** Files read from git at once: one batch read each, bounded in memory. */
const READ_BATCH = 256

/** A file's references: none for a link, bytes that are not text, a file too large or one that is not YAML. */
export const referencesIn = (path: string, blob: Pick<Blob, "kind" | "size" | "text">): ReadonlyArray<FoundReference> =>
  blob.kind !== "text" || oversize(path, blob.size, "manifests") !== undefined ? [] : Either.getOrElse(scanReferences(blob.text, path), () => [])

export interface Discovered extends Discovery {
  /** Files read and scanned in this pass: the others' references came from the parse cache. */
  readonly scanned: number
}

/** Adds the targets of the watcher files' discover rules to their files; without rules, lists nothing. */
export const discoverTargets = Effect.fn("pipeline.discoverTargets")(function* (
  checkout: Checkout,
  files: ReadonlyArray<WatcherFile>,
  providers: ReadonlyArray<ProviderConfig>,
  cache: ParseCache
): Effect.fn.Return<Discovered, GitError> {
  const rules = compileRules(files)
  if (rules.length === 0) return { files, discovered: [], notes: [], scanned: 0 }
  // Regular files only: a link's text is another path. A name git's batch read cannot take is passed over.
  const matched = (yield* checkout.listTree).filter(
    (entry) => entry.kind === "file" && rules.some((rule) => rule.path(entry.path)) && Option.isSome(validFilePath(entry.path))
  )
  const found = new Map<string, ReadonlyArray<FoundReference>>()
  const unknown: Array<string> = []
  for (const entry of matched) {
    const known = cache.references(entry.oid, entry.path)
    found.set(entry.path, known ?? [])
    if (known === undefined) unknown.push(entry.path)
  }
  for (let start = 0; start < unknown.length; start += READ_BATCH) {
    const batch = unknown.slice(start, start + READ_BATCH)
    const blobs = yield* checkout.readFiles(batch)
    batch.forEach((path, i) =>
      Option.map(blobs[i] ?? Option.none(), (blob) => {
        const refs = referencesIn(path, blob)
        cache.keepReferences(blob.oid, path, refs)
        found.set(path, refs)
      })
    )
  }
  yield* Effect.annotateCurrentSpan({ matched: matched.length, scanned: unknown.length })
  return { ...discoveredTargets(files, rules, found, providers), scanned: unknown.length }
})
