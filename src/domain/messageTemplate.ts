import { Either } from "effect"

/** What a commit message template may name, one value per change. */
export const PLACEHOLDERS = ["image", "old", "tag", "digest", "file", "field", "repoId"] as const
export type Placeholder = (typeof PLACEHOLDERS)[number]

/** A message template: literal text and placeholders, in order. */
export type Template = ReadonlyArray<{ readonly text: string } | { readonly placeholder: Placeholder }>

const placeholderRe = /\{\{\s*([^{}]*?)\s*\}\}/g
/** Line breaks as git, terminals and Unicode-aware viewers read them: any one starts a new line of a message. */
const lineBreakRe = /[\n\r\v\f\u0085\u2028\u2029]/

/** True when `text` would take more than one line. */
export const hasLineBreak = (text: string): boolean => lineBreakRe.test(text)

/**
 * The name of the first value that holds a line break: a change's values (`{{field}}`, `{{old}}`,
 * ...) come from watcher files and the files they patch, and one with a line break would write
 * lines of its own (a forged `Signed-off-by:`) into a commit message.
 */
export const lineBreakIn = (values: Readonly<Record<string, string>>): string | undefined =>
  Object.keys(values).find((name) => hasLineBreak(values[name] ?? ""))
const isPlaceholder = (name: string): name is Placeholder => (PLACEHOLDERS as ReadonlyArray<string>).includes(name)

/**
 * Parses `commitMessage`: `{{image}}`, `{{old}}`, `{{tag}}`, `{{digest}}`, `{{file}}`, `{{field}}`
 * and `{{repoId}}`. An unknown placeholder, or a line break (a change's message is one line), is
 * refused.
 */
export const parseTemplate = (text: string): Either.Either<Template, string> => {
  if (hasLineBreak(text)) return Either.left("a commit message template is one line; grouped commits list their changes below it")
  const parts: Array<Template[number]> = []
  let at = 0
  for (const match of text.matchAll(placeholderRe)) {
    const name = match[1] ?? ""
    if (!isPlaceholder(name)) return Either.left(`unknown placeholder {{${name}}}; use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`)
    if (match.index > at) parts.push({ text: text.slice(at, match.index) })
    parts.push({ placeholder: name })
    at = match.index + match[0].length
  }
  if (at < text.length) parts.push({ text: text.slice(at) })
  return Either.right(parts)
}

/** The template with each placeholder replaced by its value. */
export const renderTemplate = (template: Template, values: Readonly<Record<Placeholder, string>>): string =>
  template.map((part) => ("text" in part ? part.text : values[part.placeholder])).join("")

/** A template of several lines (a request's body) rendered line by line; undefined when a line does not parse (the loader refused it). */
export const renderLines = (text: string, values: Readonly<Record<Placeholder, string>>): string | undefined => {
  const lines = text.split(/\r?\n/).map((line) => parseTemplate(line))
  return lines.every(Either.isRight) ? lines.map((line) => renderTemplate(line.right, values)).join("\n") : undefined
}

/** Whether a template (of one line or several) uses the placeholder. */
export const mentions = (text: string | undefined, name: Placeholder): boolean =>
  text !== undefined && text.split(/\r?\n/).some((line) => Either.match(parseTemplate(line), { onLeft: () => false, onRight: (parts) => parts.some((p) => "placeholder" in p && p.placeholder === name) }))
