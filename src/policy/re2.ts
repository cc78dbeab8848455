import { Either } from "effect"
import { messageOf } from "../domain/foreignText.ts"
import { RE2JS } from "re2js"
import { linearRegExp } from "./re2linear.ts"

/**
 * Regular expressions in watcher files use Go's RE2 syntax, as Flux and Argo CD Image Updater
 * users write them, and anyone who can push to a watched repository can write one: re2js matches
 * in time linear in the tag, where a backtracking engine can take seconds per tag on a pattern
 * like `^(a+)+$`.
 */

/** A match: the whole text at 0, then each group, undefined where a group took no part. */
export interface Re2Match {
  readonly [index: number]: string | undefined
  readonly length: number
  readonly groups?: Readonly<Record<string, string | undefined>> | undefined
}

/** A compiled RE2 pattern. Unanchored, as Go's `MatchString` and `FindStringSubmatch`. */
export interface Re2 {
  /** The pattern as written, for reports. */
  readonly source: string
  readonly test: (input: string) => boolean
  readonly exec: (input: string) => Re2Match | null
}

/** What RE2 leaves out on purpose (it would cost the linear-time guarantee), said plainly. */
const refusal = (source: string, message: string): string => {
  if (/^(?:[^\\]|\\.)*?\\[1-9]/.test(source)) return "backreferences such as \\1 are not RE2 syntax"
  if (/\(\?<?[=!]/.test(source)) return "lookahead and lookbehind assertions are not RE2 syntax"
  return message.replace(/^error parsing regexp: /, "")
}

/** re2js's matches, whose groups that took no part are null, in the shape of a RegExp's. */
const fromRe2js = (source: string, re: RE2JS): Re2 => {
  const names = Object.entries(re.namedGroups())
  return {
    source,
    test: (input) => re.test(input),
    exec: (input) => {
      const found = re.exec(input)
      if (found === null) return null
      const values: Array<string | undefined> = found.map((v: unknown) => (typeof v === "string" ? v : undefined))
      if (names.length === 0) return values
      const groups: Record<string, string | undefined> = {}
      for (const [name, index] of names) groups[name] = values[index]
      return Object.assign(values, { groups })
    }
  }
}

const fromRegExp = (source: string, re: RegExp): Re2 => ({ source, test: (input) => re.test(input), exec: (input) => re.exec(input) })

/** Compiles an RE2/Go regular expression, or says why it is not one. */
export const compileRe2 = (source: string): Either.Either<Re2, string> => {
  try {
    // re2js checks the syntax either way: the native engine only ever sees valid RE2.
    const re2 = RE2JS.compile(source)
    const native = linearRegExp(source)
    return Either.right(native === undefined ? fromRe2js(source, re2) : fromRegExp(source, native))
  } catch (e) {
    const message = messageOf(e)
    return Either.left(`invalid regex ${JSON.stringify(source)}: ${refusal(source, message)}`)
  }
}

/** Expands `$1`, `$name`, `${name}` and `$$` in an extract template, as Go's Regexp.Expand does. */
export const expandTemplate = (template: string, match: Re2Match): string =>
  template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_all, whole: string, braced: string | undefined, bare: string | undefined) => {
    if (whole === "$") return "$"
    const name = braced ?? bare ?? ""
    const value = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name]
    return value ?? ""
  })
