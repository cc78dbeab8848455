import { FileSystem } from "@effect/platform"
import { Effect, Redacted } from "effect"
import { fileProblem } from "./files.ts"

/**
 * A token file's content, trimmed, as a `Redacted`, read at each use so that a rotated token takes
 * effect without a restart; otherwise why not, as `what file: ...` (`what` names the setting),
 * which names the file and never its content.
 */
export const readTokenFile = (what: string, file: string): Effect.Effect<Redacted.Redacted<string>, string, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(Effect.mapError((e) => `${what} ${file}: cannot read: ${fileProblem(e)}`))
    const token = text.trim()
    return token === "" ? yield* Effect.fail(`${what} ${file}: the file is empty`) : Redacted.make(token)
  })
