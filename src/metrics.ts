import { Metric, MetricBoundaries } from "effect"

/**
 * The runner's metrics, as effect `Metric`s: code anywhere increments them, and the service
 * mode's `/metrics` endpoint renders the snapshot in Prometheus text format.
 */

/** Passes over a pipeline, tagged `result` = success | failure. */
export const passesTotal = Metric.counter("runner_passes_total", { description: "Passes over a pipeline." })

/** Targets whose field was changed and pushed. */
export const targetUpdatesTotal = Metric.counter("runner_target_updates_total", {
  description: "Targets updated and pushed."
})

/** Registry HTTP requests, tagged `provider` and `code` (HTTP status, or `error` when none came back). */
export const registryRequestsTotal = Metric.counter("runner_registry_requests_total", {
  description: "HTTP requests sent to registries."
})

/** Unix time of the last pass that had no failure. */
export const lastPassSuccess = Metric.gauge("runner_last_pass_success_timestamp_seconds", {
  description: "Unix time of the last pass without failures."
})

export const passDuration = Metric.histogram(
  "runner_pass_duration_seconds",
  MetricBoundaries.exponential({ start: 0.05, factor: 2, count: 12 }),
  "Duration of a pass over a pipeline."
)

/** Time spent waiting for a registry's rate limit (own limiter or the registry's Retry-After), tagged `provider`. */
export const rateLimitWaitSeconds = Metric.counter("runner_rate_limit_wait_seconds_total", {
  description: "Seconds spent waiting on registry rate limits."
})
