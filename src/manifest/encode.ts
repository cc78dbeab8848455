/**
 * How a value is written into a YAML scalar of a given style, so that every YAML reader reads it
 * back as the same string (`1.10` stays a string, not the number 1.1).
 */
import { Either } from "effect"
import { parse } from "yaml"
import { memoizeString } from "../memo.ts"
import { PatchError, type ScalarStyle } from "./PatchError.ts"

// Scalars that YAML 1.1 readers (Go's yaml.v2, as used by many Kubernetes tools) or 1.2 readers
// would not read back as this exact string must not be written plain. Checked once per value: an
// update pass writes each new image reference into every field that holds it.
const readsBackAsString = memoizeString((value: string): boolean => {
  for (const version of ["1.2", "1.1"] as const) {
    try {
      if (parse(value, { version }) !== value) return false
    } catch {
      return false
    }
  }
  return true
})

/** Characters a YAML scalar cannot hold as they are: controls, line and paragraph separators, BOM. */
const UNPRINTABLE = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\ufeff"
const unprintable = new RegExp(`[${UNPRINTABLE}]`)
const toEscape = new RegExp(`[\\\\"${UNPRINTABLE}]`, "g")

export const plainIsSafe = (value: string, inFlow: boolean): boolean =>
  value !== "" &&
  value.trim() === value &&
  !unprintable.test(value) &&
  !/^[*&!|>'"%@`#,[\]{}]/.test(value) &&
  !/^[-?:](\s|$)/.test(value) &&
  !value.includes(": ") &&
  !value.includes(" #") &&
  !value.endsWith(":") &&
  !(inFlow && /[,[\]{}]/.test(value)) &&
  readsBackAsString(value)

const escapeDouble = (value: string): string =>
  value.replace(toEscape, (c) => {
    switch (c) {
      case "\\":
        return "\\\\"
      case '"':
        return '\\"'
      case "\n":
        return "\\n"
      case "\t":
        return "\\t"
      case "\r":
        return "\\r"
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
    }
  })

export const doubleQuoted = (value: string): string => `"${escapeDouble(value)}"`

/** `value` written in `style`, or why a scalar of that style (on `line`) is not rewritten. */
export const encode = (style: ScalarStyle, line: number, value: string, inFlow: boolean): Either.Either<string, PatchError> => {
  switch (style) {
    case "QUOTE_DOUBLE":
      return Either.right(doubleQuoted(value))
    case "QUOTE_SINGLE":
      // Single quotes cannot carry line breaks or escapes; double quotes can.
      return Either.right(
        unprintable.test(value)
          ? doubleQuoted(value)
          : `'${value.replace(/'/g, "''")}'`
      )
    case "PLAIN":
      return Either.right(plainIsSafe(value, inFlow) ? value : doubleQuoted(value))
    case "BLOCK_LITERAL":
    case "BLOCK_FOLDED":
      return Either.left(
        new PatchError({
          reason: "Unrepresentable",
          message: `the value on line ${line} is a block scalar (${style === "BLOCK_LITERAL" ? "|" : ">"}), which is not rewritten; make it a plain or quoted scalar`,
          line: line
        })
      )
  }
}

