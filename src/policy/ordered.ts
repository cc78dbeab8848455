import { byteOrder, fixedLine, type TagPolicy } from "./TagPolicy.ts"

type Order = "asc" | "desc"

/** `asc` picks the last value in order, `desc` the first: the same meaning as Flux's policies. */
const directed = (order: Order, c: number): number => (order === "asc" ? c : -c)

const everyTag = () => undefined

/** A policy that ranks every tag it reads alike, whatever the current tag. */
const ordered = <R>(
  name: string,
  usesCreated: boolean,
  parse: TagPolicy<R>["parse"],
  describe: TagPolicy<R>["describe"],
  compare: (a: R, b: R) => number
): TagPolicy<R> => {
  const line = fixedLine(everyTag, compare)
  return { name, usesCreated, floating: false, parse, describe, lineOf: () => line }
}

export const alphabeticalPolicy = (order: Order): TagPolicy<string> =>
  ordered(`alphabetical ${order}`, false, (value) => value, (value) => `text ${value}`, (a, b) => directed(order, byteOrder(a, b)))

export interface Decimal {
  readonly negative: boolean
  readonly int: bigint
  /** Fraction digits without trailing zeros, compared as strings of equal length. */
  readonly frac: string
  readonly tag: string
}

const numberRe = /^([+-]?)(\d+)(?:\.(\d+))?$/

/** Parses a plain decimal exactly: no float rounding, any size. */
const parseDecimal = (value: string, tag: string): Decimal | undefined => {
  const m = numberRe.exec(value)
  if (m === null) return undefined
  const frac = (m[3] ?? "").replace(/0+$/, "")
  const int = BigInt(m[2] ?? "0")
  return { negative: m[1] === "-" && (int !== 0n || frac !== ""), int, frac, tag }
}

const compareMagnitude = (a: Decimal, b: Decimal): number => {
  if (a.int !== b.int) return a.int < b.int ? -1 : 1
  const n = Math.max(a.frac.length, b.frac.length)
  return byteOrder(a.frac.padEnd(n, "0"), b.frac.padEnd(n, "0"))
}

const compareDecimal = (a: Decimal, b: Decimal): number => {
  if (a.negative !== b.negative) return a.negative ? -1 : 1
  const c = a.negative ? -compareMagnitude(a, b) : compareMagnitude(a, b)
  // Equal numbers spelled differently (`1.0`, `1`, `01`): keep the choice stable.
  return c || byteOrder(b.tag, a.tag)
}

export const numericalPolicy = (order: Order): TagPolicy<Decimal> =>
  ordered(
    `numerical ${order}`,
    false,
    (value, info) => parseDecimal(value, info.tag),
    (d) => `number ${d.negative ? "-" : ""}${d.int}${d.frac === "" ? "" : `.${d.frac}`}`,
    (a, b) => directed(order, compareDecimal(a, b))
  )

export interface Dated {
  readonly time: number
  readonly tag: string
}

/** Ranks by push or creation time; tags whose time is unknown are not candidates. */
export const newestPolicy: TagPolicy<Dated> = ordered(
  "newest",
  true,
  (_value, info) =>
    info.created === undefined || info.created.getTime() <= 0 ? undefined : { time: info.created.getTime(), tag: info.tag },
  (d) => `created ${new Date(d.time).toISOString()}`,
  (a, b) => a.time - b.time || byteOrder(a.tag, b.tag)
)
