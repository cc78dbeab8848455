import { Chunk, Effect, Schedule, Stream } from "effect"
import type { Pipeline } from "../config/model.ts"
import { repoPass, type PassOptions } from "./pass.ts"
import { formatReport, mergeReports, passFailed, type PassReport } from "./report.ts"

/** Repositories handled at once; each is mostly waiting on its git server. */
const REPO_CONCURRENCY = 4

/** One pass over every repository of a pipeline. A failing repository never stops the others. */
export const pipelinePass = (pipeline: Pipeline, options: PassOptions) =>
  Effect.forEach(pipeline.repositories, (repo) => repoPass(pipeline, repo, options), { concurrency: REPO_CONCURRENCY }).pipe(
    Effect.map(mergeReports),
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

/**
 * Service mode: the schedule stage. Each pipeline passes at once, then every `checkInterval`;
 * tag listings are refreshed at most once per provider interval by the fetch stage's cache.
 */
export const runForever = (pipelines: ReadonlyArray<Pipeline>, options: PassOptions) =>
  Stream.mergeAll(
    pipelines.map((pipeline) =>
      Stream.fromSchedule(Schedule.spaced(pipeline.checkInterval)).pipe(
        Stream.prepend(Chunk.of(0)),
        Stream.mapEffect(() =>
          pipelinePass(pipeline, options).pipe(
            Effect.flatMap((report) => logPass(pipeline, report)),
            // One bad pass is logged and the next tick tries again; the service never dies of it.
            Effect.catchAllCause((cause) =>
              Effect.logError("pass failed", cause).pipe(Effect.annotateLogs({ pipeline: pipeline.name }))
            )
          )
        )
      )
    ),
    { concurrency: "unbounded" }
  ).pipe(Stream.runDrain)
