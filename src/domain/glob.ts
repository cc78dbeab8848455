import { Either } from "effect"
import { DOCKER_HUB, DOCKER_HUB_ALIASES, imageName, parseImageRef, withoutDefaultPort } from "./ImageRef.ts"
import { expandBraces, MAX_ALTERNATIVES, MAX_PATTERN_LENGTH, matchSteps, segmentSteps, splitSegments, type Step } from "./globPattern.ts"

/** A path or name as the matchers read it: its segments, each as code points. */
type Segments = ReadonlyArray<ReadonlyArray<string>>

const segmentsOf = (text: string): Segments => text.split("/").map((segment) => Array.from(segment))

/** Names whose match a pattern's segment keeps: past it, names are matched again each time. */
const MAX_KNOWN_NAMES = 4096
/** Paths whose match a compiled list of globs keeps. */
const MAX_KNOWN_PATHS = 65_536

/** A matcher of whole segment lists for one brace-free pattern, from its segments. */
const compileSegments = (
  segments: ReadonlyArray<string>,
  dotRule: boolean
): Either.Either<(segments: Segments) => boolean, string> => {
  const steps: Array<Step<ReadonlyArray<string>>> = []
  for (const segment of segments) {
    if (segment === "**") {
      // Under the dot rule `**` crosses no directory whose name starts with a dot.
      steps.push({ star: true, skip: (s) => !dotRule || s[0] !== "." })
      continue
    }
    const compiled = segmentSteps(segment)
    if (Either.isLeft(compiled)) return Either.left(compiled.left)
    const { dot, steps: chars } = compiled.right
    // A tree repeats its names (every deployment.yaml): each is matched once per pattern.
    const known = new Map<string, boolean>()
    const one = (s: ReadonlyArray<string>) => {
      const name = s.join("")
      const seen = known.get(name)
      if (seen !== undefined) return seen
      const ok = (!dotRule || dot || s[0] !== ".") && matchSteps(chars, s)
      if (known.size < MAX_KNOWN_NAMES) known.set(name, ok)
      return ok
    }
    steps.push({ star: false, one })
  }
  return Either.right((path) => matchSteps(steps, path))
}

/** The refusal of a path pattern's segment: one that is empty, or a `.` or `..` step. */
const badSegment = (segment: string): string | undefined =>
  segment === ""
    ? "it has an empty segment (// or a leading /)"
    : segment === "."
    ? "it has a . segment: write the path without it"
    : segment === ".."
    ? "it has a .. segment: patterns stay inside the repository"
    : undefined

/** One path pattern (without its `!`), as matchers of its brace alternatives. */
const compilePathPattern = (pattern: string, budget: number): Either.Either<ReadonlyArray<(path: Segments) => boolean>, string> => {
  if (pattern === "") return Either.left("it names no path")
  if (pattern.startsWith("/") || /^[A-Za-z]:[\\/]/.test(pattern)) return Either.left("it is absolute: patterns are relative to the repository root")
  const expanded = expandBraces(pattern, budget)
  if (Either.isLeft(expanded)) return Either.left(expanded.left)
  const matchers: Array<(path: Segments) => boolean> = []
  for (const alternative of expanded.right) {
    // "dir/" is everything under dir.
    const split = splitSegments(alternative.endsWith("/") ? `${alternative}**` : alternative)
    if (Either.isLeft(split)) return Either.left(split.left)
    const bad = split.right.map(badSegment).find((reason) => reason !== undefined)
    if (bad !== undefined) return Either.left(bad)
    const matcher = compileSegments(split.right, true)
    if (Either.isLeft(matcher)) return Either.left(matcher.left)
    matchers.push(matcher.right)
  }
  return Either.right(matchers)
}

/**
 * Path globs, relative to the repository root: `**` any number of directories, `*` any text
 * within one segment, `?` one character, `[abc]`/`[a-z]`/`[!abc]` classes, `{a,b}` alternatives,
 * `\` escapes the next character; `dir/` is `dir/**`. A pattern starting with `!` excludes: a path
 * matches when it matches some include and no exclude, whatever their order. A segment starting
 * with a dot is matched only by a pattern segment that starts with a literal dot (`*` and `**` do
 * not match `.github`, `.github/**
 * A list of globs compiled by `compile`, those starting with `!` as excludes; `{a,b}` alternatives
 * count against one budget for the whole list.
 */
const compileList = <M>(
  patterns: ReadonlyArray<string>,
  what: string,
  compile: (pattern: string, budget: number) => Either.Either<ReadonlyArray<M>, string>
): Either.Either<{ readonly includes: ReadonlyArray<M>; readonly excludes: ReadonlyArray<M> }, string> => {
  const includes: Array<M> = []
  const excludes: Array<M> = []
  let budget = MAX_ALTERNATIVES
  for (const written of patterns) {
    const exclude = written.startsWith("!")
    const compiled = written.length > MAX_PATTERN_LENGTH
      ? Either.left(`it is longer than ${MAX_PATTERN_LENGTH} characters`)
      : compile(exclude ? written.slice(1) : written, budget)
    if (Either.isLeft(compiled)) return Either.left(`invalid ${what} glob ${JSON.stringify(written)}: ${compiled.left}`)
    budget -= compiled.right.length
    ;(exclude ? excludes : includes).push(...compiled.right)
  }
  return Either.right({ includes, excludes })
}

/**` does). A list of excludes alone is refused (it would match
 * nothing). Matching takes at most pattern length × path length steps, whatever either holds.
 */
export const compileGlobs = (patterns: ReadonlyArray<string>): Either.Either<(path: string) => boolean, string> => {
  const compiled = compileList(patterns, "path", compilePathPattern)
  if (Either.isLeft(compiled)) return Either.left(compiled.left)
  const { includes, excludes } = compiled.right
  if (includes.length === 0 && excludes.length > 0) {
    return Either.left(`path globs ${JSON.stringify(patterns)} only exclude: add what to include (such as "**/*.yaml")`)
  }
  // The same paths are asked again in a pass (which rule takes a file): each is matched once.
  const known = new Map<string, boolean>()
  return Either.right((path) => {
    const seen = known.get(path)
    if (seen !== undefined) return seen
    const segments = segmentsOf(path)
    const ok = includes.some((match) => match(segments)) && !excludes.some((match) => match(segments))
    if (known.size < MAX_KNOWN_PATHS) known.set(path, ok)
    return ok
  })
}

/**
 * An image pattern's segments as a normalised name's: the first segment is the registry host when
 * more follow and it has a `.` or `:`, is `localhost` or is `**`; otherwise the pattern is a Docker
 * Hub name (`nginx` is `docker.io/library/nginx`, `acme/*` is `docker.io/acme/*`).
 */
const normalisedImageSegments = (segments: ReadonlyArray<string>): ReadonlyArray<string> => {
  const [first = "", ...rest] = segments
  if (rest.length === 0) return first === "**" ? [first] : [DOCKER_HUB, "library", first]
  if (!(first.includes(".") || first.includes(":") || first === "localhost" || first === "**")) return [DOCKER_HUB, ...segments]
  const host = withoutDefaultPort(first.toLowerCase())
  return [DOCKER_HUB_ALIASES.includes(host) ? DOCKER_HUB : host, ...rest]
}

/**
 * A glob over image names, compared on the normalised name (registry host and repository, docker's
 * way: `nginx` is `docker.io/library/nginx`, `ghcr.io:443/x` is `ghcr.io/x`): `*` within one path
 * segment, `**` across segments, `?`, classes and `{a,b}` as in path globs. The name tested may carry
 * a tag or digest; one that is no image name matches nothing.
 */
export const imageGlob = (pattern: string): Either.Either<(image: string) => boolean, string> => {
  const refuse = (reason: string) => Either.left(`invalid image glob ${JSON.stringify(pattern)}: ${reason}`)
  if (pattern.length > MAX_PATTERN_LENGTH) return refuse(`it is longer than ${MAX_PATTERN_LENGTH} characters`)
  const expanded = expandBraces(pattern, MAX_ALTERNATIVES)
  if (Either.isLeft(expanded)) return refuse(expanded.left)
  const matchers: Array<(name: Segments) => boolean> = []
  for (const alternative of expanded.right) {
    const split = splitSegments(alternative)
    if (Either.isLeft(split)) return refuse(split.left)
    if (split.right.some((segment) => segment === "")) return refuse("it has an empty segment")
    if (alternative.includes("@") || split.right.slice(1).some((segment) => segment.includes(":"))) {
      return refuse("write the image without tag or digest")
    }
    if (/\s/.test(alternative)) return refuse("it has white space")
    const segments = normalisedImageSegments(split.right)
    // Image paths are lowercase: a pattern with capitals would silently match nothing.
    if (segments.slice(1).some((segment) => segment !== segment.toLowerCase())) return refuse("image paths are lowercase")
    const matcher = compileSegments(segments, false)
    if (Either.isLeft(matcher)) return refuse(matcher.left)
    matchers.push(matcher.right)
  }
  return Either.right((image) =>
    Either.match(parseImageRef(image), {
      onLeft: () => false,
      onRight: (ref) => {
        const name = segmentsOf(imageName(ref))
        return matchers.some((match) => match(name))
      }
    })
  )
}

/** One chart-name pattern (without its `!`), as matchers of its brace alternatives. */
const compileChartPattern = (pattern: string, budget: number): Either.Either<ReadonlyArray<(name: ReadonlyArray<string>) => boolean>, string> => {
  if (pattern === "") return Either.left("it names no chart")
  if (/\s/.test(pattern)) return Either.left("it has white space")
  const expanded = expandBraces(pattern, budget)
  if (Either.isLeft(expanded)) return Either.left(expanded.left)
  const matchers: Array<(name: ReadonlyArray<string>) => boolean> = []
  for (const alternative of expanded.right) {
    if (alternative.includes("/")) return Either.left("a chart name has no /: match the name alone")
    const steps = segmentSteps(alternative)
    if (Either.isLeft(steps)) return Either.left(steps.left)
    matchers.push((name) => matchSteps(steps.right.steps, name))
  }
  return Either.right(matchers)
}

/**
 * Globs over chart names (`nginx`, `ingress-*`, `{redis,valkey}`), as in one segment of a path
 * glob. A pattern starting with `!` excludes; a list of excludes alone keeps every other chart.
 */
export const chartGlobs = (patterns: ReadonlyArray<string>): Either.Either<(chart: string) => boolean, string> =>
  Either.map(compileList(patterns, "chart", compileChartPattern), ({ includes, excludes }) => (chart: string) => {
    const name = Array.from(chart)
    return (includes.length === 0 || includes.some((match) => match(name))) && !excludes.some((match) => match(name))
  })
