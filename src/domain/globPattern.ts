import { Either } from "effect"

/**
 * The syntax behind path and image globs, and a matcher that cannot backtrack: both are untrusted
 * input (a watcher file's pattern, a repository's path), so a match is a table of
 * pattern position × text position, filled once (time ≤ pattern length × text length), never a
 * backtracking regular expression (`*a*a*a…b` would take exponential time in one).
 */

/** The longest pattern taken, in characters. */
export const MAX_PATTERN_LENGTH = 1000
/** The most patterns `{a,b}` alternatives may expand to, over a whole list. */
export const MAX_ALTERNATIVES = 256

/** One step of a sequence matcher: one item that `one` accepts, or any number of items `skip` accepts. */
export type Step<T> =
  | { readonly star: false; readonly one: (item: T) => boolean }
  | { readonly star: true; readonly skip: (item: T) => boolean }

/** Whether `steps` match all of `items`: one row of reachable positions per step, no backtracking. */
export const matchSteps = <T>(steps: ReadonlyArray<Step<T>>, items: ReadonlyArray<T>): boolean => {
  let reach: Array<boolean> = items.map(() => false).concat(false)
  reach[0] = true
  for (const step of steps) {
    const next: Array<boolean> = reach.map(() => false)
    let any = false
    for (let j = 0; j <= items.length; j++) {
      const item = items[j - 1]
      const ok = step.star
        ? reach[j] === true || (j > 0 && next[j - 1] === true && item !== undefined && step.skip(item))
        : j > 0 && reach[j - 1] === true && item !== undefined && step.one(item)
      next[j] = ok
      any = any || ok
    }
    if (!any) return false
    reach = next
  }
  return reach[items.length] === true
}

/** The end of the `[...]` class starting at `at` (the index after its `]`), or -1 when it is not closed. */
const classEnd = (text: string, at: number): number => {
  let i = at + 1
  if (text[i] === "!" || text[i] === "^") i++
  if (text[i] === "]") i++
  while (i < text.length && text[i] !== "]") i += text[i] === "\\" ? 2 : 1
  return i < text.length ? i + 1 : -1
}

/** The next unit of a pattern at `at`: an escape pair, a whole class, or one character (a code point). */
const unitAt = (text: string, at: number): Either.Either<string, string> => {
  const c = text[at] ?? ""
  if (c === "\\") return at + 1 < text.length ? Either.right(text.slice(at, at + 2)) : Either.left("it ends with a lone \\")
  if (c === "[") {
    const end = classEnd(text, at)
    return end === -1 ? Either.left("a [ is not closed") : Either.right(text.slice(at, end))
  }
  return Either.right(String.fromCodePoint(text.codePointAt(at) ?? 0))
}

/**
 * The patterns `{a,b}` alternatives spell out (nested ones too), escapes and classes kept as
 * written; at most `budget` of them.
 */
export const expandBraces = (pattern: string, budget: number): Either.Either<ReadonlyArray<string>, string> => {
  let at = 0
  // A sequence up to "," or "}" (inside braces) or the end: its spellings.
  const sequence = (inside: boolean): Either.Either<ReadonlyArray<string>, string> => {
    let out: ReadonlyArray<string> = [""]
    while (at < pattern.length) {
      const c = pattern[at]
      if (inside && (c === "," || c === "}")) return Either.right(out)
      if (c === "}") return Either.left("a } has no {")
      let parts: ReadonlyArray<string>
      if (c === "{") {
        at++
        const alternatives: Array<string> = []
        for (;;) {
          const alternative = sequence(true)
          if (Either.isLeft(alternative)) return Either.left(alternative.left)
          alternatives.push(...alternative.right)
          if (at >= pattern.length) return Either.left("a { is not closed")
          at++
          if (pattern[at - 1] === "}") break
        }
        parts = alternatives
      } else {
        const unit = unitAt(pattern, at)
        if (Either.isLeft(unit)) return Either.left(unit.left)
        at += unit.right.length
        parts = [unit.right]
      }
      if (out.length * parts.length > budget) return Either.left(`its {} alternatives spell out more than ${budget} patterns`)
      out = out.flatMap((prefix) => parts.map((part) => prefix + part))
    }
    return Either.right(out)
  }
  return sequence(false)
}

/** A predicate on one code point for the class `[...]` as written (with its brackets). */
const classTest = (written: string): ((c: string) => boolean) => {
  let body = Array.from(written.slice(1, -1))
  const negated = body[0] === "!" || body[0] === "^"
  if (negated) body = body.slice(1)
  let i = 0
  const take = () => {
    const c = body[i] === "\\" ? body[++i] : body[i]
    i++
    return (c ?? "").codePointAt(0) ?? 0
  }
  const ranges: Array<readonly [number, number]> = []
  while (i < body.length) {
    const low = take()
    if (body[i] === "-" && i + 1 < body.length) {
      i++
      ranges.push([low, take()])
    } else ranges.push([low, low])
  }
  return (c) => {
    const point = c.codePointAt(0) ?? 0
    return ranges.some(([low, high]) => point >= low && point <= high) !== negated
  }
}

/** A path segment's pattern (no `/`, no brace): its steps over code points, and whether it starts with a literal dot. */
export const segmentSteps = (segment: string): Either.Either<{ readonly steps: ReadonlyArray<Step<string>>; readonly dot: boolean }, string> => {
  const steps: Array<Step<string>> = []
  for (let at = 0, last = ""; at < segment.length;) {
    const unit = unitAt(segment, at)
    if (Either.isLeft(unit)) return Either.left(unit.left)
    at += unit.right.length
    const u = unit.right
    if (u === "*" && last === "*") return Either.left("** must be a whole segment (a/**/b), not part of one")
    last = u
    if (u === "*") steps.push({ star: true, skip: () => true })
    else if (u === "?") steps.push({ star: false, one: () => true })
    else if (u.startsWith("[") && u.length > 1) steps.push({ star: false, one: classTest(u) })
    else {
      const literal = u.startsWith("\\") ? u.slice(1) : u
      steps.push({ star: false, one: (c) => c === literal })
    }
  }
  return Either.right({ steps, dot: segment.startsWith(".") || segment.startsWith("\\.") })
}

/** The segments of one brace-free pattern, split at the `/` no escape or class holds. */
export const splitSegments = (pattern: string): Either.Either<ReadonlyArray<string>, string> => {
  const segments: Array<string> = []
  let current = ""
  for (let at = 0; at < pattern.length;) {
    const unit = unitAt(pattern, at)
    if (Either.isLeft(unit)) return Either.left(unit.left)
    at += unit.right.length
    if (unit.right === "/") {
      segments.push(current)
      current = ""
    } else if (unit.right.includes("/")) return Either.left("a / cannot be escaped or put in a class: it separates directories")
    else current += unit.right
  }
  segments.push(current)
  return Either.right(segments)
}
