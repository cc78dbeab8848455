import { Either, Schema } from "effect"
import { parse } from "yaml"
import { messageOf } from "../domain/foreignText.ts"
import { type ChartVersion, type ChartVersions, MAX_VERSIONS, parseCreated, scanIndex } from "./indexScan.ts"

/** How much of an index is read: all of it in helm's layout, less in another, where the YAML parser builds the whole tree. */
export interface IndexLimits {
  /** The most `index.yaml` may hold (64 MiB by default; Bitnami's is over 20 MB). */
  readonly maxBytes: number
  /** The most an index not in helm's layout may hold (8 MiB by default). */
  readonly maxParsedBytes: number
}

export const DEFAULT_INDEX_LIMITS: IndexLimits = { maxBytes: 64 * 1024 * 1024, maxParsedBytes: 8 * 1024 * 1024 }

const mebibytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`

const Entry = Schema.Struct({
  version: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  created: Schema.optional(Schema.Unknown),
  digest: Schema.optional(Schema.Unknown)
})
const IndexDocument = Schema.Struct({
  entries: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Array(Schema.NullOr(Entry))) }))
})

const createdOf = (value: unknown): number | undefined =>
  typeof value === "string" ? parseCreated(value) : value instanceof Date && Number.isFinite(value.getTime()) ? value.getTime() : undefined

/** The index read with the YAML parser: any layout YAML allows, JSON included. */
export const parseIndexYaml = (text: string): Either.Either<ChartVersions, string> => {
  let document: unknown
  try {
    // Repeated keys are not looked for: yaml's check is quadratic, and the text is a remote server's.
    document = parse(text, { uniqueKeys: false, maxAliasCount: 100, prettyErrors: false })
  } catch (error) {
    return Either.left(`not valid YAML: ${messageOf(error).split("\n")[0] ?? ""}`)
  }
  const decoded = Schema.decodeUnknownEither(IndexDocument)(document)
  if (Either.isLeft(decoded)) return Either.left("not a chart repository index (no entries map of version lists)")
  const charts = new Map<string, Array<ChartVersion>>()
  let count = 0
  for (const [name, entries] of Object.entries(decoded.right.entries ?? {})) {
    const versions: Array<ChartVersion> = []
    for (const entry of entries ?? []) {
      if (entry?.version === undefined) continue
      const created = createdOf(entry.created)
      versions.push({ version: String(entry.version), ...(created === undefined ? {} : { created }), ...(typeof entry.digest === "string" ? { digest: entry.digest } : {}) })
    }
    count += versions.length
    if (count > MAX_VERSIONS) return Either.left(`more than ${MAX_VERSIONS} versions`)
    charts.set(name, versions)
  }
  return Either.right(charts)
}

/**
 * The charts and versions of an `index.yaml`: scanned line by line in helm's layout, parsed as
 * YAML otherwise, within `limits`. Left: why it cannot be read, in words.
 */
export const readIndex = (body: Uint8Array, limits: IndexLimits = DEFAULT_INDEX_LIMITS): Either.Either<ChartVersions, string> => {
  if (body.byteLength > limits.maxBytes) return Either.left(`index.yaml is ${mebibytes(body.byteLength)}, over the limit of ${mebibytes(limits.maxBytes)}`)
  const text = new TextDecoder().decode(body)
  const scanned = scanIndex(text)
  if (scanned._tag === "Scanned") return Either.right(scanned.charts)
  if (scanned._tag === "TooMany") return Either.left(`index.yaml lists more than ${MAX_VERSIONS} versions`)
  if (body.byteLength > limits.maxParsedBytes) {
    return Either.left(
      `index.yaml (${mebibytes(body.byteLength)}) is not in the layout helm writes (${scanned.why}); an index in another layout is read up to ${mebibytes(limits.maxParsedBytes)}`
    )
  }
  return Either.mapLeft(parseIndexYaml(text), (why) => `index.yaml is ${why}`)
}
