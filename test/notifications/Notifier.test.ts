/** Notifications delivered to Slack and webhook receivers on loopback: signatures, retries, deduplication across passes and restarts. */
import { afterEach, describe, expect, test } from "bun:test"
import { createServer, type IncomingMessage } from "node:http"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Duration, Effect, Layer, Metric, Redacted, Schedule } from "effect"
import type { NotificationRoute, Pipeline, Receiver } from "../../src/config/model.ts"
import { NoCandidateFailure } from "../../src/domain/failures.ts"
import { notificationsTotal } from "../../src/metrics.ts"
import { deliver } from "../../src/notifications/deliver.ts"
import { Notifier } from "../../src/notifications/Notifier.ts"
import type { PassReport, TargetReport } from "../../src/pipeline/report.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"
import { tempDir } from "../support/tempDirs.ts"
import { writeFileSync } from "node:fs"

interface Received {
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: unknown
}

const servers: Array<Listening> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

/** A receiver on loopback: `answer` says what each request (from 0) gets, once `hold` (if any) is resolved. */
const receiverServer = async (answer: (n: number) => { readonly status: number; readonly body?: unknown } = () => ({ status: 200 }), hold?: Promise<void>) => {
  const received: Array<Received> = []
  const server = createServer((req, res) => {
    let text = ""
    req.on("data", (chunk: Buffer) => (text += chunk.toString()))
    req.on("end", () => {
      const n = received.length
      received.push({ url: req.url ?? "", headers: req.headers, body: JSON.parse(text) })
      const { status, body } = answer(n)
      void (hold ?? Promise.resolve()).then(() => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body ?? { ok: true })))
    })
  })
  const listening = await listenOnLoopback(server)
  servers.push(listening)
  return { ...listening, received }
}

const route = (receiver: Receiver, events: NotificationRoute["events"] = ["updated", "held", "failed", "recovered"]): NotificationRoute => ({
  receiver,
  events,
  source: { file: "piped.yaml", line: 1 }
})

const pipelineWith = (routes: ReadonlyArray<NotificationRoute>): Pipeline => ({
  name: "piped.yaml",
  file: "piped.yaml",
  git: { username: "piped", email: "p@example.com" },
  repositories: [{ repoId: "config", remote: "https://github.com/acme/config.git", branch: "main", source: { file: "piped.yaml", line: 5 } }],
  providers: [],
  chartRepositories: [],
  chartRegistries: [],
  checkInterval: Duration.minutes(5),
  watchedRepos: [],
  gates: [],
  notifications: routes
})

const target = (outcome: TargetReport["outcome"]): TargetReport => ({
  pipeline: "piped.yaml",
  repoId: "config",
  watcherFile: ".pipe/w.yaml",
  line: 3,
  filePath: "deploy/app.yaml",
  field: "spec.image",
  image: "ghcr.io/acme/app",
  current: "1.0.0",
  chosen: outcome._tag === "Updated" ? "1.1.0" : "1.0.0",
  listed: 2,
  kept: 2,
  outcome
})

const report = (...targets: Array<TargetReport>): PassReport => ({ targets, failures: [], diffs: [] })
const updated = report(target({ _tag: "Updated", commit: "0123456789abcdef" }))
const failing = report(target({ _tag: "Failed", failure: new NoCandidateFailure({ detail: "no tag matches ^1\\." }) }))
const fine = report(target({ _tag: "UpToDate" }))

/** A Notifier on `dataDir` whose retries are quick, run over `body`. */
const withNotifier = <A>(dataDir: string, body: Effect.Effect<A, never, Notifier>, slackApi?: string) =>
  Effect.runPromise(
    body.pipe(
      Effect.provide(
        Notifier.layer({
          dataDir,
          ...(slackApi === undefined ? {} : { slackApi }),
          timeout: Duration.seconds(2),
          retry: Schedule.spaced("20 millis").pipe(Schedule.intersect(Schedule.recurs(3)))
        }).pipe(Layer.provide(FetchHttpClient.layer), Layer.provide(NodeContext.layer))
      )
    )
  )

const pass = (pipeline: Pipeline, passReport: PassReport) =>
  Effect.flatMap(Notifier, (n) => n.afterPass(pipeline, passReport)).pipe(Effect.zipRight(Effect.flatMap(Notifier, (n) => n.settle(Duration.seconds(5)))))

const counted = (receiver: string, event: string, outcome: string) =>
  Effect.runPromise(Metric.value(notificationsTotal({ receiver, event, outcome }))).then((state) => state.count)

describe("receivers", () => {
  test("a webhook gets the event's fields, and Piped's signature header from a file read at delivery", async () => {
    const server = await receiverServer()
    const dir = tempDir("runner-notify-")
    writeFileSync(`${dir}/sig`, "first\n")
    const hooks = route({ _tag: "Webhook", name: "wh-signed", url: Redacted.make(`${server.url}/in`), signatureKey: "PipeCD-Signature", signature: { _tag: "File", file: `${dir}/sig` } })
    await withNotifier(dir, pass(pipelineWith([hooks]), updated))
    writeFileSync(`${dir}/sig`, "rotated\n")
    await withNotifier(dir, pass(pipelineWith([hooks]), updated))
    expect(server.received.map((r) => r.headers["pipecd-signature"])).toEqual(["first", "rotated"])
    expect(server.received[0]?.body).toMatchObject({
      event: "updated",
      pipeline: "piped.yaml",
      repo: "config",
      image: "ghcr.io/acme/app",
      from: "1.0.0",
      to: "1.1.0",
      file: "deploy/app.yaml",
      field: "spec.image",
      commit: "0123456789abcdef",
      url: "https://github.com/acme/config/commit/0123456789abcdef",
      reason: null,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/)
    })
    expect(await counted("wh-signed", "updated", "sent")).toBe(2)
  })

  test("Slack by hook URL: {text}; by token: chat.postMessage with a bearer token, ok:false a failure", async () => {
    const hook = await receiverServer()
    const api = await receiverServer((n) => (n === 0 ? { status: 200, body: { ok: true } } : { status: 200, body: { ok: false, error: "channel_not_found" } }))
    const dir = tempDir("runner-notify-")
    writeFileSync(`${dir}/token`, "xoxb-secret\n")
    const routes = [
      route({ _tag: "SlackHook", name: "slack-hook", hookURL: Redacted.make(`${hook.url}/services/T/B/X`), mentions: [] }),
      route({ _tag: "SlackApi", name: "slack-bot", token: { _tag: "File", file: `${dir}/token` }, channelID: "C123", mentions: ["<@alice>"] })
    ]
    await withNotifier(dir, Effect.zipRight(pass(pipelineWith(routes), updated), pass(pipelineWith(routes), updated)), api.url)
    expect(hook.received.map((r) => [r.url, r.body])).toEqual([
      ["/services/T/B/X", { text: "*Updated* ghcr.io/acme/app 1.0.0 → 1.1.0 in config/deploy/app.yaml (spec.image) <https://github.com/acme/config/commit/0123456789abcdef|0123456>" }],
      ["/services/T/B/X", expect.anything()]
    ])
    expect(api.received.map((r) => [r.url, r.headers.authorization, (r.body as { channel: string }).channel])).toEqual([
      ["/chat.postMessage", "Bearer xoxb-secret", "C123"],
      ["/chat.postMessage", "Bearer xoxb-secret", "C123"]
    ])
    expect(await counted("slack-bot", "updated", "sent")).toBe(1)
    expect(await counted("slack-bot", "updated", "failed")).toBe(1)
  })

  test("a receiver that is down, then back: retried and counted, the pass not held up", async () => {
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    const server = await receiverServer((n) => ({ status: n < 2 ? 503 : 200 }), released)
    const dir = tempDir("runner-notify-")
    const down = route({ _tag: "Webhook", name: "wh-down", url: Redacted.make(server.url), signatureKey: "PipeCD-Signature" })
    await withNotifier(
      dir,
      Effect.gen(function* () {
        const notifier = yield* Notifier
        // The pass's part is over while the receiver has not answered at all.
        yield* notifier.afterPass(pipelineWith([down]), updated)
        const sent = yield* Metric.value(notificationsTotal({ receiver: "wh-down", event: "updated", outcome: "sent" }))
        expect([sent.count, server.received.length <= 1]).toEqual([0, true])
        release()
        yield* notifier.settle(Duration.seconds(5))
      })
    )
    expect(server.received.length).toBe(3)
    expect([await counted("wh-down", "updated", "sent"), await counted("wh-down", "updated", "retried"), await counted("wh-down", "updated", "failed")]).toEqual([1, 2, 0])
  })

  test("a missing signatureValueFile: that delivery fails with one clear line naming the receiver and the file", async () => {
    const server = await receiverServer()
    const dir = tempDir("runner-notify-")
    const receiver: Receiver = { _tag: "Webhook", name: "wh-nofile", url: Redacted.make(server.url), signatureKey: "PipeCD-Signature", signature: { _tag: "File", file: `${dir}/missing` } }
    const error = await Effect.runPromise(
      deliver(receiver, { event: "failed", pipeline: "p", repo: "config", time: "t" }, { slackApi: "", timeout: Duration.seconds(1) }).pipe(
        Effect.flip,
        Effect.provide(NodeContext.layer),
        Effect.provide(FetchHttpClient.layer)
      )
    )
    expect(error.message).toBe(`notification receiver "wh-nofile": signatureValueFile ${dir}/missing: no such file`)
    await withNotifier(dir, pass(pipelineWith([route(receiver)]), failing))
    expect(server.received).toEqual([])
    expect([await counted("wh-nofile", "failed", "failed"), await counted("wh-nofile", "failed", "retried")]).toEqual([1, 0])
  })
})

describe("deduplication", () => {
  test("a failure is told once across passes and across a restart; its recovery once", async () => {
    const server = await receiverServer()
    const dir = tempDir("runner-notify-")
    const pipeline = pipelineWith([route({ _tag: "Webhook", name: "wh-dedup", url: Redacted.make(server.url), signatureKey: "PipeCD-Signature" })])
    await withNotifier(dir, Effect.zipRight(pass(pipeline, failing), pass(pipeline, failing)))
    // A new layer on the same data dir: what was told is remembered.
    await withNotifier(dir, pass(pipeline, failing))
    await withNotifier(dir, Effect.zipRight(pass(pipeline, fine), pass(pipeline, fine)))
    expect(server.received.map((r) => [(r.body as { event: string }).event, (r.body as { reason: string | null }).reason])).toEqual([
      ["failed", "no tag matches ^1\\."],
      ["recovered", null]
    ])
  })

  test("a corrupt file of what was told is set aside with a warning, not fatal", async () => {
    const server = await receiverServer()
    const dir = tempDir("runner-notify-")
    writeFileSync(`${dir}/notifications.json`, "{not json")
    const pipeline = pipelineWith([route({ _tag: "Webhook", name: "wh-corrupt", url: Redacted.make(server.url), signatureKey: "PipeCD-Signature" })])
    await withNotifier(dir, pass(pipeline, failing))
    expect(server.received.length).toBe(1)
  })
})
