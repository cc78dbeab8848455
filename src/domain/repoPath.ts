import { Either } from "effect"

/** Why a path names nothing inside a repository. */
export type RepoPathProblem = "absolute" | "outside" | "unsafe"

/**
 * A path inside a repository, as its parts: empty and `.` parts dropped, `..` resolved; `[]` is
 * the root. Refused when absolute, when it would leave the tree, or when it holds a line break or
 * NUL (git's batch commands take one path per line). The one normalisation behind watcher files'
 * `filePath` and every path the git backends read or write.
 */
export const repoPathParts = (path: string): Either.Either<ReadonlyArray<string>, RepoPathProblem> => {
  if (path.startsWith("/")) return Either.left("absolute")
  if (/[\n\r\0]/.test(path)) return Either.left("unsafe")
  const parts: Array<string> = []
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue
    if (part !== "..") parts.push(part)
    else if (parts.pop() === undefined) return Either.left("outside")
  }
  return Either.right(parts)
}
