/**
 * A small checker of requests and answers against GitHub's OpenAPI description (3.0, from
 * @octokit/openapi): the operation exists, the status is declared, and a JSON body matches its
 * schema as far as required properties, types, `nullable`, enums, items, `allOf` and
 * `oneOf`/`anyOf` go (`oneOf` is read as "at least one": enough to catch a wrong shape).
 */
import { readFileSync } from "node:fs"

type JsonSchema = Readonly<Record<string, unknown>>

interface Operation {
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: JsonSchema }> }
  readonly responses: Record<string, { readonly $ref?: string; readonly content?: Record<string, { readonly schema?: JsonSchema }> }>
}

interface Description {
  readonly paths: Record<string, Record<string, Operation>>
  readonly components: Record<string, Record<string, unknown>>
}

let loaded: Description | undefined

/** The description of api.github.com, parsed once (it is some 12 MB). */
export const githubDescription = (): Description => {
  loaded ??= JSON.parse(readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.json"), "utf8")) as Description
  return loaded
}

const resolve = (spec: Description, ref: string): JsonSchema => {
  const [, kind = "", name = ""] = /^#\/components\/([^/]+)\/(.+)$/.exec(ref) ?? []
  const found = spec.components[kind]?.[name]
  if (found === undefined) throw new Error(`unresolved ${ref}`)
  return found as JsonSchema
}

const typeOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value === "number" ? (Number.isInteger(value) ? "integer" : "number") : typeof value

/** Where `value` departs from `schema`: empty when it matches. */
export const validate = (spec: Description, schema: JsonSchema, value: unknown, at = "$"): ReadonlyArray<string> => {
  if (typeof schema["$ref"] === "string") return validate(spec, resolve(spec, schema["$ref"]), value, at)
  if (value === null) return schema["nullable"] === true || schema["type"] === undefined ? [] : [`${at}: null where ${String(schema["type"])} is required`]
  const all = (schema["allOf"] as ReadonlyArray<JsonSchema> | undefined) ?? []
  const errors = all.flatMap((part) => validate(spec, part, value, at))
  const some = (schema["oneOf"] ?? schema["anyOf"]) as ReadonlyArray<JsonSchema> | undefined
  if (some !== undefined && !some.some((part) => validate(spec, part, value, at).length === 0)) errors.push(`${at}: matches none of its alternatives`)
  const type = schema["type"]
  const actual = typeOf(value)
  if (typeof type === "string" && actual !== type && !(type === "number" && actual === "integer")) return [...errors, `${at}: ${actual} where ${type} is required`]
  const allowed = schema["enum"] as ReadonlyArray<unknown> | undefined
  if (allowed !== undefined && !allowed.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`)
  if (actual === "array" && schema["items"] !== undefined) {
    ;(value as ReadonlyArray<unknown>).forEach((item, i) => errors.push(...validate(spec, schema["items"] as JsonSchema, item, `${at}[${i}]`)))
  }
  if (actual === "object") {
    const object = value as Record<string, unknown>
    for (const name of (schema["required"] as ReadonlyArray<string> | undefined) ?? []) if (!(name in object)) errors.push(`${at}.${name}: missing`)
    const properties = (schema["properties"] as Record<string, JsonSchema> | undefined) ?? {}
    for (const [name, property] of Object.entries(object)) {
      const declared = properties[name] ?? (typeof schema["additionalProperties"] === "object" ? (schema["additionalProperties"] as JsonSchema) : undefined)
      if (declared !== undefined) errors.push(...validate(spec, declared, property, `${at}.${name}`))
    }
  }
  return errors
}

/** The operation a request is for, and its template; `{ref}` at the end takes the rest of the path (`heads/a/b`). */
export const operationOf = (spec: Description, method: string, path: string): { template: string; operation: Operation } | undefined => {
  const parts = path.split("/")
  const matches = Object.keys(spec.paths).filter((template) => {
    const wanted = template.split("/")
    const tail = wanted.at(-1) === "{ref}"
    if (wanted.length !== parts.length && !(tail && parts.length > wanted.length)) return false
    return wanted.every((part, i) => (part.startsWith("{") ? (parts[i] ?? "") !== "" : part === parts[i]))
  })
  // A literal segment beats a parameter: /pulls/comments over /pulls/{pull_number}.
  const params = (template: string) => template.split("{").length
  const best = matches.sort((a, b) => params(a) - params(b))[0]
  const operation = best === undefined ? undefined : spec.paths[best]?.[method.toLowerCase()]
  return best === undefined || operation === undefined ? undefined : { template: best, operation }
}

/** What is wrong with a request: no such operation, or a JSON body unlike the declared one. */
export const checkRequest = (spec: Description, method: string, path: string, body: unknown): ReadonlyArray<string> => {
  const found = operationOf(spec, method, path)
  if (found === undefined) return [`${method} ${path}: no such operation`]
  const schema = found.operation.requestBody?.content?.["application/json"]?.schema
  if (schema === undefined) return body === undefined ? [] : [`${method} ${found.template}: takes no body`]
  return validate(spec, schema, body).map((e) => `${method} ${found.template} request ${e}`)
}

/**
 * Where GitHub departs from its own description: a pull whose head repository was deleted has
 * `head.repo: null`, which the description does not declare (github/rest-api-description#1811,
 * and #424 for the full pull). Only that null is let through, nothing else about `head.repo`.
 */
const undeclaredNull = /^\$(\[\d+\])?\.head\.repo: null where object is required$/

/** What is wrong with an answer: its status undeclared, or its JSON body unlike the declared one. */
export const checkResponse = (spec: Description, method: string, path: string, status: number, body: unknown): ReadonlyArray<string> => {
  const found = operationOf(spec, method, path)
  if (found === undefined) return [`${method} ${path}: no such operation`]
  const declared = found.operation.responses[String(status)] ?? found.operation.responses["default"]
  if (declared === undefined) return [`${method} ${found.template}: status ${status} is not declared`]
  const response = declared.$ref === undefined ? declared : (resolve(spec, declared.$ref) as typeof declared)
  const schema = response.content?.["application/json"]?.schema
  if (schema === undefined) return []
  return validate(spec, schema, body)
    .filter((e) => !undeclaredNull.test(e))
    .map((e) => `${method} ${found.template} ${status} ${e}`)
}
