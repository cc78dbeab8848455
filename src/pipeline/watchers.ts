import { Effect, Either, Option } from "effect"
import type { WatchedRepo, WatcherFile } from "../config/model.ts"
import { decodeWatcherTargets } from "../config/WatcherFile.ts"
import type { Checkout, GitError } from "../git/GitRepo.ts"
import { validFilePath } from "../git/remote.ts"
import type { ParseCache } from "./ParseCache.ts"

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

/** Reads the repository's ImageWatcher files at the checkout's head; files the cache knows are not parsed again. */
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
  const known = (path: string) => cache.watcherTargets(path, oids.get(path) ?? "")
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
    const targets = known(path)
    if (targets !== undefined) {
      files.push({ path, targets })
      continue
    }
    const blob = read.get(path) ?? Option.none()
    if (Option.isNone(blob)) {
      failures.push({ path, reason: "not a readable file" })
      continue
    }
    const decoded = decodeWatcherTargets(path, blob.value.text)
    if (Either.isLeft(decoded)) {
      failures.push({ path, reason: decoded.left.map((e) => e.display).join("; ") })
      continue
    }
    // A rejected target fails alone; the file's other targets still run.
    for (const e of decoded.right.rejected) failures.push({ path, reason: e.display })
    // Only a file without rejections is kept: its targets are then all there is to know of it.
    if (decoded.right.rejected.length === 0) cache.keepWatcherTargets(path, blob.value.oid, decoded.right.targets)
    files.push(decoded.right)
  }
  return { files, failures }
})
