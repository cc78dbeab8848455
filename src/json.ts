import { Either, ParseResult, Schema } from "effect"
import { messageOf } from "./domain/foreignText.ts"

/** A JSON text parsed, or why it is not JSON, in words. */
export const parseJsonText = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (e) {
    return Either.left(`not JSON: ${messageOf(e)}`)
  }
}

/** A parsed JSON value decoded with `schema`; the error says what is wrong, in words. */
export const decodeJsonValue = <A, I>(schema: Schema.Schema<A, I>, value: unknown): Either.Either<A, string> =>
  Schema.decodeUnknownEither(schema)(value).pipe(Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error)))

/**
 * Parses a JSON text and decodes it with `schema`. Wrapping the schema in `Schema.parseJson` on
 * every call would compile a new decoder each time; decoding the parsed value reuses the
 * schema's own, compiled once.
 */
export const decodeJsonText = <A, I>(schema: Schema.Schema<A, I>, text: string): Either.Either<A, string> =>
  Either.flatMap(parseJsonText(text), (value) => decodeJsonValue(schema, value))
