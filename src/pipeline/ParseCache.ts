import { FileSystem } from "@effect/platform"
import { Duration, Effect } from "effect"
import type { PolicySpec } from "../domain/PolicySpec.ts"
import { type DeclaredTarget, FIELD_FORMATS } from "../domain/Target.ts"
import { writeFileWhole } from "../files.ts"
import type { ScalarHit } from "../manifest/patch.ts"
import type { FoundReference } from "../manifest/scan.ts"
import type { FoundChart, FoundFluxRepository } from "../manifest/scanCharts.ts"
import type { FileScan } from "../manifest/scanFile.ts"
import type { DiscoverRule } from "../domain/DiscoverRule.ts"
import { VERSION } from "../version.ts"

/**
 * What parsing a file gave, kept by blob id from one pass to the next: parsing YAML is most of
 * what a quiet pass costs besides its requests, and a blob's parse never changes. Watcher files
 * are kept by path and blob (targets carry their file's path), what failed in them as well as
 * their targets, so a broken file is not parsed again every pass; the scalars a field path finds in
 * a file, by blob and path. Each pass keeps only what it used, so entries of blobs that left the
 * branch are dropped. The file is tied to the runner's version and the cache's format: another
 * version parses afresh.
 */
export interface ParseCache {
  readonly watcherTargets: (path: string, oid: string) => ReadonlyArray<DeclaredTarget> | undefined
  readonly keepWatcherTargets: (path: string, oid: string, targets: ReadonlyArray<DeclaredTarget>) => void
  /** Why a watcher file's blob failed, whole or target by target: a blob that failed once fails again, unparsed. */
  readonly watcherFailures: (path: string, oid: string) => ReadonlyArray<string> | undefined
  readonly keepWatcherFailures: (path: string, oid: string, reasons: ReadonlyArray<string>) => void
  /** A watcher file's `spec.discover` rules, kept beside its targets. */
  readonly watcherRules: (path: string, oid: string) => ReadonlyArray<DiscoverRule> | undefined
  readonly keepWatcherRules: (path: string, oid: string, rules: ReadonlyArray<DiscoverRule>) => void
  /** What a scanned blob holds for discovery (images, charts, Flux HelmRepositories), by blob id and path (the scan reads the file's name). */
  readonly scan: (oid: string, path: string) => FileScan | undefined
  readonly keepScan: (oid: string, path: string, found: FileScan) => void
  readonly hits: (oid: string, field: string) => ReadonlyArray<ScalarHit> | undefined
  readonly keepHits: (oid: string, field: string, hits: ReadonlyArray<ScalarHit>) => void
  /** What this pass used and learned, as the text to save; undefined when that is what was loaded. */
  readonly save: () => string | undefined
}

/** Raised whenever what a parse keeps changes shape or meaning, so that no older entry is trusted. */
const FORMAT = 8
const KEY = `${VERSION}/${FORMAT}`

type Json = Record<string, unknown>

const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)
const isString = (value: unknown): value is string => typeof value === "string"
const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value)
const oneOf = <A extends string>(choices: ReadonlyArray<A>) => (value: unknown): value is A => choices.includes(value as A)
const isOrder = oneOf(["asc", "desc"] as const)
const isFormat = oneOf(FIELD_FORMATS)
const isSuspended = oneOf(["target", "watcher file"] as const)
const isStyle = oneOf(["PLAIN", "QUOTE_SINGLE", "QUOTE_DOUBLE", "BLOCK_LITERAL", "BLOCK_FOLDED"] as const)

/**
 * The cache is read by hand rather than through a schema: it is read whole at the start of every
 * pass, and a schema's decoder running for the first time costs twenty times the JSON parse. A
 * value that is not exactly what `save` writes makes the whole file unusable (undefined).
 */
const policyOf = (value: unknown): PolicySpec | undefined => {
  if (!isRecord(value)) return undefined
  const { _tag: tag, order, range } = value
  if ((tag === "version" || tag === "semver") && isString(range)) return { _tag: tag, range }
  if ((tag === "alphabetical" || tag === "numerical") && isOrder(order)) return { _tag: tag, order }
  return tag === "newest" ? { _tag: tag } : undefined
}

const targetOf = (value: unknown): DeclaredTarget | undefined => {
  if (!isRecord(value)) return undefined
  const { image, chart, repository, provider, filePath, field, filterTags, excludeTags, allowDowngrade, minAge, format, source, suspended } = value
  // A target without a policy of its own or its file's takes its pipeline's default at prepare.
  const given = Object.hasOwn(value, "policy")
  const policy = given ? policyOf(value["policy"]) : undefined
  const valid =
    isString(image) && isString(provider) && isString(filePath) && isString(field) && (!given || policy !== undefined) &&
    Array.isArray(excludeTags) && excludeTags.every(isString) && typeof allowDowngrade === "boolean" && isFormat(format) &&
    isRecord(source) && isString(source["file"]) && isNumber(source["line"]) &&
    (filterTags === undefined || (isRecord(filterTags) && isString(filterTags["pattern"]) && isString(filterTags["extract"]))) &&
    (minAge === undefined || isNumber(minAge)) && (suspended === undefined || isSuspended(suspended)) && (chart === undefined || isString(chart)) &&
    (repository === undefined || isString(repository))
  if (!valid) return undefined
  return {
    image, provider, filePath, field, excludeTags, allowDowngrade, format,
    ...(chart === undefined ? {} : { chart }),
    ...(repository === undefined ? {} : { repository }),
    ...(policy === undefined ? {} : { policy }),
    source: { file: source["file"] as string, line: source["line"] as number },
    ...(filterTags === undefined ? {} : { filterTags: { pattern: filterTags["pattern"] as string, extract: filterTags["extract"] as string } }),
    ...(minAge === undefined ? {} : { minAge: Duration.millis(minAge) }),
    ...(suspended === undefined ? {} : { suspended })
  }
}

const isStrings = (value: unknown): value is ReadonlyArray<string> => Array.isArray(value) && value.every(isString)

/** A rule as `storedRule` writes it: what a target of it takes is read by targetOf. */
const ruleOf = (value: unknown): DiscoverRule | undefined => {
  if (!isRecord(value)) return undefined
  const { paths, images, charts, provider, ...rest } = value
  const shared = targetOf({ image: "", provider: "", filePath: "", field: "", format: "image", ...rest })
  const valid = shared !== undefined && isStrings(paths) && (images === undefined || isStrings(images)) && (charts === undefined || isStrings(charts)) &&
    (provider === undefined || isString(provider))
  if (!valid) return undefined
  const { image: _i, provider: _p, filePath: _f, field: _d, format: _o, ...kept } = shared
  return {
    ...kept,
    paths,
    ...(images === undefined ? {} : { images }),
    ...(charts === undefined ? {} : { charts }),
    ...(provider === undefined ? {} : { provider })
  }
}

const isReferenceFormat = oneOf(["image", "kustomize", "helm"] as const)

const referenceOf = (value: unknown): FoundReference | undefined => {
  if (!isRecord(value)) return undefined
  const { format, field, document, image, reference, digestOnly, line } = value
  const valid = isReferenceFormat(format) && (field === undefined || isString(field)) && isNumber(document) && isString(image) &&
    isString(reference) && typeof digestOnly === "boolean" && isNumber(line)
  return valid ? { format, ...(field === undefined ? {} : { field }), document, image, reference, digestOnly, line } : undefined
}

const isChartKind = oneOf(["pipecd", "chart-dependency", "argocd", "flux"] as const)
const isRepositoryKind = oneOf(["url", "oci", "name", "flux-source"] as const)

const chartOf = (value: unknown): FoundChart | undefined => {
  if (!isRecord(value)) return undefined
  const { kind, chart, repository, repositoryKind, field, document, version, ranged, line } = value
  const valid = isChartKind(kind) && isString(chart) && isString(repository) && isRepositoryKind(repositoryKind) && isString(field) &&
    isNumber(document) && isString(version) && typeof ranged === "boolean" && isNumber(line)
  return valid ? { kind, chart, repository, repositoryKind, field, document, version, ranged, line } : undefined
}

const isRepositoryType = oneOf(["default", "oci"] as const)

const fluxRepositoryOf = (value: unknown): FoundFluxRepository | undefined => {
  if (!isRecord(value)) return undefined
  const { name, namespace, ref, url, type, document, line } = value
  const valid = isString(name) && (namespace === undefined || isString(namespace)) && isString(ref) && isString(url) && isRepositoryType(type) &&
    isNumber(document) && isNumber(line)
  return valid ? { name, ...(namespace === undefined ? {} : { namespace }), ref, url, type, document, line } : undefined
}

/** A list read by `entry`, or undefined when it, or one of its items, is not what `save` writes. */
const listOf = <A>(value: unknown, entry: (value: unknown) => A | undefined): ReadonlyArray<A> | undefined => {
  if (!Array.isArray(value)) return undefined
  const read: Array<A> = []
  for (const item of value) {
    const one = entry(item)
    if (one === undefined) return undefined
    read.push(one)
  }
  return read
}

/** A blob's scan as saved: each list left out when empty, as most files hold no charts. */
const scanOf = (value: unknown): FileScan | undefined => {
  if (!isRecord(value)) return undefined
  const references = listOf(value["references"] ?? [], referenceOf)
  const charts = listOf(value["charts"] ?? [], chartOf)
  const repositories = listOf(value["repositories"] ?? [], fluxRepositoryOf)
  return references === undefined || charts === undefined || repositories === undefined ? undefined : { references, charts, repositories }
}

const storedScan = ({ references, charts, repositories }: FileScan) => ({
  ...(references.length === 0 ? {} : { references }),
  ...(charts.length === 0 ? {} : { charts }),
  ...(repositories.length === 0 ? {} : { repositories })
})

const hitOf = (value: unknown): ScalarHit | undefined => {
  if (!isRecord(value)) return undefined
  const { document, line, value: text, source, start, end, style, key, map, missing } = value
  const valid = isNumber(document) && isNumber(line) && isString(text) && isString(source) && isNumber(start) && isNumber(end) && isStyle(style) &&
    (key === undefined || isString(key)) && (map === undefined || isNumber(map)) && (missing === undefined || missing === true)
  return valid
    ? {
        document, line, value: text, source, start, end, style,
        ...(key === undefined ? {} : { key }), ...(map === undefined ? {} : { map }), ...(missing === undefined ? {} : { missing })
      }
    : undefined
}

/** Every entry of `value` read by `entry`, or undefined when one of them cannot be. */
const recordOf = <A>(value: unknown, entry: (value: unknown) => A | undefined): Record<string, A> | undefined => {
  if (!isRecord(value)) return undefined
  const out: Record<string, A> = {}
  for (const [key, item] of Object.entries(value)) {
    const one = entry(item)
    if (one === undefined) return undefined
    out[key] = one
  }
  return out
}

/** Every entry of `value`, a list each, read item by item by `entry`. */
const entriesOf = <A>(value: unknown, entry: (value: unknown) => A | undefined): Record<string, ReadonlyArray<A>> | undefined =>
  recordOf(value, (list) => listOf(list, entry))

interface Saved {
  readonly watchers: Record<string, ReadonlyArray<DeclaredTarget>>
  readonly failed: Record<string, ReadonlyArray<string>>
  readonly hits: Record<string, ReadonlyArray<ScalarHit>>
  readonly rules: Record<string, ReadonlyArray<DiscoverRule>>
  readonly scans: Record<string, FileScan>
}

/** The entries of a saved cache, or none when it is missing, unreadable, from another version or not ours. */
const savedOf = (text: string | undefined): Saved | undefined => {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(value) || value["version"] !== KEY) return undefined
  const watchers = entriesOf(value["watchers"], targetOf)
  const failed = entriesOf(value["failed"], (reason) => (isString(reason) ? reason : undefined))
  const hits = entriesOf(value["hits"], hitOf)
  const rules = entriesOf(value["rules"], ruleOf)
  const scans = recordOf(value["scans"], scanOf)
  return watchers === undefined || failed === undefined || hits === undefined || rules === undefined || scans === undefined
    ? undefined
    : { watchers, failed, hits, rules, scans }
}

/** A target as saved: its minimum age in milliseconds. */
const storedTarget = <A extends Pick<DeclaredTarget, "minAge">>({ minAge, ...rest }: A) =>
  minAge === undefined ? rest : { ...rest, minAge: Duration.toMillis(minAge) }

export const parseCache = (text: string | undefined): ParseCache => {
  const saved = savedOf(text)
  const watchers = new Map<string, ReadonlyArray<DeclaredTarget>>()
  const failed = new Map<string, ReadonlyArray<string>>()
  const hits = new Map<string, ReadonlyArray<ScalarHit>>()
  const rules = new Map<string, ReadonlyArray<DiscoverRule>>()
  const scans = new Map<string, FileScan>()
  let learned = false
  const lookUp = <A>(from: Record<string, A> | undefined, into: Map<string, A>, key: string): A | undefined => {
    const found = into.get(key) ?? (from !== undefined && Object.hasOwn(from, key) ? from[key] : undefined)
    if (found !== undefined) into.set(key, found)
    return found
  }
  const keep = <A>(into: Map<string, A>, key: string, value: A) => {
    learned = true
    into.set(key, value)
  }
  return {
    watcherTargets: (path, oid) => lookUp(saved?.watchers, watchers, `${path}\u0000${oid}`),
    keepWatcherTargets: (path, oid, targets) => keep(watchers, `${path}\u0000${oid}`, targets),
    watcherFailures: (path, oid) => lookUp(saved?.failed, failed, `${path}\u0000${oid}`),
    keepWatcherFailures: (path, oid, reasons) => keep(failed, `${path}\u0000${oid}`, reasons),
    watcherRules: (path, oid) => lookUp(saved?.rules, rules, `${path}\u0000${oid}`),
    keepWatcherRules: (path, oid, kept) => keep(rules, `${path}\u0000${oid}`, kept),
    scan: (oid, path) => lookUp(saved?.scans, scans, `${oid}\u0000${path}`),
    keepScan: (oid, path, found) => keep(scans, `${oid}\u0000${path}`, found),
    hits: (oid, field) => lookUp(saved?.hits, hits, `${oid}\u0000${field}`),
    keepHits: (oid, field, found) => keep(hits, `${oid}\u0000${field}`, found),
    save: () => {
      const unchanged = !learned && saved !== undefined && watchers.size === Object.keys(saved.watchers).length &&
        failed.size === Object.keys(saved.failed).length && hits.size === Object.keys(saved.hits).length &&
        rules.size === Object.keys(saved.rules).length && scans.size === Object.keys(saved.scans).length
      return unchanged
        ? undefined
        : JSON.stringify({
            version: KEY,
            watchers: Object.fromEntries([...watchers].map(([key, targets]) => [key, targets.map(storedTarget)])),
            failed: Object.fromEntries(failed),
            hits: Object.fromEntries(hits),
            rules: Object.fromEntries([...rules].map(([key, kept]) => [key, kept.map(storedTarget)])),
            scans: Object.fromEntries([...scans].map(([key, scan]) => [key, storedScan(scan)]))
          })
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
