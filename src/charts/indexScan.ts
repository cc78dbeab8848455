/**
 * Reading helm's `index.yaml` without building its document tree. helm writes the index in one
 * layout (sigs.k8s.io/yaml: keys sorted, two spaces, sequences at their key's indent or two more):
 *
 *     entries:
 *       NAME:
 *       - created: "2024-01-02T03:04:05.678Z"
 *         digest: 0123…
 *         version: 1.2.3
 *     generated: "…"
 *
 * A line scanner over that layout keeps only chart, version, created and digest, in one pass over
 * the text, each line looked at a bounded number of times. Anything it does not recognise is "not
 * canonical", for the caller to read with the YAML parser instead, within a smaller limit.
 */

/** One version of a chart as the index lists it; `created` in milliseconds since the epoch. */
export interface ChartVersion {
  readonly version: string
  readonly created?: number
  readonly digest?: string
}

/** Versions by chart name, each chart's in the index's order. */
export type ChartVersions = ReadonlyMap<string, ReadonlyArray<ChartVersion>>

/** Versions kept from one index at most (Bitnami's lists about 20,000): a bound on what a hostile index can make us hold. */
export const MAX_VERSIONS = 500_000

export type ScanResult =
  | { readonly _tag: "Scanned"; readonly charts: ChartVersions }
  | { readonly _tag: "NotCanonical"; readonly why: string }
  | { readonly _tag: "TooMany" }

/** A value of ours (version, created, digest) longer than this is nothing helm wrote. */
const MAX_VALUE = 1024
/** Longer lines are not looked into: a chart's name or a top-level key that long is nothing helm wrote. */
const MAX_LINE = 64 * 1024
const SPACE = 32

const notCanonical = (why: string, line: number): ScanResult => ({ _tag: "NotCanonical", why: `line ${line}: ${why}` })

/** `2024-01-02T03:04:05.123456789Z` (any fraction, an offset or none) in milliseconds; undefined when it is not such a time. */
export const parseCreated = (text: string): number | undefined => {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|z|[+-]\d{2}:?\d{2})?$/.exec(text)
  if (match === null) return undefined
  const [, year, month, day, hour, minute, second, fraction = "", zone = "Z"] = match
  const millis = Number(fraction.padEnd(3, "0").slice(0, 3))
  const offset = zone === "Z" || zone === "z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)))
  const at = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), millis) - offset * 60_000
  return Number.isFinite(at) ? at : undefined
}

/** A scalar as helm writes one on a line: plain, 'single' or "double" quoted; undefined for anything else (blocks, flow, anchors). */
export const lineScalar = (text: string): string | undefined => {
  const value = text.trim()
  if (value === "" || value.length > MAX_VALUE) return undefined
  const first = value.charCodeAt(0)
  if (value.startsWith("\"")) {
    if (value.length < 2 || !value.endsWith("\"")) return undefined
    if (!value.includes("\\")) return value.slice(1, -1)
    try {
      const parsed: unknown = JSON.parse(value)
      return typeof parsed === "string" ? parsed : undefined
    } catch {
      return undefined
    }
  }
  if (value.startsWith("'")) return value.length >= 2 && value.endsWith("'") ? value.slice(1, -1).replaceAll("''", "'") : undefined
  if ("|>&*!{[%@`#".includes(String.fromCharCode(first))) return undefined
  const comment = value.indexOf(" #")
  return comment === -1 ? value : value.slice(0, comment).trimEnd()
}

interface Item {
  version?: string
  created?: number
  digest?: string
}

/** Where the scan is: outside `entries`, between charts, or in a chart whose items start at `itemIndent`. */
interface State {
  readonly charts: Map<string, Array<ChartVersion>>
  inEntries: boolean
  sawEntries: boolean
  sawAfterEntries: boolean
  chartIndent: number
  chart: Array<ChartVersion> | undefined
  itemIndent: number
  item: Item | undefined
  count: number
}

const finishItem = (state: State): void => {
  const { item, chart } = state
  if (item?.version !== undefined && chart !== undefined) {
    chart.push({ version: item.version, ...(item.created === undefined ? {} : { created: item.created }), ...(item.digest === undefined ? {} : { digest: item.digest }) })
    state.count++
  }
  state.item = undefined
}

/** `key: value` of an item's line (the text after its indent, or after `- `); "" when the key is none of ours. */
const itemKey = (state: State, text: string, line: number): ScanResult | undefined => {
  const item = state.item
  if (item === undefined) return undefined
  const first = text.charCodeAt(0)
  // A quoted, flow or complex key is YAML helm does not write.
  if (first === 34 || first === 39 || first === 123 || first === 91 || first === 63) return notCanonical("a key helm would not write", line)
  for (const key of ["version", "created", "digest"] as const) {
    if (!text.startsWith(key) || text.charCodeAt(key.length) !== 58 /* : */) continue
    const value = lineScalar(text.slice(key.length + 1))
    if (value === undefined) return notCanonical(`${key} is not a one-line scalar`, line)
    if (key === "created") {
      const created = parseCreated(value)
      if (created !== undefined) item.created = created
    } else item[key] = value
  }
  return undefined
}

/** A line at indent 0: a top-level key; `entries:` starts the charts. */
const topLevel = (state: State, text: string, line: number): ScanResult | undefined => {
  finishItem(state)
  state.chart = undefined
  const key = /^([A-Za-z_][\w.-]*):(?: (.*))?$/.exec(text)
  if (key === null) return notCanonical("not a top-level key", line)
  if (key[1] !== "entries") {
    if (state.sawEntries) state.sawAfterEntries = true
    state.inEntries = false
    return undefined
  }
  if (state.sawEntries) return notCanonical("entries given twice", line)
  state.sawEntries = true
  const value = (key[2] ?? "").trim()
  if (value !== "" && value !== "{}") return notCanonical("entries is not a block map", line)
  state.inEntries = value === ""
  return undefined
}

/** A line inside `entries`, at `indent` (more than 0). */
const inEntries = (state: State, indent: number, text: string, line: number): ScanResult | undefined => {
  if (state.chartIndent === -1) state.chartIndent = indent
  const isItem = text.charCodeAt(0) === 45 /* - */ && (text.length === 1 || text.charCodeAt(1) === SPACE)
  if (state.chart !== undefined) {
    if (state.itemIndent === -1 && isItem && (indent === state.chartIndent || indent === state.chartIndent + 2)) state.itemIndent = indent
    const keyIndent = state.itemIndent + 2
    if (state.itemIndent !== -1 && indent > keyIndent) return undefined
    if (state.itemIndent !== -1 && indent === keyIndent) return isItem ? undefined : itemKey(state, text, line)
    if (isItem && indent === state.itemIndent) {
      finishItem(state)
      state.item = {}
      return itemKey(state, text.slice(2), line)
    }
  }
  if (indent !== state.chartIndent || isItem) return notCanonical("not where helm puts a chart or its versions", line)
  finishItem(state)
  const chart = /^([A-Za-z0-9_][\w.-]*):\s*(\[\])?$/.exec(text)
  if (chart === null || chart[1] === undefined) return notCanonical("not a chart's name", line)
  if (state.charts.has(chart[1])) return notCanonical(`chart ${chart[1]} given twice`, line)
  const versions: Array<ChartVersion> = []
  state.charts.set(chart[1], versions)
  state.chart = chart[2] === undefined ? versions : undefined
  state.itemIndent = -1
  return undefined
}

/** Scans `text` as helm writes an index; see the module's comment. */
export const scanIndex = (text: string): ScanResult => {
  if (text !== "" && !text.endsWith("\n")) return { _tag: "NotCanonical", why: "the last line is not terminated (cut short?)" }
  const state: State = { charts: new Map(), inEntries: false, sawEntries: false, sawAfterEntries: false, chartIndent: -1, chart: undefined, itemIndent: -1, item: undefined, count: 0 }
  let start = 0
  for (let line = 1; start < text.length; line++) {
    const end = text.indexOf("\n", start)
    const lineEnd = text.charCodeAt(end - 1) === 13 ? end - 1 : end
    let at = start
    while (at < lineEnd && text.charCodeAt(at) === SPACE) at++
    const indent = at - start
    start = end + 1
    // Blank lines, comments and what lies under the other top-level keys are passed over.
    if (at === lineEnd || text.charCodeAt(at) === 35 /* # */) continue
    if (indent > 0 && !state.inEntries) continue
    if (state.chart !== undefined && state.itemIndent !== -1 && indent > state.itemIndent + 2) continue
    if (text.charCodeAt(at) === 9) return notCanonical("a tab where helm indents with spaces", line)
    // Only an item's own keys may be long (a description): what is ours in them is bounded by lineScalar.
    const long = lineEnd - at > MAX_LINE
    const itemLine = state.chart !== undefined && (indent === state.itemIndent + 2 || text.startsWith("- ", at))
    if (long && !itemLine) return notCanonical("a line longer than 64 KiB", line)
    const content = text.slice(at, long ? at + MAX_LINE : lineEnd)
    const found = indent === 0 ? topLevel(state, content, line) : inEntries(state, indent, content, line)
    if (found !== undefined) return found
    if (state.count > MAX_VERSIONS) return { _tag: "TooMany" }
  }
  finishItem(state)
  if (state.count > MAX_VERSIONS) return { _tag: "TooMany" }
  if (!state.sawEntries) return notCanonical("no entries", 1)
  // helm writes `generated:` after `entries:`: without a key after them the file may have been cut short.
  if (!state.sawAfterEntries) return notCanonical("nothing after entries (helm writes generated: there)", 1)
  return { _tag: "Scanned", charts: state.charts }
}
