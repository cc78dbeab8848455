import { Context, Effect, Layer, PubSub, Stream } from "effect"

/** A request to pass over some repositories of a pipeline now, instead of at its next tick. */
export interface Trigger {
  readonly pipeline: string
  readonly repoIds: ReadonlySet<string>
}

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
