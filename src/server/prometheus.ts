import { MetricState, Option } from "effect"
import type { MetricPair } from "effect"

/**
 * Prometheus text exposition (format 0.0.4) of an effect metrics snapshot. Counters, gauges and
 * histograms are what the runner defines; other kinds are left out.
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const number = (n: number | bigint) =>
  typeof n === "bigint" ? n.toString() : Number.isNaN(n) ? "NaN" : n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : String(n)

const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`

interface Family {
  readonly type: "counter" | "gauge" | "histogram"
  readonly help: string | undefined
  readonly lines: Array<string>
}

export const renderPrometheus = (snapshot: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  const sorted = [...snapshot].sort((a, b) => (a.metricKey.name < b.metricKey.name ? -1 : a.metricKey.name > b.metricKey.name ? 1 : 0))
  for (const { metricKey, metricState } of sorted) {
    const name = metricKey.name
    const tags = metricKey.tags.map((t) => [t.key, t.value] as const)
    const family = (type: Family["type"]) => {
      const existing = families.get(name)
      if (existing !== undefined) return existing
      const created: Family = { type, help: Option.getOrUndefined(metricKey.description), lines: [] }
      families.set(name, created)
      return created
    }
    if (MetricState.isCounterState(metricState)) {
      family("counter").lines.push(`${name}${labels(tags)} ${number(metricState.count)}`)
    } else if (MetricState.isGaugeState(metricState)) {
      family("gauge").lines.push(`${name}${labels(tags)} ${number(metricState.value)}`)
    } else if (MetricState.isHistogramState(metricState)) {
      const lines = family("histogram").lines
      // effect's buckets are already cumulative and end with +Inf, as Prometheus wants them.
      for (const [bound, count] of metricState.buckets) {
        lines.push(`${name}_bucket${labels([...tags, ["le", number(bound)]])} ${number(count)}`)
      }
      lines.push(`${name}_sum${labels(tags)} ${number(metricState.sum)}`, `${name}_count${labels(tags)} ${number(metricState.count)}`)
    }
  }
  const out: Array<string> = []
  for (const [name, family] of families) {
    if (family.help !== undefined) out.push(`# HELP ${name} ${escapeHelp(family.help)}`)
    out.push(`# TYPE ${name} ${family.type}`, ...family.lines)
  }
  return out.length === 0 ? "" : out.join("\n") + "\n"
}
