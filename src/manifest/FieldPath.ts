import { Data, Either } from "effect"
import { memoizeString } from "../memo.ts"

/** A map key or a sequence index. */
export type Segment = string | number

export class FieldPathError extends Data.TaggedError("FieldPathError")<{
  readonly path: string
  readonly message: string
}> {}

// Characters that end a dot key; a key holding any of them must be bracket-quoted.
const KEY_DELIMITERS = new Set([".", "[", "]", "'", '"'])
const PLAIN_KEY = /^[^.[\]'"\s$][^.[\]'"\s]*$/

/**
 * Parses `spec.containers[0].image`, `$.spec.containers[0].image` or
 * `$.metadata.annotations['example.com/image']` into segments.
 */
export const parseFieldPath: (path: string) => Either.Either<ReadonlyArray<Segment>, FieldPathError> = memoizeString((path) => {
  const fail = (message: string, at: number) =>
    Either.left(new FieldPathError({ path, message: `${message} at column ${at + 1} of field path "${path}"` }))

  if (path.trim() === "") {
    return Either.left(new FieldPathError({ path, message: "field path is empty" }))
  }
  const segments: Array<Segment> = []
  let i = 0
  if (path.startsWith("$")) {
    // JSONPath's root: `$.a` or `$[0]`; anything else glued to `$` is ambiguous.
    if (path.length === 1) return fail("field path has no segment after '$'", 0)
    if (path[1] === ".") i = 2
    else if (path[1] === "[") i = 1
    else return fail("expected '.' or '[' after '$'", 1)
  }

  let first = true
  while (i < path.length) {
    const c = path[i]
    if (c === "[") {
      const close = readBracket(path, i)
      if (Either.isLeft(close)) return fail(close.left.message, close.left.at)
      segments.push(close.right.segment)
      i = close.right.next
    } else {
      if (!first) {
        if (c !== ".") return fail(`expected '.' or '[' but found '${c}'`, i)
        i++
      }
      const start = i
      while (i < path.length && !KEY_DELIMITERS.has(path[i] ?? "")) i++
      if (i === start) {
        if (i >= path.length) return fail("field path ends with '.'", i - 1)
        return fail(`empty key before '${path[i]}'`, i)
      }
      if (path[i] === "'" || path[i] === '"' || path[i] === "]") {
        return fail(`unexpected '${path[i]}' in key (quote keys like ['a.b'])`, i)
      }
      const key = path.slice(start, i)
      if (key.trim() !== key) return fail(`key "${key}" has leading or trailing spaces (quote it like ['${key}'])`, start)
      segments.push(key)
    }
    first = false
  }
  return Either.right(segments)
})

interface BracketProblem {
  readonly message: string
  readonly at: number
}

const readBracket = (
  path: string,
  open: number
): Either.Either<{ readonly segment: Segment; readonly next: number }, BracketProblem> => {
  const quote = path[open + 1]
  if (quote === "'" || quote === '"') {
    let key = ""
    let i = open + 2
    while (i < path.length && path[i] !== quote) {
      // A backslash escapes the next character, so keys may hold either quote or a backslash.
      if (path[i] === "\\") {
        i++
        if (i >= path.length) break
      }
      key += path[i]
      i++
    }
    if (i >= path.length) return Either.left({ message: `unclosed quote ${quote}`, at: open + 1 })
    if (path[i + 1] !== "]") return Either.left({ message: "expected ']' after quoted key", at: i + 1 })
    if (key === "") return Either.left({ message: "empty quoted key", at: open })
    return Either.right({ segment: key, next: i + 2 })
  }
  const close = path.indexOf("]", open)
  if (close < 0) return Either.left({ message: "unclosed '['", at: open })
  const inner = path.slice(open + 1, close)
  if (inner === "") return Either.left({ message: "empty index '[]'", at: open })
  if (!/^\d+$/.test(inner)) {
    return Either.left({
      message: `index '${inner}' is not a non-negative integer (quote keys like ['${inner}'])`,
      at: open + 1
    })
  }
  const index = Number(inner)
  if (!Number.isSafeInteger(index)) return Either.left({ message: `index '${inner}' is too large`, at: open + 1 })
  return Either.right({ segment: index, next: close + 1 })
}

/** The canonical spelling of a path: `spec.containers[0].image`, `metadata.annotations['example.com/image']`. */
export const formatFieldPath = (segments: ReadonlyArray<Segment>): string =>
  segments
    .map((segment, i) => {
      if (typeof segment === "number") return `[${segment}]`
      if (PLAIN_KEY.test(segment)) return i === 0 ? segment : `.${segment}`
      return `['${segment.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`
    })
    .join("")
