/**
 * The discover stage: the files `spec.discover` rules name, listed once per pass at the checkout's
 * head and scanned for image references and chart versions. What a blob holds is kept in the parse cache by its id,
 * so a file that did not change is neither read nor scanned again.
 */
import { Effect, Either, Option } from "effect"
import type { WatcherFile } from "../config/model.ts"
import type { ChartRepository } from "../domain/ChartSource.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { Blob, Checkout, GitError } from "../git/GitRepo.ts"
import { validFilePath } from "../git/commitBatch.ts"
import { EMPTY_SCAN, type FileScan, scanFile } from "../manifest/scanFile.ts"
import { compileRules, type Discovery, discoveredTargets } from "./discovered.ts"
import type { ParseCache } from "./ParseCache.ts"
import { oversize } from "./sizeLimit.ts"

/** Files read from git at once: one batch read each, bounded in memory. */
const READ_BATCH = 256

/** What a file holds: nothing for a link, bytes that are not text, a file too large or one that is not YAML. */
export const scanBlob = (path: string, blob: Pick<Blob, "kind" | "size" | "text">): FileScan =>
  blob.kind !== "text" || oversize(path, blob.size, "manifests") !== undefined ? EMPTY_SCAN : Either.getOrElse(scanFile(blob.text, path), () => EMPTY_SCAN)

export interface Discovered extends Discovery {
  /** Files read and scanned in this pass: the others' references came from the parse cache. */
  readonly scanned: number
}

/** Where discovered targets get their versions: image providers, and the chart repositories of `spec.chartRepositories`. */
export interface Sources {
  readonly providers: ReadonlyArray<ProviderConfig>
  readonly chartRepositories: ReadonlyArray<ChartRepository>
}

/** Adds the targets of the watcher files' discover rules to their files; without rules, lists nothing. */
export const discoverTargets = Effect.fn("pipeline.discoverTargets")(function* (
  checkout: Checkout,
  files: ReadonlyArray<WatcherFile>,
  sources: Sources,
  cache: ParseCache
): Effect.fn.Return<Discovered, GitError> {
  const rules = compileRules(files)
  if (rules.length === 0) return { files, discovered: [], notes: [], scanned: 0 }
  // Regular files only: a link's text is another path. A name git's batch read cannot take is passed over.
  const matched = (yield* checkout.listTree).filter(
    (entry) => entry.kind === "file" && rules.some((rule) => rule.path(entry.path)) && Option.isSome(validFilePath(entry.path))
  )
  const found = new Map<string, FileScan>()
  const unknown: Array<string> = []
  for (const entry of matched) {
    const known = cache.scan(entry.oid, entry.path)
    found.set(entry.path, known ?? EMPTY_SCAN)
    if (known === undefined) unknown.push(entry.path)
  }
  for (let start = 0; start < unknown.length; start += READ_BATCH) {
    const batch = unknown.slice(start, start + READ_BATCH)
    const blobs = yield* checkout.readFiles(batch)
    batch.forEach((path, i) =>
      Option.map(blobs[i] ?? Option.none(), (blob) => {
        const scan = scanBlob(path, blob)
        cache.keepScan(blob.oid, path, scan)
        found.set(path, scan)
      })
    )
  }
  yield* Effect.annotateCurrentSpan({ matched: matched.length, scanned: unknown.length })
  return { ...discoveredTargets(files, rules, found, sources.providers, sources.chartRepositories), scanned: unknown.length }
})
