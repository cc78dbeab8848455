/**
 * A chart repository's index as the runner keeps it in its data dir: the reduced form (charts →
 * versions, dates, digests), not the YAML, with the validators to ask the server whether it
 * changed (ETag, Last-Modified) and when it was last checked, so that a restart within the
 * repository's interval asks nothing and one after it sends a conditional request.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import { readDataFile, writeDataFile } from "../dataFile.ts"
import type { ChartVersion, ChartVersions } from "./indexScan.ts"

export interface KeptIndex {
  readonly charts: ChartVersions
  readonly etag?: string
  readonly lastModified?: string
  /** When the server last confirmed it, wall clock milliseconds. */
  readonly checked: number
}

/** Versions as `[version, created, digest]`, charts as pairs: a chart named `__proto__` is only a name. */
const Stored = Schema.Struct({
  address: Schema.String,
  etag: Schema.optional(Schema.String),
  lastModified: Schema.optional(Schema.String),
  checked: Schema.Number,
  charts: Schema.Array(Schema.Tuple(Schema.String, Schema.Array(Schema.Tuple(Schema.String, Schema.NullOr(Schema.Number), Schema.NullOr(Schema.String)))))
})

const toVersion = ([version, created, digest]: readonly [string, number | null, string | null]): ChartVersion => ({
  version,
  ...(created === null ? {} : { created }),
  ...(digest === null ? {} : { digest })
})

/** The file of a repository, by its name and address: neither reaches the file system as a path. */
export const keptIndexFile = (dataDir: string, path: Path.Path, name: string, address: string): string =>
  path.join(dataDir, "charts", `${createHash("sha256").update(`${name}\0${address}`).digest("hex").slice(0, 32)}.json`)

/** What was kept for `address` in `file`; undefined when nothing (or something else, or something damaged) is. */
export const loadKeptIndex = (file: string, address: string): Effect.Effect<KeptIndex | undefined, never, FileSystem.FileSystem> =>
  Effect.map(readDataFile(file, Stored, "chart versions"), (stored) =>
    stored === undefined || stored.address !== address
      ? undefined
      : {
        charts: new Map(stored.charts.map(([name, versions]) => [name, versions.map(toVersion)])),
        ...(stored.etag === undefined ? {} : { etag: stored.etag }),
        ...(stored.lastModified === undefined ? {} : { lastModified: stored.lastModified }),
        checked: stored.checked
      })

/** Writes the reduced index whole; a failure is a warning (the next read asks the server again), never the pass's. */
export const saveKeptIndex = (file: string, address: string, kept: KeptIndex): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> =>
  writeDataFile(file, {
    address,
    ...(kept.etag === undefined ? {} : { etag: kept.etag }),
    ...(kept.lastModified === undefined ? {} : { lastModified: kept.lastModified }),
    checked: kept.checked,
    charts: [...kept.charts].map(([name, versions]) => [name, versions.map((v) => [v.version, v.created ?? null, v.digest ?? null])])
  }).pipe(Effect.catchAll((error) => Effect.logWarning(`chart versions could not be kept in ${file}: ${error.message}`)))
