/** Notifications from whole passes in process (fake git and registry), to a webhook on loopback. */
import { afterEach, describe, expect, test } from "bun:test"
import { createServer } from "node:http"
import { FetchHttpClient } from "@effect/platform"
import { Duration, Effect, Layer, Redacted, Schedule } from "effect"
import type { NotificationRoute } from "../../src/config/model.ts"
import { Notifier } from "../../src/notifications/Notifier.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { fakeWorld, pipelineOf, REMOTE, WATCHER } from "../support/inProcess.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"

const IMAGE = "gcr.io/org/app"
const servers: Array<Listening> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

const webhook = async () => {
  const events: Array<Record<string, unknown>> = []
  const server = createServer((req, res) => {
    let text = ""
    req.on("data", (chunk: Buffer) => (text += chunk.toString()))
    req.on("end", () => {
      events.push(JSON.parse(text))
      res.writeHead(200).end()
    })
  })
  const listening = await listenOnLoopback(server)
  servers.push(listening)
  return { url: listening.url, events }
}

const routeTo = (url: string): NotificationRoute => ({
  receiver: { _tag: "Webhook", name: "pipeline-hook", url: Redacted.make(url), signatureKey: "PipeCD-Signature" },
  events: ["updated", "held", "failed", "recovered"],
  source: { file: "piped.yaml", line: 1 }
})

describe("notifications of whole passes", () => {
  test("an update pushed by --once is told before it returns; a dry run tells nothing, not even a failure", async () => {
    const hook = await webhook()
    const w = fakeWorld()
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    w.images.set(IMAGE, [])
    const pipeline = { ...pipelineOf(), notifications: [routeTo(hook.url)] }
    const notifier = Notifier.layer({ dataDir: w.options.dataDir, retry: Schedule.stop }).pipe(Layer.provide(FetchHttpClient.layer))
    const once = (dryRun: boolean) => Effect.runPromise(runOnce([pipeline], { ...w.options, dryRun }).pipe(Effect.provide(notifier), Effect.provide(w.layer)))
    const dry = await once(true)
    expect(dry.targets.map((t) => t.outcome._tag)).toEqual(["Failed"])
    expect(hook.events).toEqual([])
    w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }])
    const report = await once(false)
    expect(report.targets.map((t) => t.outcome._tag)).toEqual(["Updated"])
    expect(hook.events.map((e) => [e["event"], e["image"], e["from"], e["to"], e["file"]])).toEqual([["updated", IMAGE, "1.0.0", "1.1.0", "app.yaml"]])
  }, Duration.toMillis(Duration.seconds(20)))
})
