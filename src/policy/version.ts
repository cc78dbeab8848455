import * as semver from "semver"
import { byteOrder, type Line, type TagPolicy } from "./TagPolicy.ts"
import { namesPrerelease, validSemverRange } from "./semver.ts"

/** A pre-release marker: its word's place among pre-release words, and the numbers that follow it. */
export interface PreRelease {
  readonly word: string
  readonly order: number
  readonly numbers: ReadonlyArray<string>
}

/** A tag read as `[word-][v]NUMBERS[build][-variant]`. Numbers keep their digits as written. */
export interface VersionRank {
  readonly tag: string
  /** The word prefix before the version, dash included (`distroless-`, `my-app-`); `""` for none. Kept like a variant. */
  readonly word: string
  /** `v`, `V` or `""`: a spelling, not a line. */
  readonly prefix: string
  readonly numbers: ReadonlyArray<string>
  readonly build: string | undefined
  readonly pre: PreRelease | undefined
  /** Everything after `-` that is neither a pre-release word nor a revision; `""` for none. */
  readonly variant: string
  /** The first number is a year, or the tag is an 8-digit date: such lines move across "majors". */
  readonly calendar: boolean
}

// Development builds first, release candidates last: the order in which a release's pre-releases come out.
const PRE_WORDS: Record<string, number> = {
  dev: 0, snapshot: 0, nightly: 0, canary: 0,
  a: 1, alpha: 1,
  b: 2, beta: 2,
  pre: 3, preview: 3,
  rc: 4
}

const headRe = /^([vV]?)(\d+(?:\.\d+){0,3})/
// Glued to the last number, as Python and Home Assistant write them: `2024.1.0b3`, `3.13.0rc1`.
const gluedPreRe = /^(alpha|beta|rc|a|b)(\d*)/i
const buildRe = /^[_+](\d+)/
// A word of its own: `rc.10`, `beta2`, `SNAPSHOT`, `preview.7`.
const preWordRe = /^(alpha|beta|rc|pre|preview|dev|snapshot|nightly|canary)\.?((?:\d+)(?:\.\d+)*)?$/i
const revisionRe = /^r(\d+)$/
/**
 * Words before a version, each starting with a letter and none reading as a version itself
 * (`distroless-`, `my-app-`, `x86_64-`, `alpine3.19-x86_64-`).
 */
const wordRe = /^(?:(?![vV]\d)[A-Za-z][\w.]*-)+/
const yearRe = /^(?:19|20)\d\d$/
const dateRe = /^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/

const preRelease = (word: string, digits: string | undefined): PreRelease => ({
  word: word.toLowerCase(),
  order: PRE_WORDS[word.toLowerCase()] ?? 0,
  numbers: digits === undefined || digits === "" ? [] : digits.split(".")
})

/**
 * Reads a tag as a version, or returns undefined for tags that are not one (`latest`, `sha-1a2b3c4`,
 * `build-42`, `1.2.3.4.5`). A word prefix is read only before a version of at least two numbers, and
 * only for tags that do not read as a version without one.
 */
export const parseVersion = (value: string, tag: string = value): VersionRank | undefined =>
  readVersion(value, tag) ?? readAfterWord(value, tag)

// A single number after a word is a build counter or a commit (`build-42`, `sha-1234567`), not a release.
const readAfterWord = (value: string, tag: string): VersionRank | undefined => {
  const word = wordRe.exec(value)?.[0]
  if (word === undefined) return undefined
  const rank = readVersion(value.slice(word.length), tag)
  return rank === undefined || rank.numbers.length < 2 ? undefined : { ...rank, word }
}

const readVersion = (value: string, tag: string): VersionRank | undefined => {
  const head = headRe.exec(value)
  if (head === null) return undefined
  const [whole, prefix = "", digits = ""] = head
  const numbers = digits.split(".")
  let rest = value.slice(whole.length)
  let pre: PreRelease | undefined
  let build: string | undefined
  const glued = gluedPreRe.exec(rest)
  if (glued !== null) {
    pre = preRelease(glued[1] ?? "", glued[2])
    rest = rest.slice(glued[0].length)
  }
  const built = buildRe.exec(rest)
  if (built !== null) {
    build = built[1]
    rest = rest.slice(built[0].length)
  }
  if (rest !== "" && !rest.startsWith("-")) return undefined
  const words = rest === "" ? [] : rest.slice(1).split("-")
  if (words.some((w) => w === "")) return undefined
  if (pre === undefined) {
    const at = words.findIndex((w) => preWordRe.test(w))
    const word = words[at]
    if (word !== undefined) {
      const m = preWordRe.exec(word)
      pre = preRelease(m?.[1] ?? word, m?.[2])
      words.splice(at, 1)
    }
  }
  const last = words[words.length - 1]
  const revision = last === undefined ? null : revisionRe.exec(last)
  if (build === undefined && revision !== null) {
    build = revision[1]
    words.pop()
  } else if (build === undefined && words.length === 1 && /^\d+$/.test(last ?? "")) {
    // `1.25.3-2`: a package revision, not a variant.
    build = last
    words.pop()
  }
  const first = numbers[0] ?? ""
  return {
    tag,
    word: "",
    prefix,
    numbers,
    build,
    pre,
    variant: words.join("-"),
    calendar: (numbers.length > 1 && yearRe.test(first)) || (numbers.length === 1 && dateRe.test(first))
  }
}

/** A number's digits without leading zeros (`007` is `7`, `0` stays). */
const withoutZeros = (n: string): string => n.replace(/^0+(?=\d)/, "")

/** Numbers as one key, leading zeros aside: `1.08` and `1.8` are one. */
const numberKey = (numbers: ReadonlyArray<string>): string => numbers.map(withoutZeros).join(".")

/** Compares decimal digit strings by value, leading zeros and size notwithstanding. */
const compareNumber = (a: string, b: string): number => {
  const x = withoutZeros(a)
  const y = withoutZeros(b)
  return x.length - y.length || byteOrder(x, y)
}

/** Part by part; a missing part ranks below any number (`rc` < `rc.1`, `1.2` < `1.2.0` when precision decides). */
const compareParts = (a: ReadonlyArray<string>, b: ReadonlyArray<string>, missing: string | undefined): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? missing
    const y = b[i] ?? missing
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1
    const c = compareNumber(x, y)
    if (c !== 0) return c
  }
  return 0
}

const comparePre = (a: PreRelease | undefined, b: PreRelease | undefined): number => {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1
  return a.order - b.order || compareParts(a.numbers, b.numbers, undefined) || byteOrder(a.word, b.word)
}

/** The version a tag stands for: numbers (missing parts are 0), then release above pre-release, then build. */
export const compareVersions = (a: VersionRank, b: VersionRank): number =>
  compareParts(a.numbers, b.numbers, "0") ||
  comparePre(a.pre, b.pre) ||
  compareParts(a.build === undefined ? [] : [a.build], b.build === undefined ? [] : [b.build], undefined)

const widths = (r: VersionRank): string => r.numbers.map((n) => n.length).join(".")
const padded = (r: VersionRank): boolean => r.numbers.some((n) => n.length > 1 && n.startsWith("0"))

/**
 * On equal versions: the current tag's spelling (its prefix, then its digit widths, then whether
 * it pads with zeros), then the more precise, then any stable order.
 */
const tieBreak = (current: VersionRank | undefined) => (a: VersionRank, b: VersionRank): number => {
  if (current !== undefined) {
    const like = (r: VersionRank) => [r.prefix === current.prefix, widths(r) === widths(current), padded(r) === padded(current)]
    const x = like(a)
    const y = like(b)
    for (let i = 0; i < x.length; i++) {
      const c = Number(x[i]) - Number(y[i])
      if (c !== 0) return c
    }
  }
  return a.numbers.length - b.numbers.length || byteOrder(b.tag, a.tag)
}

const sameNumbers = (a: VersionRank, b: VersionRank) => compareParts(a.numbers, b.numbers, "0") === 0

/** The `MAJOR.MINOR.PATCH[-pre]` a range is checked against, or undefined when too large for one. */
const asSemver = (r: VersionRank): string | undefined => {
  const core = [0, 1, 2].map((i) => withoutZeros(r.numbers[i] ?? "0"))
  if (core.some((n) => n.length > 15)) return undefined
  const pre = r.pre === undefined ? "" : `-${[r.pre.word, ...r.pre.numbers.map(withoutZeros)].join(".")}`
  return `${core.join(".")}${pre}`
}

/** How a tag was read, for `runner explain`. */
export const describeVersion = (r: VersionRank): string =>
  [
    r.word === "" ? undefined : `prefix ${r.word}`,
    `version ${r.numbers.join(".")}`,
    r.pre === undefined ? undefined : `pre-release ${[r.pre.word, ...r.pre.numbers].join(".")}`,
    r.build === undefined ? undefined : `build ${r.build}`,
    r.variant === "" ? undefined : `variant ${r.variant}`,
    r.calendar ? "calendar" : undefined
  ]
    .filter((part) => part !== undefined)
    .join(", ")

const parts = (n: number) => (n === 1 ? "1 number" : `${n} numbers`)

/** A version's release line: its first two numbers (a two-number version is a line of its own). */
export const releaseLine = (r: VersionRank): string => numberKey(r.numbers.slice(0, 2))

/** The ranges whose meaning is the runner's own, not semver's. */
const OWN_RANGES: ReadonlySet<string> = new Set(["^", "*", "~", "auto"])


/**
 * Why a current tag is left alone: an alias (its numbers a strict prefix of a listed release of
 * its variant: `15` with `15.5`, `8.0` with `8.0.36`), which follows its line by itself; or the
 * only listed tag of its variant, with nothing to compare it with. The listing is read once.
 */
const staysFor = (listed: ReadonlyArray<{ readonly rank: VersionRank }>) => {
  // Every strict prefix of every release's numbers, by variant; and how many tags each variant has.
  const prefixes = new Set<string>()
  const variants = new Map<string, number>()
  for (const { rank } of listed) {
    const variant = `${rank.word}\u0000${rank.variant}`
    variants.set(variant, (variants.get(variant) ?? 0) + 1)
    if (rank.pre !== undefined) continue
    for (let n = 1; n < rank.numbers.length; n++) prefixes.add(`${variant}\u0000${numberKey(rank.numbers.slice(0, n))}`)
  }
  const tags = new Set(listed.map(({ rank }) => rank.tag))
  return (current: VersionRank): string | undefined => {
    const variant = `${current.word}\u0000${current.variant}`
    if (current.pre === undefined && prefixes.has(`${variant}\u0000${numberKey(current.numbers)}`)) {
      return `alias of ${current.numbers.join(".")}.x: it follows that line by itself`
    }
    if (current.variant === "" || !tags.has(current.tag) || variants.get(variant) !== 1) return undefined
    return `the only tag of variant ${current.variant}: nothing to compare (filterTags/extract can rank a counter)`
  }
}

/** Checks a `version` range: `auto` (the default), `~`, `^`, `*`, or any semver range. */
export const validVersionRange = (range: string): boolean => OWN_RANGES.has(range) || validSemverRange(range) !== undefined

/**
 * The default policy. A target keeps its current tag's word prefix, variant and number of parts;
 * `^` keeps its major version too, except for calendar versions and single numbers; pre-releases
 * are candidates only on the current tag's own pre-release track, or when the range names one.
 */
export const versionPolicy = (range: string): TagPolicy<VersionRank> => {
  const namesPre = namesPrerelease(range)
  const custom = !OWN_RANGES.has(range)
  const matcher = custom ? new semver.Range(range, { includePrerelease: namesPre }) : undefined
  // The current tag's own pre-release track is followed whatever the range says of pre-releases.
  const trackMatcher = custom ? new semver.Range(range, { includePrerelease: true }) : undefined
  const inRange = (r: VersionRank, onTrack: boolean) => {
    const m = onTrack ? trackMatcher : matcher
    if (m === undefined) return true
    const v = asSemver(r)
    return v !== undefined && m.test(v)
  }
  /** `bounded`: within the range (and `^`'s major); otherwise any version, for telling "ahead" from "no candidate". */
  const lineOf = (current: VersionRank | undefined, bounded = true): Line<VersionRank> => {
    const keepMajor = bounded && (range === "^" || range === "auto") && current !== undefined && !current.calendar && current.numbers.length > 1
    const keepLine = bounded && range === "~" && current !== undefined
    const line = current === undefined ? "" : releaseLine(current)
    const major = current?.numbers[0] ?? ""
    const variant = current?.variant ?? ""
    const word = current?.word ?? ""
    const track = current?.pre === undefined ? undefined : current
    const reject = (r: VersionRank): string | undefined => {
      if (r.variant !== variant) return "another variant"
      if (r.word !== word) return "another prefix"
      if (current !== undefined && r.numbers.length !== current.numbers.length) return "another number of parts"
      if (keepMajor && compareNumber(r.numbers[0] ?? "", major) !== 0) return `another major version (${range} keeps ${major})`
      if (keepLine && releaseLine(r) !== line) return `another release line (~ keeps ${line})`
      const onTrack = r.pre !== undefined && track !== undefined && sameNumbers(r, track)
      if (r.pre !== undefined && !namesPre && !onTrack) return "a pre-release of another line"
      if (bounded && !inRange(r, onTrack)) return `outside ${range}`
      return undefined
    }
    const spelling = tieBreak(current)
    return {
      key: current === undefined ? `${bounded}` : `${bounded}\u0000${word}\u0000${variant}\u0000${current.numbers.length}\u0000${keepMajor ? major : ""}\u0000${keepLine ? line : ""}\u0000${track?.numbers.join(".") ?? ""}\u0000${current.prefix}\u0000${widths(current)}\u0000${padded(current)}`,
      scope: [
        word === "" ? undefined : `prefix ${word}`,
        variant === "" ? "no variant" : `variant ${variant}`,
        current === undefined ? undefined : parts(current.numbers.length),
        keepMajor ? `major ${major}` : undefined,
        keepLine ? `line ${line}` : undefined,
        namesPre ? undefined : track === undefined ? "releases" : `releases and pre-releases of ${track.numbers.join(".")}`
      ]
        .filter((s) => s !== undefined)
        .join(", "),
      reject,
      compare: (a, b) => compareVersions(a, b) || spelling(a, b),
      same: (a, b) => compareVersions(a, b) === 0,
      ...(bounded && (keepMajor || keepLine || custom) ? { unbounded: lineOf(current, false) } : {})
    }
  }
  return {
    name: `version ${range}`,
    usesCreated: false,
    floating: true,
    parse: (value, info) => parseVersion(value, info.tag),
    describe: describeVersion,
    stays: staysFor,
    lineOf: (current) => lineOf(current)
  }
}
