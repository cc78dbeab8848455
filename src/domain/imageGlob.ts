import { Either } from "effect"
import { withoutDefaultPort } from "./ImageRef.ts"

const segmentRe = /^[a-z0-9*._:\-[\]]+$/

/**
 * A glob over normalised image names (`ghcr.io/org/app`, `docker.io/library/nginx`): `*` is any
 * text within one path segment, `**` any number of whole segments (none included). A host written
 * with https's default port (`ghcr.io:443`) is the host alone, as in names.
 */
export const compileImageGlob = (pattern: string): Either.Either<(name: string) => boolean, string> => {
  const [host = "", ...path] = pattern.split("/")
  // Names drop https's default port (ImageRef), so a glob written with it must too.
  const segments = [withoutDefaultPort(host), ...path]
  const bad = segments.find((s) => s === "" || !segmentRe.test(s) || (s.includes("**") && s !== "**"))
  if (bad !== undefined) {
    return Either.left(`invalid image glob ${JSON.stringify(pattern)}: each segment is a name, a name with *, or ** alone`)
  }
  const matchers = segments.map((s) =>
    s === "**" ? undefined : new RegExp(`^${s.replace(/[.[\]]/g, (c) => `\\${c}`).replace(/\*/g, "[^/]*")}$`)
  )
  const match = (names: ReadonlyArray<string>, from: number, at: number): boolean => {
    if (from === matchers.length) return at === names.length
    const m = matchers[from]
    if (m === undefined) {
      for (let skip = at; skip <= names.length; skip++) if (match(names, from + 1, skip)) return true
      return false
    }
    const name = names[at]
    return name !== undefined && m.test(name) && match(names, from + 1, at + 1)
  }
  return Either.right((name) => match(name.split("/"), 0, 0))
}
