import { HttpIncomingMessage, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import { Data, Duration, Effect, Either, Layer, Metric, Option, Redacted, Schema } from "effect"
import { digestPattern, isValidTag, parseImageName, parseImageRef } from "../domain/ImageRef.ts"
import { parseJsonText } from "../json.ts"
import { residentMemory } from "../metrics.ts"
import { recordOverruns } from "../pipeline/passMetrics.ts"
import { OVERRUN_INTERVALS, Readiness } from "../pipeline/Readiness.ts"
import { oneLine } from "../domain/foreignText.ts"
import { dataDirUnwritable } from "./dataDirProbe.ts"
import { isLiveSeries } from "./liveSeries.ts"
import { GITHUB_DELIVERY_HEADER, type RecentDeliveries, recentDeliveries } from "./deliveries.ts"
import { Notices, type NoticeResult } from "./Notices.ts"
import { type Pause, pausedImageName, Pauses } from "../pipeline/Pauses.ts"
import { parseIssueLine } from "./parseIssue.ts"
import { CONTENT_TYPE, renderPrometheus } from "./prometheus.ts"
import { GITHUB_SIGNATURE_HEADER, type SignatureCheck } from "./signature.ts"
import { decodeWebhook, isWebhookKind, WEBHOOK_KINDS, type WebhookKind } from "./webhooks.ts"

/** Request bodies beyond these sizes are refused before they are read whole. */
const IMAGE_BODY_LIMIT = 16 * 1024
const WEBHOOK_BODY_LIMIT = 1024 * 1024

class ApiError extends Data.TaggedError("ApiError")<{ readonly status: number; readonly message: string }> {}

const jsonResponse = (status: number, body: unknown) => HttpServerResponse.unsafeJson(body, { status })

const digest = (text: string) => createHash("sha256").update(text).digest()

/**
 * Constant time whatever the guess: both sides are hashed first, so the buffers compared are of
 * equal length and a wrong length reveals nothing either.
 */
export const tokenMatches = (expected: Redacted.Redacted<string>, given: string): boolean =>
  timingSafeEqual(digest(Redacted.value(expected)), digest(given))

const apiOff = new ApiError({ status: 404, message: "the API is off: start the runner with --api-token-file" })

/** `Authorization: Bearer <token>`, or `?token=` where the sender cannot set headers (webhooks). */
const authorize = (token: Option.Option<Redacted.Redacted<string>>, allowQuery: boolean) =>
  Effect.gen(function* () {
    if (Option.isNone(token)) return yield* apiOff
    const request = yield* HttpServerRequest.HttpServerRequest
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers["authorization"] ?? "")?.[1]
    const query = allowQuery ? (new URL(request.url, "http://runner.invalid").searchParams.get("token") ?? undefined) : undefined
    const given = bearer ?? query
    if (given === undefined || !tokenMatches(token.value, given)) {
      return yield* new ApiError({ status: 401, message: "missing or wrong token" })
    }
  })

/**
 * The body's bytes, refused (413) beyond `limit` before they are read whole: whatever comes next
 * (decoding, a signature's HMAC) only ever sees a body within the limit.
 */
const readBytes = (limit: number) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const tooLarge = new ApiError({ status: 413, message: `request body larger than ${limit} bytes` })
    if (Number(request.headers["content-length"] ?? "0") > limit) return yield* tooLarge
    // Chunked bodies carry no length: the limit also applies while reading.
    const buffer = yield* request.arrayBuffer.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(limit)),
      Effect.mapError(() => tooLarge)
    )
    return new Uint8Array(buffer)
  })

const decodeBytes = <A, I>(schema: Schema.Schema<A, I>, bytes: Uint8Array) =>
  decodeBody(schema, new TextDecoder().decode(bytes)).pipe(Either.mapLeft((message) => new ApiError({ status: 400, message })))

const readJson = <A, I>(schema: Schema.Schema<A, I>, limit: number) =>
  readBytes(limit).pipe(Effect.flatMap((bytes) => decodeBytes(schema, bytes)))

/** A request body, decoded, or one short line saying what is wrong with it. */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>, text: string): Either.Either<A, string> =>
  parseJsonText(text).pipe(
    Either.mapLeft(() => "body is not valid JSON"),
    Either.flatMap((json) => Schema.decodeUnknownEither(schema)(json).pipe(Either.mapLeft(parseIssueLine)))
  )

const ImageBody = Schema.Struct({
  image: Schema.String.pipe(
    Schema.filter((s) => Either.match(parseImageName(s), { onLeft: (why) => why, onRight: () => true }))
  ),
  tag: Schema.String.pipe(Schema.filter((t) => isValidTag(t) || `${JSON.stringify(t)} is not a valid tag`)),
  digest: Schema.optional(Schema.String.pipe(Schema.pattern(digestPattern)))
})

const noticeError = (e: { readonly _tag: "NotWatched" | "TagStoreError"; readonly message: string }) =>
  new ApiError({ status: e._tag === "NotWatched" ? 404 : 500, message: e.message })

/** The image a body or payload names, parsed; 400 when it is no image reference. */
const imageOf = (text: string) =>
  parseImageRef(text).pipe(Either.mapLeft((message) => new ApiError({ status: 400, message })))

const images = Effect.gen(function* () {
  const body = yield* readJson(ImageBody, IMAGE_BODY_LIMIT)
  const image = yield* imageOf(body.image)
  const notices = yield* Notices
  const result = yield* notices
    .register(image, { tag: body.tag, ...(body.digest === undefined ? {} : { digest: body.digest }) })
    .pipe(Effect.mapError(noticeError))
  return jsonResponse(200, result)
})

const PauseBody = Schema.Union(
  Schema.Struct({ repoId: Schema.NonEmptyString, filePath: Schema.NonEmptyString, field: Schema.NonEmptyString }),
  Schema.Struct({
    image: Schema.String.pipe(Schema.filter((s) => Either.match(parseImageName(s), { onLeft: (why) => why, onRight: () => true })))
  })
)

/**
 * `POST /api/v1/targets/pause` and `/resume`: one target (`repoId`, `filePath`, `field` as its
 * watcher file writes them), or every target of an image (normalised, without tag). Each pass
 * reads the pauses from the data dir.
 */
const pauses = (dataDir: string, pausing: boolean) =>
  Effect.gen(function* () {
    const body = yield* readJson(PauseBody, IMAGE_BODY_LIMIT)
    const pause: Pause = "image" in body ? { _tag: "Image", image: pausedImageName(body.image) } : { _tag: "Target", ...body }
    const store = yield* Pauses
    const changed = yield* (pausing ? store.pause(dataDir, pause) : store.resume(dataDir, pause)).pipe(
      Effect.mapError((e) => new ApiError({ status: 500, message: e.message }))
    )
    const what = pause._tag === "Image" ? `image ${pause.image}` : `target ${pause.repoId}/${pause.filePath} ${pause.field}`
    yield* Effect.logInfo(`${pausing ? "paused" : "resumed"} ${oneLine(what)}${changed ? "" : " (already so)"}`)
    return jsonResponse(200, { [pausing ? "paused" : "resumed"]: { ...pause }, changed })
  })

/**
 * How a webhook delivery proves itself. A GitHub delivery carrying `X-Hub-Signature-256`, when the
 * runner has the secret, stands or falls by that signature alone: a token beside a wrong signature
 * does not rescue it, so a forged or altered body never gets in on a leaked URL. Every other
 * delivery presents the API token (bearer header, or `?token=` for senders that cannot set headers).
 */
const webhookBody = (options: ServeOptions, kind: WebhookKind) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const signature = request.headers[GITHUB_SIGNATURE_HEADER]
    const check = kind === "github" ? Option.getOrUndefined(options.githubSignature) : undefined
    if (check !== undefined && signature !== undefined) {
      const bytes = yield* readBytes(WEBHOOK_BODY_LIMIT)
      if (!check(bytes, signature)) return yield* new ApiError({ status: 401, message: "wrong X-Hub-Signature-256 signature" })
      return bytes
    }
    if (Option.isNone(options.token)) {
      return yield* check !== undefined
        ? new ApiError({ status: 401, message: "missing X-Hub-Signature-256 signature" })
        : new ApiError({ status: 404, message: `the ${kind} webhook needs --api-token-file; only github deliveries can be signed instead` })
    }
    yield* authorize(options.token, true)
    return yield* readBytes(WEBHOOK_BODY_LIMIT)
  })

/**
 * Every image a payload names is checked; images nobody watches are reported, not refused, so
 * registries do not retry. A GitHub delivery already handled (same `X-GitHub-Delivery`) is
 * answered as a duplicate and sets nothing off; it counts as handled only once it proved itself
 * and decoded, so nobody without the token or secret can use up a delivery id.
 */
const webhook = (options: ServeOptions, deliveries: RecentDeliveries) =>
  Effect.gen(function* () {
    if (Option.isNone(options.token) && Option.isNone(options.githubSignature)) return yield* apiOff
    const { kind } = yield* HttpRouter.params
    if (kind === undefined || !isWebhookKind(kind)) {
      return yield* new ApiError({ status: 404, message: `unknown webhook kind ${JSON.stringify(kind)}; expected one of ${WEBHOOK_KINDS.join(", ")}` })
    }
    const body = yield* webhookBody(options, kind).pipe(Effect.flatMap((bytes) => decodeBytes(Schema.Unknown, bytes)))
    const pushed = yield* decodeWebhook(kind, body).pipe(Either.mapLeft((message) => new ApiError({ status: 400, message })))
    const delivery = kind === "github" ? (yield* HttpServerRequest.HttpServerRequest).headers[GITHUB_DELIVERY_HEADER] : undefined
    if (delivery !== undefined && deliveries.seen(delivery)) {
      yield* Effect.logInfo(`${kind} webhook: delivery already handled`).pipe(Effect.annotateLogs({ delivery: oneLine(delivery) }))
      return jsonResponse(200, { duplicate: true, checked: [], ignored: [] })
    }
    const notices = yield* Notices
    const checked: Array<NoticeResult> = []
    const ignored: Array<string> = []
    for (const name of new Set(pushed.map((p) => p.image))) {
      const tags = pushed.flatMap((p) => (p.image === name && p.tag !== undefined ? [p.tag] : []))
      yield* Effect.logInfo(`${kind} webhook: pushed ${tags.length === 0 ? "(no tag given)" : tags.join(", ")}`).pipe(Effect.annotateLogs({ image: name }))
      const result = yield* imageOf(name).pipe(Effect.flatMap(notices.pushed), Effect.either)
      if (Either.isRight(result)) checked.push(result.right)
      else ignored.push(`${name}: ${result.left.message}`)
    }
    return jsonResponse(200, { checked, ignored })
  })

/**
 * Ready once every pipeline has completed a pass, and as long as none has gone
 * `OVERRUN_INTERVALS` check intervals without completing one: a stuck pass takes the runner out
 * of rotation (and shows in `runner_pass_overrun`) instead of leaving it ready and doing nothing.
 */
export const readiness = (pipelineCount: number, dataDir: string) =>
  Effect.gen(function* () {
    const unwritable = yield* dataDirUnwritable(dataDir)
    if (Option.isSome(unwritable)) return { ready: false, reason: `not ready: ${unwritable.value}` }
    const passes = yield* Readiness
    const done = yield* passes.completedPipelines
    if (done < pipelineCount) return { ready: false, reason: `not ready: ${done} of ${pipelineCount} pipelines have completed a pass` }
    const overrun = (yield* passes.lags).filter((lag) => lag.overrun)
    if (overrun.length === 0) return { ready: true, reason: "ready" }
    const late = overrun.map((o) => `${o.pipeline} (no pass completed for ${Duration.format(o.since)}, interval ${Duration.format(o.interval)})`)
    return { ready: false, reason: oneLine(`not ready: passes overrun their schedule ${OVERRUN_INTERVALS} times over: ${late.join(", ")}`) }
  })

const readyz = (pipelineCount: number, dataDir: string) =>
  Effect.map(readiness(pipelineCount, dataDir), ({ ready, reason }) => HttpServerResponse.text(`${reason}\n`, { status: ready ? 200 : 503 }))

/**
 * The runner's own metrics and the process's memory; effect's runtime counters (fibers started,
 * ...) say nothing to an operator.
 */
export const metricsText = Effect.sync(() => process.memoryUsage.rss()).pipe(
  Effect.flatMap((rss) => Metric.set(residentMemory, rss)),
  // Without a schedule (no daemon) every series is shown.
  Effect.zipRight(Effect.all([Metric.snapshot, Effect.flatMap(Effect.serviceOption(Readiness), Option.match({ onNone: () => Effect.succeedNone, onSome: (r) => r.watched }))])),
  Effect.map(([snapshot, watched]) => {
    const live = Option.match(watched, { onNone: () => () => true, onSome: isLiveSeries })
    return renderPrometheus(snapshot.filter((m) => /^(runner|process)_/.test(m.metricKey.name) && live(m.metricKey)))
  })
)

/** What a scrape reads: the overruns as they stand, then every metric. */
export const scrape = Effect.zipRight(recordOverruns, metricsText)

const metrics = Effect.map(scrape, (text) => HttpServerResponse.text(text, { contentType: CONTENT_TYPE }))

export interface ServeOptions {
  readonly host: string | undefined
  readonly port: number
  /** The API is off without a token. */
  readonly token: Option.Option<Redacted.Redacted<string>>
  /** `--webhook-secret-file`: GitHub deliveries may prove themselves by their signature instead of the token. */
  readonly githubSignature: Option.Option<SignatureCheck>
  readonly pipelineCount: number
  /** Where pauses are kept; readiness checks that it takes writes. */
  readonly dataDir: string
}

/** A refusal becomes its status and one line; the log says why, never with the token. */
const refusals = <R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, ApiError, R>) =>
  Effect.catchTag(handler, "ApiError", (e) =>
    Effect.logWarning(`API request refused: ${e.status} ${e.message}`).pipe(Effect.as(jsonResponse(e.status, { error: e.message })))
  )

const api = <R>(token: ServeOptions["token"], handler: Effect.Effect<HttpServerResponse.HttpServerResponse, ApiError, R>) =>
  refusals(authorize(token, false).pipe(Effect.zipRight(handler)))

const router = (options: ServeOptions, deliveries: RecentDeliveries) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/healthz", HttpServerResponse.text("ok\n")),
    HttpRouter.get("/readyz", readyz(options.pipelineCount, options.dataDir)),
    HttpRouter.get("/metrics", metrics),
    HttpRouter.post("/api/v1/images", api(options.token, images)),
    HttpRouter.post("/api/v1/targets/pause", api(options.token, pauses(options.dataDir, true))),
    HttpRouter.post("/api/v1/targets/resume", api(options.token, pauses(options.dataDir, false))),
    HttpRouter.post("/api/v1/webhooks/:kind", refusals(webhook(options, deliveries)))
  )

/** Health, readiness, metrics and (with a token) the API, for as long as the layer lives. */
export const serverLayer = (options: ServeOptions) =>
  Layer.unwrapEffect(
    Effect.sync(() => {
      const server = createServer()
      // Closing waits for every connection to end; kept-alive idle ones (probes, scrapers) would hold a stop for seconds.
      const dropConnections = Layer.scopedDiscard(Effect.addFinalizer(() => Effect.sync(() => server.closeAllConnections())))
      return HttpServer.serve(router(options, recentDeliveries())).pipe(
        HttpServer.withLogAddress,
        Layer.merge(dropConnections),
        Layer.provide(NodeHttpServer.layer(() => server, { port: options.port, ...(options.host === undefined ? {} : { host: options.host }) }))
      )
    })
  )
