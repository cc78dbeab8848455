import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"

/**
 * Writes `text` to a temporary file beside `file`, then renames it over `file`: a reader never
 * sees half a file, a crash leaves the old one, and two writers never share a temporary file.
 * `mode` is the new file's from its creation (a secret is never readable by others, even briefly).
 */
export const writeFileWhole = (fs: FileSystem.FileSystem, file: string, text: string, options?: { readonly mode: number }) =>
  Effect.suspend(() => {
    const temporary = `${file}.${Math.random().toString(36).slice(2)}.tmp`
    return fs.writeFileString(temporary, text, options).pipe(
      Effect.zipRight(fs.rename(temporary, file)),
      Effect.tapError(() => fs.remove(temporary, { force: true }).pipe(Effect.ignore))
    )
  })
