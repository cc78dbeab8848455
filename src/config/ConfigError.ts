import { Array as Arr, Data, Either, ParseResult, Schema } from "effect"
import { messageOf } from "../domain/foreignText.ts"
import type { Document, ParsedNode } from "yaml"
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from "yaml"
import { duplicateKeyOffset } from "../manifest/uniqueKeys.ts"

/** A problem in a configuration file, located by file, line and key path. */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly file: string
  /** 1-based; undefined when the problem is not tied to a line (e.g. an unreadable file). */
  readonly line: number | undefined
  /** Key path such as `spec.imageProviders[1].type`; "" for the whole file. */
  readonly path: string
  readonly reason: string
}> {
  /** `file:line: key.path: reason`, leaving out the parts that are unknown. */
  get display(): string {
    const where = this.file === "" ? "" : this.line === undefined ? this.file : `${this.file}:${this.line}`
    return [where, this.path, this.reason].filter((part) => part !== "").join(": ")
  }

  override get message(): string {
    return this.display
  }
}

export type KeyPath = ReadonlyArray<PropertyKey>

/** One problem found while decoding a document, before it is given a line. */
export interface Issue {
  readonly path: KeyPath
  readonly message: string
}

/** `spec.imageProviders[1].type` */
const formatKeyPath = (path: KeyPath): string =>
  path.reduce<string>(
    (text, key) =>
      typeof key === "number"
        ? `${text}[${key}]`
        : /^[A-Za-z_$][\w$-]*$/.test(String(key))
        ? text === "" ? String(key) : `${text}.${String(key)}`
        : `${text}[${JSON.stringify(String(key))}]`,
    ""
  )

/** One YAML document of a file, as plain data, able to point back at its lines. */
export interface SourceDocument {
  /** Plain data; keys written with an empty value (`key:`) are left out, as if absent. */
  readonly value: unknown
  /** Line of the node at `path`, or of the deepest ancestor that exists. */
  readonly lineOf: (path: KeyPath) => number
  /** Turns issues found in this document into errors of `file`, sorted by line. */
  readonly errors: (issues: ReadonlyArray<Issue>) => ReadonlyArray<ConfigError>
}

const dropNullEntries = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(dropNullEntries)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNullEntries(v)])
    )
  }
  return value
}

const locate = (doc: Document.Parsed<ParsedNode>, counter: LineCounter) => (path: KeyPath): number => {
  const lineAt = (offset: number | undefined, fallback: number) =>
    offset === undefined ? fallback : counter.linePos(offset).line
  let node: unknown = doc.contents
  let line = lineAt(doc.contents?.range[0] ?? doc.range[0], 1)
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key))
      if (pair === undefined) return line
      line = lineAt(isScalar(pair.key) ? pair.key.range?.[0] : undefined, line)
      node = pair.value
    } else if (isSeq(node) && typeof key === "number") {
      const item: unknown = node.items[key]
      if (!isMap(item) && !isSeq(item) && !isScalar(item)) return line
      line = lineAt(item.range?.[0], line)
      node = item
    } else {
      return line
    }
  }
  return line
}

const byLine = (a: ConfigError, b: ConfigError) => (a.line ?? 0) - (b.line ?? 0)

/**
 * `semver: *` is an alias to YAML, while what was meant is the text `*`: the words of a YAML error
 * at an alias (`offset`), with how to write the value instead.
 */
export const aliasMessage = (text: string, offset: number): string => {
  const token = /^\*[^\s,\]}]*/.exec(text.slice(offset))?.[0] ?? "*"
  const before = text.slice(text.lastIndexOf("\n", offset - 1) + 1, offset)
  const key = /([\w$.-]+):\s*$/.exec(before)?.[1]
  const quoted = JSON.stringify(token)
  return `a value that starts with * is an alias (a reference to an &anchor) in YAML; quote it: ${key === undefined ? quoted : `${key}: ${quoted}`}`
}

/** Where the document's first alias is, for an alias that YAML could parse but not resolve. */
const firstAliasOffset = (doc: Document.Parsed<ParsedNode>): number | undefined => {
  let offset: number | undefined
  visit(doc, {
    Alias: (_, node) => {
      if (isAlias(node)) offset = node.range?.[0]
      return visit.BREAK
    }
  })
  return offset
}

/** Parses every non-empty YAML document of `text`; syntax errors are reported with their lines. */
const readYamlDocuments = (
  file: string,
  text: string
): Either.Either<ReadonlyArray<SourceDocument>, ReadonlyArray<ConfigError>> => {
  const counter = new LineCounter()
  // Repeated keys are found by duplicateKeyOffset, in linear time: yaml's own check is quadratic,
  // and a watcher file is anyone's who can push to the repository.
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false })
  const syntaxErrors = docs.flatMap((doc) => {
    const repeated = doc.errors.length === 0 ? duplicateKeyOffset(doc) : undefined
    const errors = repeated === undefined
      ? doc.errors.map((e) => ({ at: e.pos[0], message: e.code === "BAD_ALIAS" ? aliasMessage(text, e.pos[0]) : e.message }))
      : [{ at: repeated, message: "Map keys must be unique" }]
    return errors.map((e) => new ConfigError({ file, line: counter.linePos(e.at).line, path: "", reason: `invalid YAML: ${e.message}` }))
  })
  if (syntaxErrors.length > 0) return Either.left(syntaxErrors)
  const sources: Array<SourceDocument> = []
  for (const doc of docs) {
    if (doc.contents === null) continue
    const lineOf = locate(doc, counter)
    let value: unknown
    try {
      value = dropNullEntries(doc.toJS())
    } catch (cause) {
      // toJS throws on alias abuse (e.g. too many alias expansions), which the parser does not flag
      const reason = messageOf(cause)
      const alias = reason.startsWith("Unresolved alias") ? firstAliasOffset(doc) : undefined
      if (alias !== undefined) {
        return Either.left([new ConfigError({ file, line: counter.linePos(alias).line, path: "", reason: `invalid YAML: ${aliasMessage(text, alias)}` })])
      }
      return Either.left([new ConfigError({ file, line: lineOf([]), path: "", reason: `invalid YAML: ${reason}` })])
    }
    sources.push({
      value,
      lineOf,
      errors: (issues) => {
        const seen = new Set<string>()
        return issues
          .map((issue) => new ConfigError({ file, line: lineOf(issue.path), path: formatKeyPath(issue.path), reason: issue.message }))
          .filter((e) => {
            const key = `${e.path}\0${e.reason}`
            return seen.has(key) ? false : (seen.add(key), true)
          })
          .sort(byLine)
      }
    })
  }
  return Either.right(sources)
}

const describeExpected = (expected: string): string => {
  if (expected === "string") return "a string"
  if (expected === "a non empty string") return "a non-empty string"
  if (expected === "boolean") return "true or false"
  if (expected === "number") return "a number"
  if (expected.startsWith("{")) return "a map"
  if (expected.startsWith("ReadonlyArray<")) return "a list"
  return expected
}

/** Schema's issues with messages a user can act on ("unknown key", "expected a list, got 3"). */
export const schemaIssues = (error: ParseResult.ParseError, prefix: KeyPath = []): ReadonlyArray<Issue> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
    const path = [...prefix, ...issue.path]
    switch (issue._tag) {
      case "Missing":
        return { path, message: "required key is missing" }
      case "Unexpected": {
        const allowed = /expected: (.*)$/.exec(issue.message)?.[1]?.replaceAll("\"", "").replaceAll(" | ", ", ")
        return { path, message: allowed === undefined ? "unknown key" : `unknown key (allowed: ${allowed})` }
      }
      default: {
        const typed = /^Expected (.*), actual (.*)$/s.exec(issue.message)
        if (typed === null) return { path, message: issue.message }
        return { path, message: `expected ${describeExpected(typed[1] ?? "")}, got ${typed[2] ?? ""}` }
      }
    }
  })

export const showValue = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** How config documents are decoded: every problem at once, and unknown keys refused. */
export const decodeOptions = { errors: "all", onExcessProperty: "error" } as const

/** An optional key that, when present, must hold a value (no explicit `undefined`). */
export const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** A literal set whose error lists every accepted value. */
export const oneOf = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: (issue) => ({
      message: `expected one of ${values.join(", ")}, got ${showValue(issue._tag === "Composite" || issue._tag === "Type" ? issue.actual : undefined)}`,
      override: true
    })
  })

const isKind = (value: unknown, kind: string): boolean =>
  typeof value === "object" && value !== null && "kind" in value && value.kind === kind

/** Decodes the documents of `kind` in a file; the rest of the file is ignored. */
export const decodeDocumentsOfKind = <A>(
  file: string,
  text: string,
  kind: string,
  decode: (doc: SourceDocument) => Either.Either<A, ReadonlyArray<ConfigError>>
): Either.Either<ReadonlyArray<A>, ReadonlyArray<ConfigError>> =>
  Either.flatMap(readYamlDocuments(file, text), (docs) => {
    const [errors, values] = Arr.separate(docs.filter((doc) => isKind(doc.value, kind)).map(decode))
    return errors.length > 0 ? Either.left(errors.flat()) : Either.right(values)
  })

