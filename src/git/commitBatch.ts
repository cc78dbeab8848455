import { Either, Option } from "effect"
import { repoPathParts } from "../domain/repoPath.ts"
import type { CommitInput } from "./repoTypes.ts"

/** A commit author's name or email as git accepts it in an identity line: without `<`, `>` or newlines. */
export const identPart = (text: string): string => text.replace(/[<>\n]/g, "")

/** A tree path normalised ("" is the root), or None when `repoPathParts` refuses it. */
export const validPath = (path: string): Option.Option<string> =>
  Either.match(repoPathParts(path), { onLeft: () => Option.none(), onRight: (parts) => Option.some(parts.join("/")) })

/** A file's path in the tree, normalised; None for the root and for what `repoPathParts` refuses. */
export const validFilePath = (path: string): Option.Option<string> => Option.filter(validPath(path), (p) => p !== "")

/** Every path of `paths` as `validFilePath` gives it, or the first one that names no file. */
export const validFilePaths = (paths: ReadonlyArray<string>): Either.Either<ReadonlyArray<string>, string> => {
  const valid: Array<string> = []
  for (const path of paths) {
    const filepath = validFilePath(path)
    if (Option.isNone(filepath)) return Either.left(path)
    valid.push(filepath.value)
  }
  return Either.right(valid)
}

/** One commit of a batch, its paths checked and normalised with `validFilePath`. */
export interface Staged {
  readonly input: CommitInput
  readonly changes: ReadonlyArray<{ readonly path: string; readonly content: string }>
}

/** The batch with its file paths normalised, or the first path that names no file in the tree. */
export const stageBatch = (inputs: ReadonlyArray<CommitInput>): Either.Either<ReadonlyArray<Staged>, string> => {
  const batch: Array<Staged> = []
  for (const input of inputs) {
    const changes: Array<{ path: string; content: string }> = []
    for (const change of input.files) {
      const path = validFilePath(change.path)
      if (Option.isNone(path)) return Either.left(change.path)
      changes.push({ path: path.value, content: change.content })
    }
    batch.push({ input, changes })
  }
  return Either.right(batch)
}
