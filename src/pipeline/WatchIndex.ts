import { Clock, Context, Duration, Effect, Layer, Ref } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"

/** A repository of a pipeline that watches an image through a provider. */
export interface Watch {
  readonly pipeline: string
  readonly repoId: string
  readonly provider: ProviderConfig
  readonly image: ImageRef
}

/**
 * A pipeline whose schedule is this many intervals behind is overrunning: its pass has been
 * running (or waiting for the one before it) that long. One late pass is no alarm; ten intervals
 * without one completing is a stuck pass, a hung server or a schedule that stopped.
 */
export const OVERRUN_INTERVALS = 10

/** How long a scheduled pipeline has gone without completing a pass; `overrun` past `OVERRUN_INTERVALS` of its interval. */
export interface PassLag {
  readonly pipeline: string
  readonly since: Duration.Duration
  readonly interval: Duration.Duration
  readonly overrun: boolean
}

interface Schedule {
  readonly interval: Duration.Duration
  /** Monotonic nanoseconds of the last completed pass, or of the schedule's start before the first. */
  readonly progress: bigint
}

interface State {
  /** Keyed by pipeline and repository: each pass replaces what its repository watches. */
  readonly watches: ReadonlyMap<string, ReadonlyArray<Watch>>
  readonly passed: ReadonlySet<string>
  readonly schedules: ReadonlyMap<string, Schedule>
}

/**
 * What the daemon has learned from its passes: which repositories watch which images (known only
 * once their watcher files were read), which pipelines completed a first pass (readiness), and
 * whether each pipeline's passes keep up with its schedule.
 */
export class WatchIndex extends Context.Tag("WatchIndex")<
  WatchIndex,
  {
    /** Replaces what one repository of a pipeline watches. */
    readonly record: (pipeline: string, repoId: string, watches: ReadonlyArray<Watch>) => Effect.Effect<void>
    /** The watches of an image, matched by registry and repository. */
    readonly find: (image: ImageRef) => Effect.Effect<ReadonlyArray<Watch>>
    /** The watches of an image matched by repository path alone, whatever registry host the watcher file names. */
    readonly findByRepository: (repository: string) => Effect.Effect<ReadonlyArray<Watch>>
    readonly passCompleted: (pipeline: string) => Effect.Effect<void>
    /** How many distinct pipelines have completed a pass. */
    readonly completedPipelines: Effect.Effect<number>
    /** How many distinct images the recorded watches name. */
    readonly watchedImages: Effect.Effect<number>
    /** The pipelines the schedule now runs (a reload replaces them), each counted from now. */
    readonly scheduled: (pipelines: ReadonlyArray<{ readonly name: string; readonly checkInterval: Duration.Duration }>) => Effect.Effect<void>
    /** Each scheduled pipeline's time since its last completed pass (or since it was scheduled). */
    readonly lags: Effect.Effect<ReadonlyArray<PassLag>>
  }
>() {
  static readonly layer = Layer.effect(
    WatchIndex,
    Effect.gen(function* () {
      const state = yield* Ref.make<State>({ watches: new Map(), passed: new Set(), schedules: new Map() })
      // Monotonic: a wall clock set back or forward changes nothing.
      const now = Clock.currentTimeNanos
      const all = Ref.get(state).pipe(Effect.map((s) => [...s.watches.values()].flat()))
      return {
        record: (pipeline, repoId, watches) =>
          Ref.update(state, (s) => ({ ...s, watches: new Map(s.watches).set(`${pipeline}\u0000${repoId}`, watches) })),
        find: (image) => all.pipe(Effect.map((ws) => ws.filter((w) => imageName(w.image) === imageName(image)))),
        findByRepository: (repository) => all.pipe(Effect.map((ws) => ws.filter((w) => w.image.repository === repository))),
        passCompleted: (pipeline) =>
          Effect.flatMap(now, (at) =>
            Ref.update(state, (s) => {
              const schedule = s.schedules.get(pipeline)
              const schedules = schedule === undefined ? s.schedules : new Map(s.schedules).set(pipeline, { ...schedule, progress: at })
              return { ...s, passed: new Set(s.passed).add(pipeline), schedules }
            })
          ),
        completedPipelines: Ref.get(state).pipe(Effect.map((s) => s.passed.size)),
        watchedImages: all.pipe(Effect.map((ws) => new Set(ws.map((w) => imageName(w.image))).size)),
        scheduled: (pipelines) =>
          Effect.flatMap(now, (at) =>
            Ref.update(state, (s) => ({ ...s, schedules: new Map(pipelines.map((p) => [p.name, { interval: p.checkInterval, progress: at }])) }))
          ),
        lags: Effect.flatMap(now, (at) =>
          Effect.map(Ref.get(state), (s) =>
            [...s.schedules].map(([pipeline, { interval, progress }]) => {
              const since = Duration.nanos(at - progress)
              return { pipeline, since, interval, overrun: Duration.greaterThan(since, Duration.times(interval, OVERRUN_INTERVALS)) }
            })
          )
        )
      }
    })
  )
}
