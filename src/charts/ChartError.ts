import { Data } from "effect"
import { reasonText as registryReasonText, type RegistryErrorReason } from "../domain/RegistryError.ts"

/** `Index`: the repository's index.yaml is not one we can read (too big, not YAML, not an index). */
export type ChartErrorReason = RegistryErrorReason | "Index"

const reasonText: Record<ChartErrorReason, string> = { ...registryReasonText, Index: "unreadable index.yaml" }

/** A failure reading a chart repository, by its configured name (and the chart asked for). Never holds its password. */
export class ChartError extends Data.TaggedError("ChartError")<{
  readonly reason: ChartErrorReason
  readonly repository: string
  readonly chart?: string
  readonly status?: number
  readonly detail: string
}> {
  override get message(): string {
    const chart = this.chart === undefined ? "" : `, chart ${this.chart}`
    const status = this.status === undefined ? "" : ` (${this.status})`
    return `chart repository ${this.repository}${chart}: ${reasonText[this.reason]}${status}: ${this.detail}`
  }
}
