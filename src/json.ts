import { Either, ParseResult, Schema } from "effect"

/**
 * Parses a JSON text and decodes it with `schema`. Wrapping the schema in `Schema.parseJson` on
 * every call would compile a new decoder each time; decoding the parsed value reuses the
 * schema's own, compiled once. The error says what is wrong, in words.
 */
export const decodeJsonText = <A, I>(schema: Schema.Schema<A, I>, text: string): Either.Either<A, string> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return Either.left(`not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  return Schema.decodeUnknownEither(schema)(value).pipe(Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error)))
}
