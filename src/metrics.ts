import { FiberRef, Metric, MetricBoundaries, MetricKey, MetricLabel } from "effect"
import { memoize } from "./memo.ts"

/**
 * The runner's metrics, as effect `Metric`s: code anywhere increments them, and the service
 * mode's `/metrics` endpoint renders the snapshot in Prometheus text format.
 */

/**
 * A metric per combination of label values, each with its labels in its key: a metric tagged with
 * `Metric.tagged` looks its counter up in the registry on every update, and these are updated per
 * request or per target. The metrics are remembered by their label values.
 */
const labelled = <L extends string, M>(names: ReadonlyArray<L>, make: (labels: ReadonlyArray<MetricLabel.MetricLabel>) => M) =>
  memoize(
    (values: Readonly<Record<L, string>>) => make(names.map((name) => MetricLabel.make(name, values[name]))),
    (values) => names.map((name) => values[name]).join("\u0000")
  )

const counterBy = <L extends string>(name: string, description: string, labels: ReadonlyArray<L>) =>
  labelled(labels, (tags) => Metric.fromMetricKey(MetricKey.counter(name, { description }).pipe(MetricKey.taggedWithLabels(tags))))

/** Passes over a pipeline, tagged `result` = success | failure. */
export const passesTotal = Metric.counter("runner_passes_total", { description: "Passes over a pipeline." })

/** 1 while a pipeline has gone ten check intervals without completing a pass (then /readyz fails too), else 0. */
export const passOverrun = Metric.gauge("runner_pass_overrun", {
  description: "1 while no pass of the pipeline has completed for ten check intervals."
})

/** Targets whose field was changed and pushed. */
export const targetUpdatesTotal = Metric.counter("runner_target_updates_total", {
  description: "Targets updated and pushed."
})

/**
 * The pipeline whose pass runs on this fiber, for metrics counted below the pass (registry
 * requests); empty outside a pass. A listing shared by concurrent asks runs on the first asker's
 * fiber, and listings are never shared across pipelines (each declares its own providers).
 */
export const currentPipeline = FiberRef.unsafeMake("")

/** Registry HTTP requests of a provider that got `code` (HTTP status, or `error` when none came back), by pipeline. */
export const registryRequests = counterBy("runner_registry_requests_total", "HTTP requests sent to registries, by provider, status code and pipeline.", [
  "provider",
  "code",
  "pipeline"
])

/** Unix time of the last completed pass of a pipeline, whatever its targets' outcomes: a stuck or dead schedule stops it. */
export const lastPassSuccess = Metric.gauge("runner_last_pass_success_timestamp_seconds", {
  description: "Unix time of the last completed pass of the pipeline, whether or not some of its targets failed."
})

/** Targets of a pipeline that failed in its last pass (a repository or watcher file that failed whole counts as one). */
export const failingTargets = Metric.gauge("runner_failing_targets", {
  description: "Targets of the pipeline that failed in its last completed pass."
})

/** SIGHUP reloads by `outcome`: success (the new config took over) or failure (the running one stays). */
export const configReloads = counterBy("runner_config_reloads_total", "Config reloads on SIGHUP, by outcome.", ["outcome"])

/** When the process started, in Unix seconds. */
export const processStartTime = Metric.gauge("process_start_time_seconds", { description: "Start time of the process since unix epoch in seconds." })

/** The buckets of the durations measured in seconds: 50 ms to about 100 s. */
const SECONDS_BUCKETS = MetricBoundaries.exponential({ start: 0.05, factor: 2, count: 12 })

export const passDuration = Metric.histogram("runner_pass_duration_seconds", SECONDS_BUCKETS, "Duration of a pass over a pipeline.")

/** Time spent waiting for a registry's rate limit (own limiter or the registry's Retry-After), tagged `provider`. */
export const rateLimitWaitSeconds = Metric.counter("runner_rate_limit_wait_seconds_total", {
  description: "Seconds spent waiting on registry rate limits."
})

/**
 * Failures of a pass, counted per target (and per repository or watcher file that failed whole),
 * by family: `reason` is one short word such as `registry_auth`, `no_candidate` or `push`.
 */
export const targetFailures = counterBy("runner_target_failures_total", "Targets that failed in a pass, by failure family.", [
  "pipeline",
  "repo",
  "reason"
])

/** Candidates the gates checked, by `result`: passed, held (too new) or skipped (not signed as required). */
export const gateDecisions = counterBy("runner_gate_decisions_total", "Candidate tags checked against the gates, by result.", ["pipeline", "result"])

/** Targets of a repository by `state` (up_to_date, updated, held, failed, ...) after its last pass. */
export const targetsByState = labelled(["pipeline", "repo", "state"], (tags) =>
  Metric.fromMetricKey(
    MetricKey.gauge("runner_targets", { description: "Targets of a repository by state after its last pass." }).pipe(MetricKey.taggedWithLabels(tags))
  )
)

export const targetsNewerOutsideRange = labelled(["pipeline", "repo"], (tags) =>
  Metric.fromMetricKey(
    MetricKey.gauge("runner_targets_newer_outside_range", {
      description: "Targets of a repository that stayed after its last pass while a newer release of their variant is outside their policy."
    }).pipe(MetricKey.taggedWithLabels(tags))
  )
)

/** The runner's pull or merge requests of a repository by `state` (open, declined) as its last pass saw them. */
export const pullRequests = labelled(["repo", "state"], (tags) =>
  Metric.fromMetricKey(
    MetricKey.gauge("runner_pull_requests", { description: "The runner's pull or merge requests of a repository by state, as its last pass saw them." }).pipe(
      MetricKey.taggedWithLabels(tags)
    )
  )
)

/** What the runner did to pull or merge requests: `operation` open, close, merge_base, auto_merge, delete_branch, list; `outcome` ok or error. */
export const pullRequestOperations = counterBy("runner_pull_request_operations_total", "Operations on pull or merge requests, by operation and outcome.", [
  "operation",
  "outcome"
])

/** Distinct images the watcher files name, as of the last passes. */
export const imagesWatched = Metric.gauge("runner_images_watched", { description: "Distinct images watched." })

/** The git operations a pass waits on, by `operation`: clone, fetch or push. */
export const GIT_OPERATIONS = ["clone", "fetch", "push"] as const

const gitOperationSecondsBy = labelled(["operation"], (tags) =>
  Metric.fromMetricKey(
    MetricKey.histogram("runner_git_operation_seconds", SECONDS_BUCKETS, "Duration of git clones, fetches and pushes.").pipe(
      MetricKey.taggedWithLabels(tags)
    )
  )
)

export const gitOperationSeconds = (operation: (typeof GIT_OPERATIONS)[number]) => gitOperationSecondsBy({ operation })

/** Pushes tried again because another writer moved the branch. */
export const pushRetries = Metric.counter("runner_push_retries_total", { description: "Pushes retried after the branch moved." })

/** Always 1; its `version` label says which build runs. */
export const buildInfo = Metric.gauge("runner_build_info", { description: "The runner's version, as a label; the value is 1." })

/** Read at each scrape. */
export const residentMemory = Metric.gauge("process_resident_memory_bytes", { description: "Resident memory size in bytes." })

/** What became of a notification's delivery, by `outcome`: sent, retried (each try again), failed (given up). */
export const NOTIFICATION_OUTCOMES = ["sent", "retried", "failed"] as const

/** Notifications to a receiver (Piped's `spec.notifications.receivers` name) by event and outcome. */
export const notificationsTotal = counterBy("runner_notifications_total", "Notifications delivered to receivers, by event and outcome.", [
  "receiver",
  "event",
  "outcome"
])
