import { Chunk, Clock, Duration, Effect, Fiber, Metric, Schedule, Stream } from "effect"
import type { Pipeline } from "../config/model.ts"
import { lastPassSuccess, passDuration, passesTotal } from "../metrics.ts"
import { repoPass, type PassOptions } from "./pass.ts"
import { formatReport, mergeReports, passFailed, type PassReport } from "./report.ts"
import { Triggers } from "./Triggers.ts"
import { WatchIndex } from "./WatchIndex.ts"

/** Repositories handled at once; each is mostly waiting on its git server. */
const REPO_CONCURRENCY = 4

const recordPass = (pipeline: Pipeline, report: PassReport, took: Duration.Duration) =>
  Effect.gen(function* () {
    const failed = passFailed(report)
    const tagged = <T, I, O>(metric: Metric.Metric<T, I, O>) => Metric.tagged(metric, "pipeline", pipeline.name)
    yield* Metric.increment(Metric.tagged(tagged(passesTotal), "result", failed ? "failure" : "success"))
    yield* Metric.update(tagged(passDuration), Duration.toSeconds(took))
    if (!failed) yield* Metric.set(tagged(lastPassSuccess), (yield* Clock.currentTimeMillis) / 1000)
  })

/**
 * One pass over the repositories of a pipeline (all of them, or only those named in `repoIds`).
 * A failing repository never stops the others.
 */
export const pipelinePass = (pipeline: Pipeline, options: PassOptions, repoIds?: ReadonlySet<string>) =>
  Effect.forEach(
    pipeline.repositories.filter((repo) => repoIds === undefined || repoIds.has(repo.repoId)),
    (repo) => repoPass(pipeline, repo, options),
    { concurrency: REPO_CONCURRENCY }
  ).pipe(
    Effect.map(mergeReports),
    Effect.timed,
    Effect.tap(([took, report]) => recordPass(pipeline, report, took)),
    Effect.map(([, report]) => report),
    Effect.withSpan("pipeline.pass", { attributes: { pipeline: pipeline.name } })
  )

/** `--once`: a single pass over every pipeline. */
export const runOnce = (pipelines: ReadonlyArray<Pipeline>, options: PassOptions) =>
  Effect.forEach(pipelines, (p) => pipelinePass(p, options), { concurrency: "unbounded" }).pipe(Effect.map(mergeReports))

const logPass = (pipeline: Pipeline, report: PassReport) => {
  const summary = formatReport(report).trimEnd().split("\n")
  const log = passFailed(report) ? Effect.logWarning : Effect.logInfo
  return Effect.forEach(summary, (line) => log(line), { discard: true }).pipe(Effect.annotateLogs({ pipeline: pipeline.name }))
}

/** How long a stopping daemon waits for the pass in flight before abandoning it. */
export const STOP_GRACE = Duration.seconds(20)

/**
 * Runs `pass` so that an interruption (SIGTERM) first waits up to `grace` for it to finish, then
 * abandons it. Abandoning is safe: commits are only written into the local clone, which the next
 * pass resets to the remote tip, and a push either lands whole or not at all.
 */
const finishOrAbandon = <A, E, R>(pass: Effect.Effect<A, E, R>, grace: Duration.Duration) =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(restore(pass))
      return yield* restore(Fiber.join(fiber)).pipe(
        Effect.onInterrupt(() =>
          Effect.logInfo(`stopping: letting the pass in flight finish (at most ${Duration.format(grace)})`).pipe(
            Effect.zipRight(Fiber.await(fiber).pipe(Effect.timeout(grace), Effect.ignore)),
            Effect.zipRight(Fiber.interrupt(fiber))
          )
        )
      )
    })
  )

/**
 * Service mode: the schedule stage. Each pipeline passes at once, then every `checkInterval`;
 * a notification (Triggers) passes over the repositories that watch the notified image at once.
 * Tag listings are refreshed at most once per provider interval by the fetch stage's cache.
 * Passes of one pipeline never overlap: they share its working copies.
 */
export const runForever = (pipelines: ReadonlyArray<Pipeline>, options: PassOptions, grace: Duration.Duration = STOP_GRACE) =>
  Effect.gen(function* () {
    const triggers = yield* Triggers
    const index = yield* WatchIndex
    const perPipeline = (pipeline: Pipeline) => {
      const ticks = Stream.fromSchedule(Schedule.spaced(pipeline.checkInterval)).pipe(
        Stream.prepend(Chunk.of(0)),
        Stream.as<ReadonlySet<string> | undefined>(undefined)
      )
      return Stream.merge(ticks, triggers.of(pipeline.name)).pipe(
        Stream.mapEffect((repoIds) =>
          finishOrAbandon(
            pipelinePass(pipeline, options, repoIds).pipe(
              Effect.flatMap((report) => logPass(pipeline, report)),
              // One bad pass is logged and the next tick tries again; the service never dies of it.
              Effect.catchAllCause((cause) =>
                Effect.logError("pass failed", cause).pipe(Effect.annotateLogs({ pipeline: pipeline.name }))
              ),
              // Ready means every pipeline has been through once, whatever its targets' fate:
              // a sidecar that never turned ready over one broken target would take Piped down with it.
              Effect.zipRight(index.passCompleted(pipeline.name))
            ),
            grace
          )
        )
      )
    }
    yield* Stream.mergeAll(pipelines.map(perPipeline), { concurrency: "unbounded" }).pipe(Stream.runDrain)
  })
