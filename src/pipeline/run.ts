import { Chunk, Clock, Duration, Effect, Fiber, Metric, Option, Ref, Schedule, Stream } from "effect"
import type { Pipeline } from "../config/model.ts"
import { lastPassSuccess, passDuration, passesTotal } from "../metrics.ts"
import { gitAccess } from "../git/access.ts"
import { repoPass, type PassOptions } from "./pass.ts"
import { mergeReports, passFailed, type PassReport, reportLines } from "./report.ts"
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
 * One pass over the repositories of a pipeline (all of them, or only those named in `repoIds`),
 * with the pipeline's git credentials read once for them all. A failing repository never stops the others.
 */
export const pipelinePass = (pipeline: Pipeline, options: PassOptions, repoIds?: ReadonlySet<string>) =>
  Effect.flatMap(gitAccess(pipeline.git, options.dataDir, pipeline.repositories), (access) =>
    Effect.forEach(
      pipeline.repositories.filter((repo) => repoIds === undefined || repoIds.has(repo.repoId)),
      (repo) => repoPass(pipeline, repo, options, access),
      { concurrency: REPO_CONCURRENCY }
    )
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
  // With --dry-run, the diffs a pass would have committed come first, as with --once.
  const diffs = report.diffs.flatMap((diff) => diff.trimEnd().split("\n"))
  const log = passFailed(report) ? Effect.logWarning : Effect.logInfo
  return Effect.forEach(diffs, (line) => log(line), { discard: true }).pipe(
    Effect.zipRight(
      Effect.forEach(
        reportLines(report),
        // A failed target's line carries its failure family, for log queries as for metrics, and
        // whether the next pass may succeed by itself (rate limits, timeouts) or needs a person.
        ({ failure, text }) =>
          failure === undefined ? log(text) : log(text).pipe(Effect.annotateLogs({ reason: failure.reason, transient: failure.transient })),
        { discard: true }
      )
    ),
    Effect.annotateLogs({ pipeline: pipeline.name })
  )
}

/** How long a stopping daemon waits for the pass in flight before abandoning it. */
export const STOP_GRACE = Duration.seconds(20)
const STOP_POLL = Duration.millis(100)

/**
 * Service mode: the schedule stage. Each pipeline passes at once, then every `checkInterval`;
 * a notification (Triggers) passes over the repositories that watch the notified image at once.
 * Tag listings are refreshed at most once per provider interval by the fetch stage's cache.
 * Passes of one pipeline never overlap: they share its working copies.
 *
 * Interrupted (SIGTERM), it takes no more work and waits up to `grace` for the passes in flight,
 * then abandons them. Abandoning is safe: commits are written whole into the local clone, which
 * the next pass resets to the remote tip, and a push either lands whole or not at all. Passes run
 * detached from the stream so that its interruption does not reach them before the grace period.
 */
export const runForever = (pipelines: ReadonlyArray<Pipeline>, options: PassOptions, grace: Duration.Duration = STOP_GRACE) =>
  Effect.gen(function* () {
    const triggers = yield* Triggers
    const index = yield* WatchIndex
    const inFlight = yield* Ref.make<ReadonlySet<Fiber.RuntimeFiber<void>>>(new Set())
    const detached = <R>(pass: Effect.Effect<void, never, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkDaemon(restore(pass))
          yield* Ref.update(inFlight, (s) => new Set(s).add(fiber))
          yield* restore(Fiber.join(fiber))
          yield* Ref.update(inFlight, (s) => new Set([...s].filter((f) => f !== fiber)))
        })
      )
    const drain = Effect.gen(function* () {
      const fibers = [...(yield* Ref.get(inFlight))]
      if (fibers.length === 0) return
      yield* Effect.logInfo(`stopping: letting the pass in flight finish (at most ${Duration.format(grace)})`)
      // Finalizers are not interruptible, so a timeout could not cut a wait short: poll instead.
      const finished = Effect.forEach(fibers, Fiber.poll).pipe(Effect.map((polls) => polls.every(Option.isSome)))
      yield* finished.pipe(Effect.repeat({ schedule: Schedule.spaced(STOP_POLL).pipe(Schedule.upTo(grace)), until: (done) => done }))
      if (!(yield* finished)) yield* Effect.logWarning("stopping: abandoning the pass in flight; the next start begins again from the remote tip")
      yield* Fiber.interruptAll(fibers)
    })
    const perPipeline = (pipeline: Pipeline) => {
      const ticks = Stream.fromSchedule(Schedule.spaced(pipeline.checkInterval)).pipe(
        Stream.prepend(Chunk.of(0)),
        Stream.as<ReadonlySet<string> | undefined>(undefined)
      )
      return Stream.merge(ticks, triggers.of(pipeline.name)).pipe(
        Stream.mapEffect((repoIds) =>
          detached(
            pipelinePass(pipeline, options, repoIds).pipe(
              Effect.flatMap((report) => logPass(pipeline, report)),
              // One bad pass is logged and the next tick tries again; the service never dies of it.
              Effect.catchAllCause((cause) =>
                Effect.logError("pass failed", cause).pipe(Effect.annotateLogs({ pipeline: pipeline.name }))
              ),
              // Ready means every pipeline has been through once, whatever its targets' fate:
              // a sidecar that never turned ready over one broken target would take Piped down with it.
              Effect.zipRight(index.passCompleted(pipeline.name))
            )
          )
        )
      )
    }
    yield* Stream.mergeAll(pipelines.map(perPipeline), { concurrency: "unbounded" }).pipe(
      Stream.runDrain,
      Effect.onInterrupt(() => drain)
    )
  })
