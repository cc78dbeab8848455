import { Clock, Context, Duration, Effect, Layer, Option, Ref } from "effect"

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
  /** The repositories the pipeline watches, whose series /metrics shows. */
  readonly repos: ReadonlySet<string>
  /** Monotonic nanoseconds of the last completed pass, or of the schedule's start before the first. */
  readonly progress: bigint
}

interface State {
  readonly passed: ReadonlySet<string>
  readonly schedules: ReadonlyMap<string, Schedule>
}

/**
 * How the daemon's passes keep up: which pipelines completed a first pass, and whether each
 * pipeline's passes keep up with its schedule. Readiness and the overrun metric read it.
 */
export class Readiness extends Context.Tag("Readiness")<
  Readiness,
  {
    readonly passCompleted: (pipeline: string) => Effect.Effect<void>
    /** How many distinct pipelines have completed a pass. */
    readonly completedPipelines: Effect.Effect<number>
    /** The pipelines the schedule now runs (a reload replaces them), each counted from now. */
    readonly scheduled: (
      pipelines: ReadonlyArray<{
        readonly name: string
        readonly checkInterval: Duration.Duration
        readonly repositories?: ReadonlyArray<{ readonly repoId: string }>
      }>
    ) => Effect.Effect<void>
    /** The repositories of each scheduled pipeline, by its name; None before the schedule starts. */
    readonly watched: Effect.Effect<Option.Option<ReadonlyMap<string, ReadonlySet<string>>>>
    /** Each scheduled pipeline's time since its last completed pass (or since it was scheduled). */
    readonly lags: Effect.Effect<ReadonlyArray<PassLag>>
  }
>() {
  static readonly layer = Layer.effect(
    Readiness,
    Effect.gen(function* () {
      const state = yield* Ref.make<State>({ passed: new Set(), schedules: new Map() })
      // Monotonic: a wall clock set back or forward changes nothing.
      const now = Clock.currentTimeNanos
      return {
        passCompleted: (pipeline) =>
          Effect.flatMap(now, (at) =>
            Ref.update(state, (s) => {
              const schedule = s.schedules.get(pipeline)
              const schedules = schedule === undefined ? s.schedules : new Map(s.schedules).set(pipeline, { ...schedule, progress: at })
              return { passed: new Set(s.passed).add(pipeline), schedules }
            })
          ),
        completedPipelines: Ref.get(state).pipe(Effect.map((s) => s.passed.size)),
        scheduled: (pipelines) =>
          Effect.flatMap(now, (at) =>
            Ref.update(state, (s) => ({
              ...s,
              schedules: new Map(
                pipelines.map((p) => [p.name, { interval: p.checkInterval, repos: new Set((p.repositories ?? []).map((r) => r.repoId)), progress: at }])
              )
            }))
          ),
        watched: Effect.map(Ref.get(state), (s) =>
          s.schedules.size === 0 ? Option.none() : Option.some(new Map([...s.schedules].map(([name, schedule]) => [name, schedule.repos])))
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
