import type { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
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

// What people say of the errno codes a file read meets; the rest keep the system's words.
const problemOfCode: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  EIO: "input/output error"
}

/**
 * Why a file could not be read or written, in a few words ("no such file", "permission denied"):
 * the caller names the file and the setting once, so neither the path again nor the platform's
 * error tags and module names belong in it.
 */
export const fileProblem = (error: PlatformError): string => {
  const description = error.description ?? ""
  const code = /^(E[A-Z]+)\b/.exec(description)?.[1]
  const known = code === undefined ? undefined : problemOfCode[code]
  if (known !== undefined) return known
  if (error._tag === "SystemError" && error.reason === "NotFound") return "no such file"
  if (error._tag === "SystemError" && error.reason === "PermissionDenied") return "permission denied"
  // `ECODE: words, syscall 'path'`: the words only.
  const words = description.replace(/^E[A-Z]+:\s*/, "").replace(/,\s*\w+\s+'.*'$/, "").trim()
  if (words !== "") return words
  return error._tag === "SystemError" ? error.reason : "invalid argument"
}

/**
 * A warning when a file holding a secret may be read by its group or by others (`mode & 0o077`),
 * for `runner validate`; undefined when it is private, or cannot be looked at (said elsewhere).
 */
export const looseModeWarning = (fs: FileSystem.FileSystem, file: string): Effect.Effect<string | undefined> =>
  fs.stat(file).pipe(
    Effect.map((info) => {
      const mode = info.mode & 0o777
      return (mode & 0o077) === 0 ? undefined : `${file} is open to group or others (mode ${mode.toString(8).padStart(4, "0")}); a secret belongs in a file only its owner reads: chmod 600`
    }),
    Effect.orElseSucceed(() => undefined)
  )
