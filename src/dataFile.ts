import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Either, type Schema } from "effect"
import { writeFileWhole } from "./files.ts"
import { decodeJsonText } from "./json.ts"

/**
 * A small JSON file the runner keeps in its data dir. Read whole: a missing file is no entry yet,
 * a damaged one (half a disk, a hand edit) is no entry either, said in a warning, and never a
 * crash: what it kept is a convenience the next write puts back.
 */
export const readDataFile = <A, I>(file: string, schema: Schema.Schema<A, I>, what: string): Effect.Effect<A | undefined, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.map((t): Either.Either<string, string> => Either.right(t)),
      Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "NotFound", () => Effect.succeed(undefined)),
      Effect.catchAll((e) => Effect.succeed(Either.left(e.message)))
    )
    if (text === undefined) return undefined
    const decoded = Either.flatMap(text, (t) => decodeJsonText(schema, t))
    if (Either.isRight(decoded)) return decoded.right
    yield* Effect.logWarning(`${what} in ${file} are unreadable (${decoded.left}); starting again without them`)
    return undefined
  })

/** Writes the file whole (a temporary file renamed over it), its directory made first. */
export const writeDataFile = (file: string, value: unknown): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.dirname(file), { recursive: true })
    yield* writeFileWhole(fs, file, JSON.stringify(value) + "\n")
  })
