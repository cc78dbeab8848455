/** What the metrics learn from a pass, and the series that exist before any pass has run. */
import { Clock, Duration, Effect, Metric } from "effect"
import type { Pipeline, RepositoryConfig } from "../config/model.ts"
import { FAILURE_REASONS } from "../domain/failures.ts"
import {
  buildInfo,
  configReloads,
  failingTargets,
  gateDecisions,
  GIT_OPERATIONS,
  gitOperationSeconds,
  imagesWatched,
  lastPassSuccess,
  NOTIFICATION_OUTCOMES,
  notificationsTotal,
  passDuration,
  passesTotal,
  passOverrun,
  processStartTime,
  pushRetries,
  targetFailures,
  targetsByState,
  targetsNewerOutsideRange,
  targetUpdatesTotal
} from "../metrics.ts"
import { VERSION } from "../version.ts"
import type { Decision } from "./decide.ts"
import { TARGET_STATES, targetState } from "./events.ts"
import { passFailed, type PassReport } from "./report.ts"
import { Readiness } from "./Readiness.ts"
import { WatchRouting } from "./WatchRouting.ts"

const ofPipeline = <T, I, O>(metric: Metric.Metric<T, I, O>, pipeline: Pipeline) => Metric.tagged(metric, "pipeline", pipeline.name)

export const recordPass = (pipeline: Pipeline, report: PassReport, took: Duration.Duration) =>
  Effect.gen(function* () {
    const failed = passFailed(report)
    yield* Metric.increment(Metric.tagged(ofPipeline(passesTotal, pipeline), "result", failed ? "failure" : "success"))
    yield* Metric.update(ofPipeline(passDuration, pipeline), Duration.toSeconds(took))
    // The pass completed: the schedule is alive whatever its targets' fate, which the failing gauge tells apart.
    yield* Metric.set(ofPipeline(lastPassSuccess, pipeline), (yield* Clock.currentTimeMillis) / 1000)
    yield* Metric.set(ofPipeline(failingTargets, pipeline), report.targets.filter((t) => t.outcome._tag === "Failed").length + report.failures.length)
    yield* Metric.set(imagesWatched, yield* (yield* WatchRouting).watchedImages)
  })

/** The gates' verdicts on the candidates of a pass's decisions. */
export const recordDecisions = (pipeline: Pipeline, decisions: ReadonlyArray<Decision>) =>
  Effect.forEach(
    ["passed", "held", "skipped"] as const,
    (result) => {
      const count = decisions.reduce((n, d) => n + (d.tally?.[result] ?? 0), 0)
      return count === 0 ? Effect.void : Metric.incrementBy(gateDecisions({ pipeline: pipeline.name, result }), count)
    },
    { discard: true }
  )

/**
 * A repository's targets by state after its pass. A watcher file or the repository that failed
 * whole counts as one failed target: which targets it holds cannot be known.
 */
export const recordTargets = (pipeline: Pipeline, repo: RepositoryConfig, report: PassReport) =>
  Metric.set(
    targetsNewerOutsideRange({ pipeline: pipeline.name, repo: repo.repoId }),
    report.targets.filter((t) => t.newer !== undefined && t.outcome._tag !== "Failed").length
  ).pipe(Effect.zipRight(recordTargetStates(pipeline, repo, report)))

const recordTargetStates = (pipeline: Pipeline, repo: RepositoryConfig, report: PassReport) =>
  Effect.forEach(
    TARGET_STATES,
    (state) => {
      const targets = report.targets.filter((t) => targetState(t.outcome) === state).length
      const count = state === "failed" ? targets + report.failures.length : targets
      return Metric.set(targetsByState({ pipeline: pipeline.name, repo: repo.repoId, state }), count)
    },
    { discard: true }
  )

/**
 * Every series a dashboard or an alert reads, at 0 (or as they stand, after a reload), so that
 * none needs `absent()`: reading a metric's value is enough to put it in the registry.
 */
export const registerSeries = (pipelines: ReadonlyArray<Pipeline>) =>
  Effect.gen(function* () {
    yield* Metric.set(Metric.tagged(buildInfo, "version", VERSION), 1)
    // The runtime's own start, not the first pass's: what Prometheus clients export under this name.
    yield* Metric.set(processStartTime, Math.round(performance.timeOrigin) / 1000)
    for (const outcome of ["success", "failure"]) yield* Metric.value(configReloads({ outcome }))
    yield* Metric.value(imagesWatched)
    yield* Metric.value(pushRetries)
    yield* Effect.forEach(GIT_OPERATIONS, (operation) => Metric.value(gitOperationSeconds(operation)), { discard: true })
    for (const pipeline of pipelines) {
      for (const result of ["success", "failure"]) yield* Metric.value(Metric.tagged(ofPipeline(passesTotal, pipeline), "result", result))
      yield* Metric.value(ofPipeline(lastPassSuccess, pipeline))
      yield* Metric.value(ofPipeline(failingTargets, pipeline))
      yield* Metric.set(ofPipeline(passOverrun, pipeline), 0)
      yield* Metric.value(ofPipeline(targetUpdatesTotal, pipeline))
      for (const route of pipeline.notifications ?? []) {
        for (const event of route.events) {
          for (const outcome of NOTIFICATION_OUTCOMES) yield* Metric.value(notificationsTotal({ receiver: route.receiver.name, event, outcome }))
        }
      }
      for (const { repoId: repo } of pipeline.repositories) {
        for (const reason of FAILURE_REASONS) yield* Metric.value(targetFailures({ pipeline: pipeline.name, repo, reason }))
        for (const state of TARGET_STATES) yield* Metric.value(targetsByState({ pipeline: pipeline.name, repo, state }))
        yield* Metric.value(targetsNewerOutsideRange({ pipeline: pipeline.name, repo }))
      }
    }
  })

/** `runner_pass_overrun` as things stand: read at each scrape, since an overrunning pass records nothing itself. */
export const recordOverruns = Effect.flatMap(Readiness, (readiness) => readiness.lags).pipe(
  Effect.flatMap((lags) =>
    Effect.forEach(lags, (lag) => Metric.set(Metric.tagged(passOverrun, "pipeline", lag.pipeline), lag.overrun ? 1 : 0), { discard: true })
  )
)
