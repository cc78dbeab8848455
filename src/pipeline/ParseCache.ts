import { FileSystem } from "@effect/platform"
import { Effect, Either, Schema } from "effect"
import type { Target } from "../config/model.ts"
import { writeFileWhole } from "../files.ts"
import type { ScalarHit } from "../manifest/patch.ts"
import { decodeJsonText } from "../json.ts"
import { VERSION } from "../version.ts"

/**
 * What parsing a file gave, kept by blob id from one pass to the next: parsing YAML is most of
 * what a quiet pass costs besides its requests, and a blob's parse never changes. Watcher files
 * are kept by path and blob (targets carry their file's path); the scalars a field path finds in
 * a file, by blob and path. Each pass keeps only what it used, so entries of blobs that left the
 * branch are dropped. The file is tied to the runner's version and the cache's format: another
 * version parses afresh.
 */
export interface ParseCache {
  readonly watcherTargets: (path: string, oid: string) => ReadonlyArray<Target> | undefined
  readonly keepWatcherTargets: (path: string, oid: string, targets: ReadonlyArray<Target>) => void
  readonly hits: (oid: string, field: string) => ReadonlyArray<ScalarHit> | undefined
  readonly keepHits: (oid: string, field: string, hits: ReadonlyArray<ScalarHit>) => void
  /** What this pass used and learned, as the text to save; undefined when that is what was loaded. */
  readonly save: () => string | undefined
}

/** Raised whenever what a parse keeps changes shape or meaning, so that no older entry is trusted. */
const FORMAT = 2
const KEY = `${VERSION}/${FORMAT}`

const Order = Schema.Literal("asc", "desc")

/** What the pipeline keeps of a target, checked against the model so that the two cannot drift apart. */
const StoredTarget: Schema.Schema<Target, Omit<Target, "minAge"> & { readonly minAge?: number }> = Schema.Struct({
  image: Schema.String,
  provider: Schema.String,
  filePath: Schema.String,
  field: Schema.String,
  policy: Schema.Union(
    Schema.Struct({ _tag: Schema.Literal("version", "semver"), range: Schema.String }),
    Schema.Struct({ _tag: Schema.Literal("alphabetical"), order: Order }),
    Schema.Struct({ _tag: Schema.Literal("numerical"), order: Order }),
    Schema.Struct({ _tag: Schema.Literal("newest") })
  ),
  filterTags: Schema.optionalWith(Schema.Struct({ pattern: Schema.String, extract: Schema.String }), { exact: true }),
  excludeTags: Schema.Array(Schema.String),
  allowDowngrade: Schema.Boolean,
  minAge: Schema.optionalWith(Schema.DurationFromMillis, { exact: true }),
  format: Schema.Literal("image", "tag", "digest"),
  source: Schema.Struct({ file: Schema.String, line: Schema.Number })
})

const StoredHit: Schema.Schema<ScalarHit> = Schema.Struct({
  document: Schema.Number,
  line: Schema.Number,
  value: Schema.String,
  source: Schema.String,
  start: Schema.Number,
  end: Schema.Number,
  style: Schema.Literal("PLAIN", "QUOTE_SINGLE", "QUOTE_DOUBLE", "BLOCK_LITERAL", "BLOCK_FOLDED")
})

const Saved = Schema.Struct({
  version: Schema.Literal(KEY),
  watchers: Schema.Record({ key: Schema.String, value: Schema.Array(StoredTarget) }),
  hits: Schema.Record({ key: Schema.String, value: Schema.Array(StoredHit) })
})
type Saved = typeof Saved.Type

/** The entries of a saved cache, or none when it is missing, unreadable, from another version or not ours. */
const entriesOf = (text: string | undefined): Saved | undefined =>
  text === undefined ? undefined : Either.getOrUndefined(decodeJsonText(Saved, text))

export const parseCache = (text: string | undefined): ParseCache => {
  const saved = entriesOf(text)
  const watchers = new Map<string, ReadonlyArray<Target>>()
  const hits = new Map<string, ReadonlyArray<ScalarHit>>()
  let learned = false
  const lookUp = <A>(from: Record<string, A> | undefined, into: Map<string, A>, key: string): A | undefined => {
    const found = into.get(key) ?? (from !== undefined && Object.hasOwn(from, key) ? from[key] : undefined)
    if (found !== undefined) into.set(key, found)
    return found
  }
  return {
    watcherTargets: (path, oid) => lookUp(saved?.watchers, watchers, `${path}\u0000${oid}`),
    keepWatcherTargets: (path, oid, targets) => {
      learned = true
      watchers.set(`${path}\u0000${oid}`, targets)
    },
    hits: (oid, field) => lookUp(saved?.hits, hits, `${oid}\u0000${field}`),
    keepHits: (oid, field, found) => {
      learned = true
      hits.set(`${oid}\u0000${field}`, found)
    },
    save: () => {
      const unchanged = !learned && saved !== undefined &&
        watchers.size === Object.keys(saved.watchers).length && hits.size === Object.keys(saved.hits).length
      return unchanged
        ? undefined
        : JSON.stringify(Schema.encodeSync(Saved)({ version: KEY, watchers: Object.fromEntries(watchers), hits: Object.fromEntries(hits) }))
    }
  }
}

/** Reads the cache kept at `file`; a missing or unreadable one is an empty cache. */
export const loadParseCache = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readFileString(file).pipe(
      Effect.map((text) => parseCache(text)),
      Effect.orElseSucceed(() => parseCache(undefined))
    )
  )

/** Writes the cache whole, if it changed; a failure costs only a parse next pass. */
export const saveParseCache = (file: string, cache: ParseCache) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => {
    const text = cache.save()
    if (text === undefined) return Effect.void
    return writeFileWhole(fs, file, text).pipe(
      Effect.catchAll((error) => Effect.logDebug(`cannot keep the parse cache: ${error.message}`))
    )
  })
