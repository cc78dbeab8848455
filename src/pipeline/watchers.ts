import { Effect, Either, Option } from "effect"
import type { WatchedRepo, WatcherFile } from "../config/model.ts"
import { decodeWatcherTargets } from "../config/WatcherFile.ts"
import type { Blob, Checkout, GitError } from "../git/GitRepo.ts"
import { validFilePath } from "../git/commitBatch.ts"
import type { ParseCache } from "./ParseCache.ts"
import { oversize } from "./sizeLimit.ts"

export const WATCHER_DIR = ".pipe"

export interface WatcherFiles {
  readonly files: ReadonlyArray<WatcherFile>
  /** Watcher files that could not be read or decoded, and rejected targets: each fails alone. */
  readonly failures: ReadonlyArray<{ readonly path: string; readonly reason: string }>
}

const isYaml = (name: string) => /\.ya?ml$/i.test(name)

/** Which watcher files a repository's options select: excludes win over includes, as Piped did. */
export const selectWatcherFiles = (names: ReadonlyArray<string>, options: WatchedRepo | undefined) => {
  const yaml = names.filter(isYaml)
  if (options === undefined) return { use: yaml, missing: [] }
  if (options.excludes.length > 0) return { use: yaml.filter((n) => !options.excludes.includes(n)), missing: [] }
  if (options.includes.length > 0) {
    return { use: options.includes.filter((n) => names.includes(n)), missing: options.includes.filter((n) => !names.includes(n)) }
  }
  return { use: yaml, missing: [] }
}

interface Loaded {
  readonly file?: WatcherFile
  readonly failures: ReadonlyArray<string>
}

/**
 * A watcher file's blob, decoded once: what it gave, failures included, is kept by its blob id, so
 * a file too large or broken is not read or parsed again until it changes. A rejected target fails
 * alone; the file's other targets still run.
 */
const decodeBlob = (path: string, blob: Blob, cache: ParseCache): Loaded => {
  const whole = (reason: string): Loaded => {
    cache.keepWatcherFailures(path, blob.oid, [reason])
    return { failures: [reason] }
  }
  // The limit manifests have: watcher files are anyone's with a commit, and parsing costs ~200 times the size.
  const tooLarge = oversize(path, blob.size, "watcher files")
  if (tooLarge !== undefined) return whole(tooLarge)
  const decoded = decodeWatcherTargets(path, blob.text)
  if (Either.isLeft(decoded)) return whole(decoded.left.map((e) => e.display).join("; "))
  const failures = decoded.right.rejected.map((e) => e.display)
  const { targets, discover } = decoded.right
  cache.keepWatcherTargets(path, blob.oid, targets)
  if (discover !== undefined) cache.keepWatcherRules(path, blob.oid, discover)
  if (failures.length > 0) cache.keepWatcherFailures(path, blob.oid, failures)
  return { file: { path, targets, ...(discover === undefined ? {} : { discover }) }, failures }
}

/** What the cache knows of a watcher file's blob, if it has met it. */
const cached = (cache: ParseCache, path: string, oid: string): Loaded | undefined => {
  const targets = cache.watcherTargets(path, oid)
  const failures = cache.watcherFailures(path, oid)
  const discover = cache.watcherRules(path, oid)
  if (targets === undefined && failures === undefined) return undefined
  const file = targets === undefined ? {} : { file: { path, targets, ...(discover === undefined ? {} : { discover }) } }
  return { ...file, failures: failures ?? [] }
}

/** Reads the repository's ImageWatcher files at the checkout's head; blobs the cache knows are neither read nor parsed again. */
export const loadWatcherFiles = Effect.fn("pipeline.loadWatcherFiles")(function* (
  checkout: Checkout,
  options: WatchedRepo | undefined,
  cache: ParseCache
): Effect.fn.Return<WatcherFiles, GitError> {
  const listed = yield* checkout.listFiles(WATCHER_DIR)
  const { use, missing } = selectWatcherFiles(listed.map((file) => file.name), options)
  const files: Array<WatcherFile> = []
  const failures = missing.map((n) => ({ path: `${WATCHER_DIR}/${n}`, reason: "included watcher file not found" }))
  const oids = new Map(listed.map((file) => [`${WATCHER_DIR}/${file.name}`, file.oid]))
  const known = (path: string) => cached(cache, path, oids.get(path) ?? "")
  // A name git's batch reads cannot take (a line break: anyone who can push may commit one) is
  // reported alone, instead of failing the read of every watcher file.
  const paths = use.map((name) => `${WATCHER_DIR}/${name}`).filter((path) => {
    if (Option.isSome(validFilePath(path))) return true
    failures.push({ path, reason: "the file's name holds a line break: not read" })
    return false
  })
  // Only the files the cache does not know by their blob id are read.
  const unknown = paths.filter((path) => known(path) === undefined)
  const read = new Map((yield* checkout.readFiles(unknown)).map((blob, i) => [unknown[i] ?? "", blob] as const))
  for (const path of paths) {
    const blob = read.get(path) ?? Option.none()
    const loaded: Loaded =
      known(path) ?? Option.match(blob, { onNone: (): Loaded => ({ failures: ["not a readable file"] }), onSome: (b) => decodeBlob(path, b, cache) })
    if (loaded.file !== undefined) files.push(loaded.file)
    for (const reason of loaded.failures) failures.push({ path, reason })
  }
  return { files, failures }
})
