/**
 * re2js matches in linear time but costs two to four times a JavaScript RegExp per call, and a
 * tag listing runs every filter over 100,000 tags. This finds the patterns for which a
 * backtracking RegExp is provably linear too and means the same as RE2, so only those take the
 * native engine:
 *
 * - anchored at the start (`^` or `\A`), so there is one start position to try, or starting
 *   with a character no repetition matches (see `linearStarts`);
 * - no alternation, no flag but a leading `(?i)`, no quantified group: a sequence of single characters or classes,
 *   each repeated at most by a greedy quantifier, with plain or named groups around them;
 * - every variable repetition is followed by a required character it cannot match (so giving
 *   back a character fails at once and the repetition is entered once), except the last one,
 *   which may be followed by a fixed-length tail only (at most n tries of a constant tail).
 *
 * Anything else, or anything this scanner does not know, returns undefined and stays with re2js.
 */

/** A set of characters: the ASCII ones exactly, every non-ASCII character as one block. */
interface CharSet {
  readonly ascii: ReadonlyArray<boolean>
  readonly other: boolean
}

interface Item {
  readonly set: CharSet
  readonly min: number
  readonly max: number
}

const setOf = (test: (code: number) => boolean, other: boolean): CharSet => ({
  ascii: Array.from({ length: 128 }, (_, c) => test(c)),
  other
})
const between = (lo: string, hi: string) => (c: number) => c >= lo.charCodeAt(0) && c <= hi.charCodeAt(0)
const DIGIT = between("0", "9")
const WORD = (c: number) => DIGIT(c) || between("a", "z")(c) || between("A", "Z")(c) || c === 95
const SYNTAX = "\\^$.*+?()[]{}|"

const disjoint = (a: CharSet, b: CharSet): boolean => !(a.other && b.other) && a.ascii.every((x, i) => !(x && b.ascii[i]))

/** A RegExp (`u` mode) text for one code point, with no special meaning anywhere. */
const literal = (cp: number) => `\\u{${cp.toString(16)}}`

interface Scan {
  readonly items: Array<Item>
  out: string
  i: number
}

/** A class like `[a-z0-9_.-]` or `[^/]`: ranges, literals, `\d`, `\w` and escaped punctuation. */
const scanClass = (src: string, scan: Scan): CharSet | undefined => {
  let i = scan.i + 1
  const negated = src[i] === "^"
  if (negated) i++
  if (src[i] === "]") return undefined
  const tests: Array<(c: number) => boolean> = []
  let other = false
  let body = ""
  const member = (): number | "d" | "w" | undefined => {
    const c = src.codePointAt(i)
    if (c === undefined || c === 93 || c === 91) return undefined
    if (c !== 92) {
      i += c > 0xffff ? 2 : 1
      return c
    }
    const n = src[i + 1] ?? ""
    i += 2
    if (n === "d" || n === "w") return n
    return n !== "" && !/[0-9A-Za-z]/.test(n) ? n.charCodeAt(0) : undefined
  }
  while (src[i] !== "]") {
    const lo = member()
    if (lo === undefined) return undefined
    if (lo === "d" || lo === "w") {
      tests.push(lo === "d" ? DIGIT : WORD)
      body += `\\${lo}`
      continue
    }
    let hi = lo
    if (src[i] === "-" && src[i + 1] !== "]") {
      i++
      const h = member()
      if (typeof h !== "number") return undefined
      hi = h
    }
    tests.push((c) => c >= lo && c <= hi)
    other ||= hi >= 128
    body += lo === hi ? literal(lo) : `${literal(lo)}-${literal(hi)}`
  }
  scan.i = i + 1
  scan.out += `[${negated ? "^" : ""}${body}]`
  // A class naming a non-ASCII character counts as all of them: coarser, never wrong for `disjoint`.
  const inside = (c: number) => tests.some((t) => t(c))
  return negated ? setOf((c) => !inside(c), true) : setOf(inside, other)
}

/** One character or class at `scan.i`, its RegExp text appended; undefined when outside the subset. */
const scanAtom = (src: string, scan: Scan): CharSet | undefined => {
  const c = src[scan.i] ?? ""
  if (c === "[") return scanClass(src, scan)
  if (c === ".") {
    scan.i++
    scan.out += "[^\\n]"
    return setOf((x) => x !== 10, true)
  }
  if (c === "\\") {
    const n = src[scan.i + 1] ?? ""
    scan.i += 2
    if (n === "d" || n === "w") {
      scan.out += `\\${n}`
      return setOf(n === "d" ? DIGIT : WORD, false)
    }
    if (n === "" || /[0-9A-Za-z]/.test(n)) return undefined
    scan.out += literal(n.charCodeAt(0))
    return setOf((x) => x === n.charCodeAt(0), false)
  }
  const cp = src.codePointAt(scan.i)
  if (cp === undefined || SYNTAX.includes(c)) return undefined
  scan.i += cp > 0xffff ? 2 : 1
  scan.out += literal(cp)
  return setOf((x) => x === cp, cp >= 128)
}

/** `*`, `+`, `?`, `{n}`, `{n,}` or `{n,m}` at `scan.i` (greedy only), or exactly once. */
const scanQuantifier = (src: string, scan: Scan): { min: number; max: number } | undefined => {
  const c = src[scan.i]
  let bounds = { min: 1, max: 1 }
  if (c === "*" || c === "+" || c === "?") {
    bounds = { min: c === "+" ? 1 : 0, max: c === "?" ? 1 : Infinity }
    scan.out += c
    scan.i++
  } else if (c === "{") {
    const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(src.slice(scan.i))
    if (m === null) return undefined
    const min = Number(m[1])
    bounds = { min, max: m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]) }
    scan.out += m[0]
    scan.i += m[0].length
  }
  return src[scan.i] === "?" || src[scan.i] === "*" || src[scan.i] === "+" ? undefined : bounds
}

/** The RegExp text and the sequence of repeated sets, or undefined outside the subset. */
const scanPattern = (src: string): (Scan & { readonly anchored: boolean }) | undefined => {
  const start = src.startsWith("^") ? 1 : src.startsWith("\\A") ? 2 : 0
  const scan: Scan = { items: [], out: start > 0 ? "^" : "", i: start }
  let depth = 0
  while (scan.i < src.length) {
    const rest = src.slice(scan.i)
    const group = /^\((\?P?<([A-Za-z_][A-Za-z0-9_]*)>|\?:)?/.exec(rest)?.[0] ?? ""
    if (group !== "") {
      const name = /<(\w+)>/.exec(group)?.[1]
      scan.out += name === undefined ? group : `(?<${name}>`
      scan.i += group.length
      depth++
    } else if (rest[0] === ")") {
      if (depth === 0 || "*+?{".includes(rest[1] ?? "_")) return undefined
      scan.out += ")"
      scan.i++
      depth--
    } else if (rest === "$" || rest === "\\z") {
      scan.out += "$"
      scan.i = src.length
    } else {
      const set = scanAtom(src, scan)
      const bounds = set === undefined ? undefined : scanQuantifier(src, scan)
      if (set === undefined || bounds === undefined) return undefined
      scan.items.push({ set, ...bounds })
    }
  }
  return depth === 0 ? { ...scan, anchored: start > 0 } : undefined
}

/**
 * Unanchored, the engine tries every start. Linear still when the first item is one required
 * character that no repetition can match: an attempt then never starts inside a repetition's run,
 * so each run is scanned by at most as many attempts as the pattern has fixed characters.
 */
const linearStarts = (items: ReadonlyArray<Item>): boolean => {
  const first = items[0]
  if (first === undefined || first.min !== 1 || first.max !== 1) return false
  return items.every((item) => item.min === item.max || disjoint(item.set, first.set))
}

/** True when a backtracking engine runs this sequence in time linear in the input (see above). */
const linearSequence = (items: ReadonlyArray<Item>): boolean =>
  items.every((item, k) => {
    if (item.min === item.max) return true
    const next = items[k + 1]
    if (next === undefined || (next.min > 0 && disjoint(item.set, next.set))) return true
    return items.slice(k + 1).every((later) => later.min === later.max)
  })

/**
 * The set under `(?i)`: both cases of each ASCII letter, and every non-ASCII character once it has
 * a letter, since Unicode folds some onto ASCII ones (K, the Kelvin sign; s, the long s).
 */
const folded = (set: CharSet): CharSet => {
  const ascii = set.ascii.map((x, c) => x || (set.ascii[c ^ 32] === true && /[A-Za-z]/.test(String.fromCharCode(c))))
  return { ascii, other: set.other || ascii.some((x, c) => x && /[A-Za-z]/.test(String.fromCharCode(c))) }
}

/** A RegExp meaning the same as the RE2 `source` and provably linear to run, or undefined. */
export const linearRegExp = (source: string): RegExp | undefined => {
  // Both engines fold case with Unicode's simple folding, so `(?i)` is the RegExp `i` flag.
  const caseless = source.startsWith("(?i)")
  const scan = scanPattern(caseless ? source.slice(4) : source)
  if (scan === undefined) return undefined
  const items = caseless ? scan.items.map((item) => ({ ...item, set: folded(item.set) })) : scan.items
  if (!linearSequence(items) || (!scan.anchored && !linearStarts(items))) return undefined
  try {
    return new RegExp(scan.out, caseless ? "iu" : "u")
  } catch {
    return undefined
  }
}
