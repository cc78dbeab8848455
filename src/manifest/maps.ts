/**
 * The scalars of the maps a map format reads: a `kustomization.yaml`'s `images:` entries, or a
 * Helm values map. Each hit carries its key and its map; a key the format may insert, when
 * missing, is a hit at the place its pair would go.
 */
import { Either } from "effect"
import { type Document, isAlias, isCollection, isMap, isPair, isScalar, isSeq, type YAMLMap } from "yaml"
import { formatFieldPath, type Segment } from "./FieldPath.ts"
import { insertionInto } from "./insert.ts"
import { PatchError } from "./PatchError.ts"
import { hitOf, keyMatches, type Manifest, resolve, type ScalarHit } from "./patch.ts"

/** What a map format looks for at its path. */
export interface MapShape {
  /** The path names a list of maps (Kustomize's `images:`), not one map. */
  readonly list: boolean
  /** The keys read, in this order within a map. */
  readonly keys: ReadonlyArray<string>
  /** The key written into a map that lacks it. */
  readonly insertable?: string
}

const mapHits = (manifest: Manifest, document: number, doc: Document.Parsed, map: YAMLMap, shape: MapShape): Either.Either<ReadonlyArray<ScalarHit>, PatchError> => {
  const { text, lines } = manifest
  const start = map.range?.[0]
  if (start === undefined) return Either.right([])
  const hits: Array<ScalarHit> = []
  for (const key of shape.keys) {
    const pair = map.items.find((item) => isPair(item) && keyMatches(text, item.key, key))
    const value = isAlias(pair?.value) ? pair.value.resolve(doc) : pair?.value
    if (isCollection(value)) {
      const line = value.range ? lines.linePos(value.range[0]).line : undefined
      return Either.left(new PatchError({ reason: "NotScalar", message: `${key} on line ${line ?? "?"} is a ${isMap(value) ? "map" : "sequence"}, not a scalar value`, ...(line === undefined ? {} : { line }) }))
    }
    const hit = isScalar(value) ? hitOf(text, document, lines, value) : undefined
    if (hit !== undefined) {
      hits.push({ ...hit, key, map: start })
      continue
    }
    const insertion = pair === undefined && key === shape.insertable ? insertionInto(text, map, key) : undefined
    if (insertion !== undefined) {
      const line = lines.linePos(insertion.at).line
      hits.push({ document, line, value: "", source: "", start: insertion.at, end: insertion.at, style: "PLAIN", key, map: start, missing: true })
    }
  }
  return Either.right(hits)
}

/** Every map's scalars where the path resolves, map after map as the file holds them. */
export const findMapsIn = (manifest: Manifest, path: ReadonlyArray<Segment>, shape: MapShape): Either.Either<ReadonlyArray<ScalarHit>, PatchError> => {
  const hits: Array<ScalarHit> = []
  for (const [index, doc] of manifest.documents.entries()) {
    const node = resolve(manifest.text, doc, path)
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) continue
    const wanted = shape.list ? isSeq(node) : isMap(node)
    if (!wanted) {
      const line = isScalar(node) || isCollection(node) ? (node.range ? manifest.lines.linePos(node.range[0]).line : undefined) : undefined
      return Either.left(
        new PatchError({
          reason: "NotScalar",
          message: `${formatFieldPath(path)} in YAML document ${index + 1} is ${isSeq(node) ? "a sequence" : isMap(node) ? "a map" : "a scalar value"}, not ${shape.list ? "a list of maps" : "a map"}`,
          ...(line === undefined ? {} : { line })
        })
      )
    }
    const maps = isSeq(node) ? node.items.map((item) => (isAlias(item) ? item.resolve(doc) : item)) : [node]
    for (const map of maps) {
      if (!isMap(map)) continue
      const found = mapHits(manifest, index, doc, map, shape)
      if (Either.isLeft(found)) return found
      hits.push(...found.right)
    }
  }
  return Either.right(hits)
}
