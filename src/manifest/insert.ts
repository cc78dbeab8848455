/**
 * A key missing from a map, written in the map's own style: a line of its own at the map's key
 * indentation after its last pair (block), or `, key: value` after its last value (flow). Only
 * those characters are added.
 */
import { Either } from "effect"
import { type Document, isCollection, isMap, isScalar, visit, type YAMLMap } from "yaml"
import { PatchError, type ScalarStyle } from "./PatchError.ts"

/** Where a missing key's pair goes and how it is written. */
export interface Insertion {
  readonly at: number
  /** Written before the value: the line break and indentation, or `, `, then the key and `: `. */
  readonly before: string
  /** The map's quotes when one of its values is quoted; else plain where the value reads back as a string. */
  readonly style: ScalarStyle
  readonly inFlow: boolean
}

const quotesOf = (map: YAMLMap): ScalarStyle => {
  const styles = map.items.flatMap((pair) => (isScalar(pair.value) && pair.value.type !== undefined ? [pair.value.type] : []))
  return styles.includes("QUOTE_DOUBLE") ? "QUOTE_DOUBLE" : styles.includes("QUOTE_SINGLE") ? "QUOTE_SINGLE" : "PLAIN"
}

/**
 * Where `key` would be inserted into `map`, or undefined when its last value is not a one-line
 * scalar (a block scalar or a nested collection), after which no line can be placed safely.
 */
export const insertionInto = (text: string, map: YAMLMap, key: string): Insertion | undefined => {
  const first = map.items[0]
  const last = map.items[map.items.length - 1]
  if (first === undefined || last === undefined || !isScalar(first.key) || !isScalar(last.key)) return undefined
  const value = last.value
  if (isCollection(value) || (isScalar(value) && (value.type === "BLOCK_LITERAL" || value.type === "BLOCK_FOLDED"))) return undefined
  const end = isScalar(value) ? value.range?.[1] : last.key.range?.[1]
  const keyStart = first.key.range?.[0]
  if (end === undefined || keyStart === undefined) return undefined
  const style = quotesOf(map)
  if (map.flow === true) return { at: end, before: `, ${key}: `, style, inFlow: true }
  const indent = " ".repeat(keyStart - (text.lastIndexOf("\n", keyStart - 1) + 1))
  const lineEnd = text.indexOf("\n", end)
  if (lineEnd < 0) return { at: text.length, before: `\n${indent}${key}: `, style, inFlow: false }
  const crlf = text[lineEnd - 1] === "\r"
  return { at: crlf ? lineEnd - 1 : lineEnd, before: `${crlf ? "\r\n" : "\n"}${indent}${key}: `, style, inFlow: false }
}

const mapAt = (doc: Document.Parsed, start: number): YAMLMap | undefined => {
  let found: YAMLMap | undefined
  visit(doc, {
    Map(_, node) {
      if (node.range?.[0] !== start) return undefined
      found = node
      return visit.BREAK
    }
  })
  return found
}

/** The insertion of `key` into the map starting at `map`, found again: refused when the text moved since it was searched. */
export const insertionAt = (
  text: string,
  doc: Document.Parsed | undefined,
  hit: { readonly map?: number; readonly key?: string; readonly start: number; readonly line: number }
): Either.Either<Insertion, PatchError> => {
  const map = doc === undefined || hit.map === undefined ? undefined : mapAt(doc, hit.map)
  const key = hit.key ?? ""
  const absent = map !== undefined && isMap(map) && !map.items.some((pair) => isScalar(pair.key) && String(pair.key.value) === key)
  const insertion = absent ? insertionInto(text, map, key) : undefined
  return insertion !== undefined && insertion.at === hit.start
    ? Either.right(insertion)
    : Either.left(
        new PatchError({
          reason: "NotScalar",
          message: `the map on line ${hit.line} no longer lacks ${key} where it was searched; the text changed since`,
          line: hit.line
        })
      )
}
