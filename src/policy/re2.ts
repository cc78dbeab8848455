import { Either } from "effect"

/**
 * Regular expressions in watcher files use Go's RE2 syntax, as Flux and Argo CD Image Updater
 * users write them. This translates what differs from JavaScript: `(?P<name>…)`, leading
 * `(?flags)`, `\A`, `\z`, `\Q…\E` and POSIX classes like `[[:digit:]]`.
 */

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f"
}

const escapeLiteral = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")

const translate = (source: string): Either.Either<{ readonly body: string; readonly flags: string }, string> => {
  let flags = ""
  let rest = source
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(rest)
  if (lead !== null) {
    const given = lead[1] ?? ""
    const unsupported = [...given].filter((f) => !"ims".includes(f))
    if (unsupported.length > 0) return Either.left(`flag ${unsupported.join("")} is not supported`)
    flags = given
    rest = rest.slice(lead[0].length)
  }
  let out = ""
  let inClass = false
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] ?? ""
    if (c === "\\") {
      const n = rest[i + 1] ?? ""
      if (n === "Q") {
        const end = rest.indexOf("\\E", i + 2)
        const literal = end < 0 ? rest.slice(i + 2) : rest.slice(i + 2, end)
        out += escapeLiteral(literal)
        i = end < 0 ? rest.length : end + 1
      } else if (n === "A" && !inClass) {
        out += "^"
        i++
      } else if (n === "z" && !inClass) {
        out += "$"
        i++
      } else {
        out += c + n
        i++
      }
      continue
    }
    if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(rest.slice(i))
      if (posix !== null) {
        const set = POSIX[posix[2] ?? ""]
        if (set === undefined) return Either.left(`unknown character class [:${posix[2]}:]`)
        if (posix[1] === "^") return Either.left(`negated class [:^${posix[2]}:] is not supported`)
        out += set
        i += posix[0].length - 1
        continue
      }
      if (c === "]") inClass = false
      out += c
      continue
    }
    if (c === "[") {
      inClass = true
      out += c
      // A `]` right after `[` or `[^` is a literal in RE2.
      if (rest[i + 1] === "^") out += rest[++i]
      if (rest[i + 1] === "]") {
        out += "\\]"
        i++
      }
      continue
    }
    if (rest.startsWith("(?P<", i)) {
      out += "(?<"
      i += 3
      continue
    }
    out += c
  }
  return Either.right({ body: out, flags })
}

/** Compiles an RE2/Go regular expression into a JavaScript one with the same meaning. */
export const compileRe2 = (source: string): Either.Either<RegExp, string> =>
  translate(source).pipe(
    Either.flatMap(({ body, flags }) => {
      try {
        return Either.right(new RegExp(body, flags))
      } catch (e) {
        return Either.left(e instanceof Error ? e.message : String(e))
      }
    }),
    Either.mapLeft((reason) => `invalid regex ${JSON.stringify(source)}: ${reason}`)
  )

/** Expands `$1`, `$name`, `${name}` and `$$` in an extract template, as Go's Regexp.Expand does. */
export const expandTemplate = (template: string, match: RegExpExecArray): string =>
  template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_all, whole: string, braced: string | undefined, bare: string | undefined) => {
    if (whole === "$") return "$"
    const name = braced ?? bare ?? ""
    const value = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name]
    return value ?? ""
  })
