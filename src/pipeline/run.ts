import { Chunk, Duration, Effect, Either, Fiber, FiberSet, Metric, Schedule, Stream } from "effect"
import type { ConfigErrors } from "../config/load.ts"
import type { Pipeline } from "../config/model.ts"
import { gitAccess } from "../git/access.ts"
import { configReloads, currentPipeline } from "../metrics.ts"
import { notifyPass, ONCE_SETTLE, settleNotifications } from "../notifications/Notifier.ts"
import { targetFields } from "./events.ts"
import { collectAll, withYoungCollected } from "./heap.ts"
import { repoPass, type PassOptions } from "./pass.ts"
import { recordPass, recordTargets, registerSeries } from "./passMetrics.ts"
import { mergeReports, passFailed, type PassReport, reportLines, type ScopeFailure } from "./report.ts"
import { coalesced, type RepoSelection, Triggers } from "./Triggers.ts"
import { Readiness } from "./Readiness.ts"

/** Repositories handled at once; each is mostly waiting on its git server. */
const REPO_CONCURRENCY = 4

/**
 * One pass over the repositories of a pipeline (all of them, or only those named in `repoIds`),
 * with the pipeline's git credentials read once for them all. A failing repository never stops the others.
 */
export const pipelinePass = (pipeline: Pipeline, options: PassOptions, repoIds?: ReadonlySet<string>) =>
  Effect.flatMap(passedRepositories(pipeline, repoIds), (repositories) =>
    repositories.length === 0
      ? Effect.succeed([])
      : Effect.flatMap(gitAccess(pipeline.git, options.dataDir, pipeline.repositories), (access) =>
          Effect.forEach(
            repositories,
            (repo) => repoPass(pipeline, repo, options, access).pipe(Effect.tap((report) => recordTargets(pipeline, repo, report))),
            { concurrency: REPO_CONCURRENCY }
          )
        )
  ).pipe(
    Effect.map(mergeReports),
    withYoungCollected,
    Effect.timed,
    Effect.tap(([took, report]) => recordPass(pipeline, report, took)),
    Effect.map(([, report]) => report),
    // Queued only: a receiver that is slow or down never holds the pass up.
    Effect.tap((report) => notifyPass(pipeline, report, options.dryRun, repoIds)),
    Effect.locally(currentPipeline, pipeline.name),
    Effect.withSpan("pipeline.pass", { attributes: { pipeline: pipeline.name } })
  )

/**
 * The repositories a pass goes through. Without image providers or chart repositories or registries there is
 * no tag or version to compare a field with, so no repository is cloned at all.
 */
const passedRepositories = (pipeline: Pipeline, repoIds: ReadonlySet<string> | undefined) =>
  pipeline.providers.length === 0 && !pipeline.chartRepositories.some((r) => r.type === "HTTP") && pipeline.chartRegistries.length === 0 && pipeline.repositories.length > 0
    ? Effect.as(Effect.logWarning("no imageProviders, HTTP chartRepositories or chartRegistries in the config: nothing to compare with, no repository is cloned").pipe(Effect.annotateLogs({ pipeline: pipeline.name })), [])
    : Effect.succeed(pipeline.repositories.filter((repo) => repoIds === undefined || repoIds.has(repo.repoId)))

/** `--once`: a single pass over every pipeline, then a few seconds at most for its notifications. */
export const runOnce = (pipelines: ReadonlyArray<Pipeline>, options: PassOptions) =>
  Effect.forEach(pipelines, (p) => pipelinePass(p, options), { concurrency: "unbounded" }).pipe(
    Effect.map(mergeReports),
    Effect.tap(() => settleNotifications(ONCE_SETTLE))
  )

const logPass = (pipeline: Pipeline, report: PassReport) => {
  // With --dry-run, the diffs a pass would have committed come first, as with --once.
  const diffs = report.diffs.flatMap((diff) => diff.trimEnd().split("\n"))
  const log = passFailed(report) ? Effect.logWarning : Effect.logInfo
  return Effect.forEach(diffs, (line) => log(line), { discard: true }).pipe(
    Effect.zipRight(
      Effect.forEach(
        reportLines(report),
        // The report's first lines are its targets', in order: each is one event with the target's
        // fields. A failed line carries its failure family, for log queries as for metrics, and
        // whether the next pass may succeed by itself (rate limits, timeouts) or needs a person.
        ({ failure, text }, i) => {
          const target = report.targets[i]
          // Nothing to do is the usual answer of every pass: it would drown what changed.
          const logLine = target?.outcome._tag === "UpToDate" || target?.outcome._tag === "Ahead" ? Effect.logDebug : log
          const fields = target !== undefined ? targetFields(target) : failure === undefined ? {} : { ...scopeFields(report.failures[i - report.targets.length]), ...failure, outcome: "failed" }
          return logLine(text).pipe(Effect.annotateLogs(fields))
        },
        { discard: true }
      )
    ),
    Effect.annotateLogs({ pipeline: pipeline.name })
  )
}

/** The repository and watcher file a failure above the targets' level names, as a log event's fields. */
const scopeFields = (scope: ScopeFailure | undefined) => ({
  ...(scope === undefined ? {} : { repo: scope.repoId }),
  ...(scope?.file === undefined ? {} : { file: scope.file })
})

/** How long a stopping daemon waits for the pass in flight before abandoning it. */
export const STOP_GRACE = Duration.seconds(20)
const STOP_POLL = Duration.millis(100)

/**
 * Service mode: the schedule stage. Each pipeline passes at once, then every `checkInterval`;
 * a notification (Triggers) passes over the repositories that watch the notified image at once.
 * What arrives while a pass runs is gathered into the next pass, whatever the number of notifications.
 * Registry tag listings are refreshed at most once per provider interval by the fetch stage's cache;
 * a tag store is read at every pass.
 * Passes of one pipeline never overlap: they share its working copies.
 *
 * Each config `reloads` brings takes over from the running one: its pipelines' schedules start
 * afresh (a first pass at once), and a pass of the old config still in flight finishes first.
 *
 * Interrupted (SIGTERM), it takes no more work and waits up to `grace` for the passes in flight,
 * then abandons them. Abandoning is safe: commits are written whole into the local clone, which
 * the next pass resets to the remote tip, and a push either lands whole or not at all. Passes run
 * detached from the stream so that its interruption does not reach them before the grace period.
 */
export const runForever = <R = never>(
  pipelines: ReadonlyArray<Pipeline>,
  options: PassOptions,
  grace: Duration.Duration = STOP_GRACE,
  reloads: Stream.Stream<ReadonlyArray<Pipeline>, never, R> = Stream.empty
) =>
  Effect.gen(function* () {
    const triggers = yield* Triggers
    const readiness = yield* Readiness
    // Passes in flight, each removed from the set as it ends; what is left when the daemon stops is drained.
    const inFlight = yield* FiberSet.make<void>()
    const detached = <R>(pass: Effect.Effect<void, never, R>) =>
      Effect.uninterruptibleMask((restore) => Effect.flatMap(FiberSet.run(inFlight, restore(pass)), (fiber) => restore(Fiber.join(fiber))))
    const drain = Effect.gen(function* () {
      if ((yield* FiberSet.size(inFlight)) === 0) return
      yield* Effect.logInfo(`stopping: letting the pass in flight finish (at most ${Duration.format(grace)})`)
      // Finalizers are not interruptible, so a timeout could not cut a wait short: poll instead.
      const finished = Effect.map(FiberSet.size(inFlight), (left) => left === 0)
      yield* finished.pipe(Effect.repeat({ schedule: Schedule.spaced(STOP_POLL).pipe(Schedule.upTo(grace)), until: (done) => done }))
      if (!(yield* finished)) yield* Effect.logWarning("stopping: abandoning the pass in flight; the next start begins again from the remote tip")
      yield* FiberSet.clear(inFlight)
    })
    // By pipeline name, across reloads: a pass of the old config and the first of the new share working copies.
    const locks = new Map<string, Effect.Semaphore>()
    const lockOf = (name: string) => {
      const lock = locks.get(name) ?? Effect.unsafeMakeSemaphore(1)
      locks.set(name, lock)
      return lock
    }
    const perPipeline = (pipeline: Pipeline) => {
      const ticks = Stream.fromSchedule(Schedule.spaced(pipeline.checkInterval)).pipe(
        Stream.prepend(Chunk.of(0)),
        Stream.as<RepoSelection>(undefined)
      )
      // While a pass runs, ticks and notifications gather into the one pass that follows it.
      return coalesced(Stream.merge(ticks, triggers.of(pipeline.name))).pipe(
        Stream.mapEffect((repoIds) =>
          detached(
            lockOf(pipeline.name).withPermits(1)(pipelinePass(pipeline, options, repoIds)).pipe(
              Effect.flatMap((report) => logPass(pipeline, report)),
              // One bad pass is logged and the next tick tries again; the service never dies of it.
              Effect.catchAllCause((cause) =>
                Effect.logError("pass failed", cause).pipe(Effect.annotateLogs({ pipeline: pipeline.name }))
              ),
              // Ready means every pipeline has been through once, whatever its targets' fate:
              // a sidecar that never turned ready over one broken target would take Piped down with it.
              Effect.zipRight(readiness.passCompleted(pipeline.name)),
              Effect.zipRight(collectAll)
            )
          )
        )
      )
    }
    const generation = (current: ReadonlyArray<Pipeline>) =>
      Stream.fromEffect(Effect.zipRight(registerSeries(current), readiness.scheduled(current))).pipe(
        Stream.drain,
        Stream.concat(Stream.mergeAll(current.map(perPipeline), { concurrency: "unbounded" }))
      )
    yield* Stream.concat(Stream.make(pipelines), reloads).pipe(
      Stream.flatMap(generation, { switch: true }),
      Stream.runDrain,
      Effect.onInterrupt(() => drain)
    )
  }).pipe(Effect.scoped)

/**
 * The configs a reload signal (SIGHUP) brings, one per signal that loads: a config that does not
 * load is logged, each problem with its file, line and key, and the running one stays.
 */
export const reloadedConfigs = <R>(signals: Stream.Stream<void>, load: Effect.Effect<ReadonlyArray<Pipeline>, ConfigErrors, R>) =>
  signals.pipe(
    Stream.mapEffect(() =>
      Effect.either(load).pipe(
        Effect.tap(
          Either.match({
            onLeft: (invalid) =>
              Effect.forEach(
                invalid.errors,
                (e) =>
                  Effect.logError(`config reload refused: ${e.display}`).pipe(
                    Effect.annotateLogs({ file: e.file, ...(e.line === undefined ? {} : { line: e.line }), key: e.path })
                  ),
                { discard: true }
              ).pipe(
                Effect.zipRight(Effect.logWarning("config reload refused: the running config stays")),
                Effect.zipRight(Metric.increment(configReloads({ outcome: "failure" })))
              ),
            onRight: (loaded) =>
              Metric.increment(configReloads({ outcome: "success" })).pipe(
                Effect.zipRight(Effect.forEach(loaded.flatMap((pipeline) => pipeline.warnings ?? []), (warning) => Effect.logWarning(`config: ${warning}`), { discard: true })),
                Effect.zipRight(Effect.logInfo(`config reloaded: ${loaded.length} pipeline(s), passing now`))
              )
          })
        )
      )
    ),
    Stream.filterMap(Either.getRight)
  )
