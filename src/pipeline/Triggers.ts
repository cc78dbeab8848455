import { Context, Effect, Layer, PubSub, Sink, Stream } from "effect"

/** A request to pass over some repositories of a pipeline now, instead of at its next tick. */
export interface Trigger {
  readonly pipeline: string
  readonly repoIds: ReadonlySet<string>
}

/** The repositories a pass goes over: these, or `undefined` for all of the pipeline's. */
export type RepoSelection = ReadonlySet<string> | undefined

/** Both selections' repositories; all of them when either asks for all. */
export const unionSelection = (a: RepoSelection, b: RepoSelection): RepoSelection =>
  a === undefined || b === undefined ? undefined : a.size === 0 ? b : b.size === 0 ? a : new Set([...a, ...b])

const NONE: RepoSelection = new Set<string>()

/**
 * What arrives while the consumer is busy (a pass runs) becomes one selection, handed over when it
 * asks for the next: three hundred notifications during a pass make one more pass, not three hundred.
 */
export const coalesced = <E, R>(selections: Stream.Stream<RepoSelection, E, R>): Stream.Stream<RepoSelection, E, R> =>
  selections.pipe(
    Stream.aggregate(Sink.foldLeft(NONE, unionSelection)),
    Stream.filter((selection) => selection === undefined || selection.size > 0)
  )

/** Notifications (API, webhooks) reach the daemon's schedule stage through here. */
export class Triggers extends Context.Tag("Triggers")<
  Triggers,
  {
    readonly fire: (trigger: Trigger) => Effect.Effect<void>
    /** The repositories of one pipeline to check at once, as triggers arrive. */
    readonly of: (pipeline: string) => Stream.Stream<ReadonlySet<string>>
  }
>() {
  static readonly layer = Layer.effect(
    Triggers,
    Effect.gen(function* () {
      const hub = yield* PubSub.unbounded<Trigger>()
      return {
        fire: (trigger) => PubSub.publish(hub, trigger).pipe(Effect.asVoid),
        of: (pipeline) =>
          Stream.fromPubSub(hub).pipe(
            Stream.filter((t) => t.pipeline === pipeline),
            Stream.map((t) => t.repoIds)
          )
      }
    })
  )
}
