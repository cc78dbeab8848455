import { isMap, isScalar, type LineCounter, type YAMLMap } from "yaml"
import type { Segment } from "./FieldPath.ts"

/** One document of a file being scanned: what a found reference needs to say where it is. */
export interface ScanContext {
  readonly document: number
  readonly lines: LineCounter
  readonly text: string
}

/** A scalar's text and where it starts; numbers keep their spelling (`1.10`), null is empty. */
export interface ScalarText {
  readonly text: string
  readonly start: number
  /** Written as a YAML string (quoted, or plain and read as one), not a number or a boolean. */
  readonly isString: boolean
}

/**
 * A scalar's text as patch.ts's hits read it. Aliases are not followed: an aliased value is the
 * anchor's, found at the anchor's own path, and following them would let a file multiply its work.
 */
export const scalarText = (text: string, node: unknown): ScalarText | undefined => {
  if (!isScalar(node) || node.range === null || node.range === undefined) return undefined
  const start = node.range[0]
  const value = node.value
  if (value === null || value === undefined) return { text: "", start, isString: false }
  if (typeof value === "string") return { text: value, start, isString: true }
  const plain = (node.type ?? "PLAIN") === "PLAIN"
  return { text: plain ? text.slice(start, node.range[1]) : String(value), start, isString: false }
}

/** A map key as a field path segment names it (patch.ts matches a plain key by value or by spelling). */
export const keyText = (text: string, key: unknown): string | undefined => scalarText(text, key)?.text

/** The value of `key` in a map, if the node is a map holding it. */
export const valueAt = (text: string, node: unknown, key: string): unknown => {
  if (!isMap(node)) return undefined
  return node.items.find((pair) => keyText(text, pair.key) === key)?.value
}

/** A non-empty string value at `key`. */
export const stringAt = (text: string, node: unknown, key: string): string | undefined => {
  const found = scalarText(text, valueAt(text, node, key))
  return found !== undefined && found.isString && found.text !== "" ? found.text : undefined
}

/** The map reached by following `path` from `node`, keys only. */
export const mapAt = (text: string, node: unknown, path: ReadonlyArray<string>): YAMLMap | undefined => {
  let here = node
  for (const key of path) here = valueAt(text, here, key)
  return isMap(here) ? here : undefined
}

/** Helm `{{ .Values.x }}`, shell and compose `${VAR}`: a value filled in later is not a reference. */
export const isTemplated = (value: string): boolean => value.includes("{{") || value.includes("${")

export const lineOf = (ctx: ScanContext, start: number): number => ctx.lines.linePos(start).line

export type Path = ReadonlyArray<Segment>
