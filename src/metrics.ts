import { Metric, MetricBoundaries, MetricKey, MetricLabel } from "effect"
import { memoize } from "./memo.ts"

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

/**
 * Registry HTTP requests of a provider that got `code` (HTTP status, or `error` when none came
 * back). Counted on every request, so each pair gets a metric with its tags in its key: a metric
 * tagged with `Metric.tagged` looks its counter up in the registry on every update.
 */
export const registryRequests: (labels: { readonly provider: string; readonly code: string }) => Metric.Metric.Counter<number> =
  memoize(
    ({ code, provider }) =>
      Metric.fromMetricKey(
        MetricKey.counter("runner_registry_requests_total", { description: "HTTP requests sent to registries." }).pipe(
          MetricKey.taggedWithLabels([MetricLabel.make("provider", provider), MetricLabel.make("code", code)])
        )
      ),
    ({ code, provider }) => `${provider}\u0000${code}`
  )

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

/**
 * Failures of a pass, counted per target (and per repository or watcher file that failed whole),
 * by family: `reason` is one short word such as `registry_auth`, `no_candidate` or `push`.
 */
export const targetFailures: (labels: { readonly pipeline: string; readonly repo: string; readonly reason: string }) => Metric.Metric.Counter<number> =
  memoize(
    ({ pipeline, repo, reason }) =>
      Metric.fromMetricKey(
        MetricKey.counter("runner_target_failures_total", { description: "Targets that failed in a pass, by failure family." }).pipe(
          MetricKey.taggedWithLabels([MetricLabel.make("pipeline", pipeline), MetricLabel.make("repo", repo), MetricLabel.make("reason", reason)])
        )
      ),
    ({ pipeline, repo, reason }) => `${pipeline}\u0000${repo}\u0000${reason}`
  )

/** Candidates the gates checked, by `result`: passed, held (too new) or skipped (not signed as required). */
export const gateDecisions: (labels: { readonly pipeline: string; readonly result: string }) => Metric.Metric.Counter<number> = memoize(
  ({ pipeline, result }) =>
    Metric.fromMetricKey(
      MetricKey.counter("runner_gate_decisions_total", { description: "Candidate tags checked against the gates, by result." }).pipe(
        MetricKey.taggedWithLabels([MetricLabel.make("pipeline", pipeline), MetricLabel.make("result", result)])
      )
    ),
  ({ pipeline, result }) => `${pipeline}\u0000${result}`
)
