import { Either } from "effect"
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Scalar,
  visit
} from "yaml"
import { encode } from "./encode.ts"
import { insertionAt } from "./insert.ts"
import { formatFieldPath, type Segment } from "./FieldPath.ts"
import { PatchError, type ScalarStyle } from "./PatchError.ts"
import { duplicateKeyOffset } from "./uniqueKeys.ts"

export interface ScalarHit {
  /** 0-based index of the YAML document in the file. */
  readonly document: number
  /** 1-based line of the scalar. */
  readonly line: number
  /** The value as a string; for plain non-strings (`1.10`, `true`) the source text, since tags are strings. */
  readonly value: string
  /** The exact original characters of the scalar. */
  readonly source: string
  readonly start: number
  /** Offset after the scalar's value, before any trailing comment. */
  readonly end: number
  readonly style: ScalarStyle
  /** Found in a map by a map format (kustomize, helm): the key it is the value of. */
  readonly key?: string
  /** Where that map starts: the scalars of one map share it. */
  readonly map?: number
  /** The key is missing from its map: `start` (= `end`) is where its pair would be inserted, `value` is "". */
  readonly missing?: true
}

export { PatchError }

/** A YAML file parsed once: search it for every target, and splice it, without parsing again. */
export interface Manifest {
  readonly text: string
  readonly documents: ReadonlyArray<Document.Parsed>
  readonly lines: LineCounter
}

export const parseManifest = (text: string): Either.Either<Manifest, PatchError> => {
  const lines = new LineCounter()
  // Keys are checked for repeats by duplicateKeyOffset, in linear time (yaml's check is quadratic).
  const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false })
  // An empty stream comes back as a non-array object: it simply holds no documents.
  const list = Array.isArray(documents) ? documents : []
  for (const [index, doc] of list.entries()) {
    const error = doc.errors[0]
    const duplicate = error === undefined ? duplicateKeyOffset(doc) : undefined
    if (error !== undefined || duplicate !== undefined) {
      const line = lines.linePos(error?.pos[0] ?? duplicate ?? 0).line
      const message = error?.message ?? "Map keys must be unique"
      return Either.left(new PatchError({ reason: "YamlSyntax", message: `YAML document ${index + 1}, line ${line}: ${message}`, line }))
    }
  }
  return Either.right({ text, documents: list, lines })
}

export const keyMatches = (text: string, key: unknown, segment: string): boolean => {
  if (!isScalar(key)) return false
  if (String(key.value) === segment) return true
  // `1.10:` reads as the number 1.1 but is written, and meant, as "1.10".
  return key.type === "PLAIN" && key.range !== null && key.range !== undefined &&
    text.slice(key.range[0], key.range[1]) === segment
}

/**
 * Follows the path through one document. Aliases are followed and the anchored node is what is
 * returned, so patching a value reached through `*ref` changes the `&ref` scalar (and so every
 * place that refers to it), which is what the anchor's author asked for.
 */
export const resolve = (text: string, doc: Document.Parsed, path: ReadonlyArray<Segment>): unknown => {
  let node: unknown = doc.contents
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const key = String(segment)
      const pair = node.items.find((item) => isPair(item) && keyMatches(text, item.key, key))
      node = pair?.value
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment]
    } else {
      return undefined
    }
  }
  return isAlias(node) ? node.resolve(doc) : node
}

export const hitOf = (text: string, document: number, lines: LineCounter, scalar: Scalar): ScalarHit | undefined => {
  const range = scalar.range
  if (range === null || range === undefined) return undefined
  const [start, end] = range
  const source = text.slice(start, end)
  const style = scalar.type ?? "PLAIN"
  const value = typeof scalar.value === "string" ? scalar.value : style === "PLAIN" ? source : String(scalar.value)
  return { document, line: lines.linePos(start).line, value, source, start, end, style }
}

/** Every scalar the path resolves to, one per document where it resolves (empty array: resolves nowhere). */
export const findScalars = (
  text: string,
  path: ReadonlyArray<Segment>
): Either.Either<ReadonlyArray<ScalarHit>, PatchError> => Either.flatMap(parseManifest(text), (m) => findScalarsIn(m, path))

export const findScalarsIn = (
  { text, documents, lines }: Manifest,
  path: ReadonlyArray<Segment>
): Either.Either<ReadonlyArray<ScalarHit>, PatchError> => {
    const hits: Array<ScalarHit> = []
    for (const [index, doc] of documents.entries()) {
      const node = resolve(text, doc, path)
      if (isMap(node) || isSeq(node)) {
        const line = node.range ? lines.linePos(node.range[0]).line : undefined
        return Either.left(
          new PatchError({
            reason: "NotScalar",
            message: `${formatFieldPath(path)} in YAML document ${index + 1} is a ${isMap(node) ? "map" : "sequence"}, not a scalar value`,
            ...(line === undefined ? {} : { line })
          })
        )
      }
      if (!isScalar(node)) continue
      const hit = hitOf(text, index, lines, node)
      if (hit !== undefined) hits.push(hit)
    }
    return Either.right(hits)
}

interface Located {
  readonly scalar: Scalar
  readonly isKey: boolean
  readonly inFlow: boolean
}

const locate = (doc: Document.Parsed | undefined, start: number): Located | undefined => {
  if (doc === undefined) return undefined
  let found: Located | undefined
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (node.range?.[0] !== start) return undefined
      found = {
        scalar: node,
        isKey: key === "key",
        inFlow: ancestors.some((a) => isCollection(a) && a.flow === true)
      }
      return visit.BREAK
    }
  })
  return found
}

export interface Edit {
  readonly hit: ScalarHit
  readonly value: string
}

interface Replacement {
  readonly edit: Edit
  readonly encoded: string
  /** Characters written before the value itself. */
  readonly lead: number
}

/** Replaces the given scalars' values, touching only their characters; a missing key's hit gets its pair inserted. */
export const spliceScalars = (text: string, edits: ReadonlyArray<Edit>): Either.Either<string, PatchError> =>
  parseManifest(text).pipe(
    Either.flatMap((m) => spliceManifest(m, edits)),
    Either.map((m) => m.text)
  )

/** `spliceScalars` on a parsed file; the result comes parsed too (it was, to check it). */
export const spliceManifest = (original: Manifest, edits: ReadonlyArray<Edit>): Either.Either<Manifest, PatchError> =>
  Either.gen(function*() {
    const text = original.text
    const unique = yield* dedupe(edits)
    const ordered = [...unique].sort((a, b) => a.hit.start - b.hit.start)

    const replacements: Array<Replacement> = []
    for (const edit of ordered) {
      const { hit } = edit
      if (hit.missing === true) {
        const insertion = yield* insertionAt(text, original.documents[hit.document], hit)
        const encoded = yield* encode(insertion.style, hit.line, edit.value, insertion.inFlow)
        replacements.push({ edit, encoded: insertion.before + encoded, lead: insertion.before.length })
        continue
      }
      const here = locate(original.documents[hit.document], hit.start)
      if (here === undefined || here.isKey || here.scalar.range?.[1] !== hit.end || text.slice(hit.start, hit.end) !== hit.source) {
        return yield* Either.left(
          new PatchError({
            reason: "NotScalar",
            message: `no scalar value at line ${hit.line} matches "${hit.source}"; the text changed since it was searched`,
            line: hit.line
          })
        )
      }
      const encoded = yield* encode(hit.style, hit.line, edit.value, here.inFlow)
      // An empty (null) value has no characters of its own; keep `key:` from becoming `key:value`.
      const lead = hit.start === hit.end && !/\s/.test(text[hit.start - 1] ?? " ") ? " " : ""
      replacements.push({ edit, encoded: lead + encoded, lead: lead.length })
    }

    let result = text
    for (const { edit, encoded } of [...replacements].reverse()) {
      result = result.slice(0, edit.hit.start) + encoded + result.slice(edit.hit.end)
    }

    return yield* verify(result, original.documents.length, replacements)
  })

const dedupe = (edits: ReadonlyArray<Edit>): Either.Either<ReadonlyArray<Edit>, PatchError> => {
  const byStart = new Map<number, Edit>()
  for (const edit of edits) {
    const seen = byStart.get(edit.hit.start)
    if (seen === undefined) byStart.set(edit.hit.start, edit)
    else if (seen.value !== edit.value) {
      // Two paths can reach one scalar through an alias; it can hold only one value.
      return Either.left(
        new PatchError({
          reason: "Unrepresentable",
          message: `the value on line ${edit.hit.line} would be set to both "${seen.value}" and "${edit.value}"`,
          line: edit.hit.line
        })
      )
    }
  }
  return Either.right([...byStart.values()])
}

const verify = (
  result: string,
  documentCount: number,
  replacements: ReadonlyArray<Replacement>
): Either.Either<Manifest, PatchError> => {
  const reparsed = parseManifest(result)
  if (Either.isLeft(reparsed)) {
    return Either.left(
      new PatchError({
        reason: "Unrepresentable",
        message: `the patched file is no longer valid YAML: ${reparsed.left.message}`,
        ...(reparsed.left.line === undefined ? {} : { line: reparsed.left.line })
      })
    )
  }
  if (reparsed.right.documents.length !== documentCount) {
    return Either.left(
      new PatchError({ reason: "Unrepresentable", message: "the patch changed the number of YAML documents in the file" })
    )
  }
  let shift = 0
  for (const { edit, encoded, lead } of replacements) {
    const start = edit.hit.start + shift + lead
    shift += encoded.length - (edit.hit.end - edit.hit.start)
    const here = locate(reparsed.right.documents[edit.hit.document], start)
    if (here === undefined || here.isKey || here.scalar.value !== edit.value) {
      return Either.left(
        new PatchError({
          reason: "Unrepresentable",
          message: `"${edit.value}" does not read back as the same string on line ${edit.hit.line}`,
          line: edit.hit.line
        })
      )
    }
  }
  return Either.right(reparsed.right)
}
