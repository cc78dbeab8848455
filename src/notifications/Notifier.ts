/**
 * The notifications of every pass: derived from its report and the subjects kept in the data dir
 * (`notifications.json`, so that a restart repeats nothing), then queued. A background fiber
 * drains the queue, a few deliveries at once, each retried with backoff: a pass never waits on a
 * receiver.
 */
import { FileSystem, type HttpClient, Path } from "@effect/platform"
import { Clock, Context, Duration, Effect, Layer, Metric, Queue, Ref, Schedule, Schema, Stream } from "effect"
import type { NotificationRoute, Pipeline } from "../config/model.ts"
import { readDataFile, writeDataFile } from "../dataFile.ts"
import { notificationsTotal } from "../metrics.ts"
import type { PassReport } from "../pipeline/report.ts"
import { deliver, type DeliveryError, type DeliverySettings, SLACK_API, type TimedNotice } from "./deliver.ts"
import { noticesOf, routesOf, type Subject } from "./events.ts"

/** Transient failures are tried again from 1 s, doubling, jittered, at most 30 s apart: five tries in all. */
export const DELIVERY_RETRY = Schedule.exponential("1 second").pipe(
  Schedule.jittered,
  Schedule.modifyDelay((delay) => Duration.min(delay, Duration.seconds(30))),
  Schedule.intersect(Schedule.recurs(4))
)

/** The deadline of one request to a receiver. */
export const DELIVERY_TIMEOUT = Duration.seconds(10)
/** Deliveries in flight at once: a receiver that hangs holds up only its own. */
const DELIVERY_CONCURRENCY = 4
/** Deliveries queued at most; past it, new ones are dropped and counted as failed. */
const QUEUE_CAPACITY = 1_000
const SETTLE_POLL = Duration.millis(50)

export interface NotifierOptions {
  readonly dataDir: string
  /** Slack's Web API (tests point it at loopback). */
  readonly slackApi?: string
  readonly timeout?: Duration.Duration
  readonly retry?: Schedule.Schedule<unknown, DeliveryError>
}

export interface NotifierService {
  /** Tells the receivers of `pipeline` what its pass did over `repoIds` (all its repositories when undefined); never fails, never waits on a receiver. */
  readonly afterPass: (pipeline: Pipeline, report: PassReport, repoIds?: ReadonlySet<string>) => Effect.Effect<void>
  /** Waits for the queue to empty, at most `within`; what is still queued then is given up, in a warning. */
  readonly settle: (within: Duration.Duration) => Effect.Effect<void>
}

const StoredSubject = Schema.Struct({
  pipeline: Schema.String,
  repo: Schema.String,
  scope: Schema.optionalWith(Schema.String, { exact: true }),
  failing: Schema.Boolean,
  held: Schema.optionalWith(Schema.String, { exact: true }),
  seen: Schema.Number
})
const Stored = Schema.Struct({ subjects: Schema.Record({ key: Schema.String, value: StoredSubject }) })

interface Delivery {
  readonly route: NotificationRoute
  readonly notice: TimedNotice
}

const count = (d: Delivery, outcome: "sent" | "retried" | "failed", by = 1) =>
  by === 0 ? Effect.void : Metric.incrementBy(notificationsTotal({ receiver: d.route.receiver.name, event: d.notice.event, outcome }), by)

const make = (options: NotifierOptions) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const context = yield* Effect.context<HttpClient.HttpClient | FileSystem.FileSystem>()
    const file = path.join(options.dataDir, "notifications.json")
    const settings: DeliverySettings = { slackApi: (options.slackApi ?? SLACK_API).replace(/\/+$/, ""), timeout: options.timeout ?? DELIVERY_TIMEOUT }
    const retry = options.retry ?? DELIVERY_RETRY
    const queue = yield* Queue.dropping<Delivery>(QUEUE_CAPACITY)
    const pending = yield* Ref.make(0)
    const lock = yield* Effect.makeSemaphore(1)
    let kept: ReadonlyMap<string, Subject> | undefined

    const send = (d: Delivery) =>
      Effect.gen(function* () {
        let tries = 0
        const attempt = Effect.suspend(() => {
          tries += 1
          return deliver(d.route.receiver, d.notice, settings)
        })
        const result = yield* Effect.either(Effect.retry(attempt, retry.pipe(Schedule.whileInput((e: DeliveryError) => e.transient))))
        yield* count(d, "retried", tries - 1)
        if (result._tag === "Right") return yield* count(d, "sent")
        yield* count(d, "failed")
        yield* Effect.logWarning(`notification not delivered: ${result.left.message}`).pipe(
          Effect.annotateLogs({ receiver: d.route.receiver.name, event: d.notice.event, tries })
        )
      }).pipe(Effect.provide(context), Effect.ensuring(Ref.update(pending, (n) => n - 1)))

    yield* Stream.fromQueue(queue).pipe(Stream.mapEffect(send, { concurrency: DELIVERY_CONCURRENCY, unordered: true }), Stream.runDrain, Effect.forkScoped)

    const enqueue = (d: Delivery) =>
      Ref.update(pending, (n) => n + 1).pipe(
        Effect.zipRight(Queue.offer(queue, d)),
        Effect.flatMap((queued) =>
          queued
            ? Effect.void
            : Ref.update(pending, (n) => n - 1).pipe(
              Effect.zipRight(count(d, "failed")),
              Effect.zipRight(Effect.logWarning(`notification dropped: ${QUEUE_CAPACITY} are queued already`).pipe(Effect.annotateLogs({ receiver: d.route.receiver.name })))
            )
        )
      )

    const load = Effect.suspend(() =>
      kept !== undefined
        ? Effect.succeed(kept)
        : readDataFile(file, Stored, "the notifications sent").pipe(
          Effect.map((stored) => new Map(Object.entries(stored?.subjects ?? {}))),
          Effect.provideService(FileSystem.FileSystem, fs)
        )
    )

    const keep = (after: ReadonlyMap<string, Subject>) =>
      writeDataFile(file, { subjects: Object.fromEntries(after) }).pipe(
        Effect.catchAll((e) => Effect.logWarning(`cannot keep the notifications sent in ${file}: ${e.message}`)),
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.provideService(Path.Path, path)
      )

    const afterPass: NotifierService["afterPass"] = (pipeline, report, repoIds) => {
      const routes = pipeline.notifications ?? []
      if (routes.length === 0) return Effect.void
      const remotes = new Map(pipeline.repositories.map((r) => [r.repoId, r.remote]))
      return lock.withPermits(1)(
        Effect.gen(function* () {
          const before = yield* load
          const now = yield* Clock.currentTimeMillis
          const scope = { pipeline: pipeline.name, remoteOf: (repoId: string) => remotes.get(repoId), ...(repoIds === undefined ? {} : { repoIds }) }
          const { notices, kept: after } = noticesOf(report, scope, before, now)
          kept = after
          const changed = notices.length > 0 || after.size !== before.size || [...after.keys()].some((key) => !before.has(key))
          if (changed) yield* keep(after)
          const time = new Date(now).toISOString()
          for (const notice of notices) {
            for (const route of routesOf(notice, routes)) yield* enqueue({ route, notice: { ...notice, time } })
          }
        })
      )
    }

    const settle: NotifierService["settle"] = (within) =>
      Effect.gen(function* () {
        const idle = Effect.map(Ref.get(pending), (n) => n === 0)
        yield* idle.pipe(Effect.repeat({ schedule: Schedule.spaced(SETTLE_POLL).pipe(Schedule.upTo(within)), until: (done) => done }))
        const left = yield* Ref.get(pending)
        if (left > 0) yield* Effect.logWarning(`${left} notification(s) not delivered within ${Duration.format(within)}; giving them up`)
      })

    return { afterPass, settle } satisfies NotifierService
  })

export class Notifier extends Context.Tag("Notifier")<Notifier, NotifierService>() {
  /** Needs an HttpClient to reach receivers; the queue's fiber lives as long as the layer. */
  static readonly layer = (options: NotifierOptions): Layer.Layer<Notifier, never, HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
    Layer.scoped(Notifier, make(options))
}

/** How long `--once` waits at its end for the notifications still queued. */
export const ONCE_SETTLE = Duration.seconds(5)

/** The pass's notifications, when a Notifier is there to send them; a dry run tells nothing. */
export const notifyPass = (pipeline: Pipeline, report: PassReport, dryRun: boolean, repoIds?: ReadonlySet<string>) =>
  dryRun
    ? Effect.void
    : Effect.flatMap(Effect.serviceOption(Notifier), (notifier) => (notifier._tag === "Some" ? notifier.value.afterPass(pipeline, report, repoIds) : Effect.void))

/** Waits for the queued notifications, at most `within`, when a Notifier is there. */
export const settleNotifications = (within: Duration.Duration) =>
  Effect.flatMap(Effect.serviceOption(Notifier), (notifier) => (notifier._tag === "Some" ? notifier.value.settle(within) : Effect.void))
