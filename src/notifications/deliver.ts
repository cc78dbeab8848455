/**
 * One notice to one receiver: the message as Slack or a webhook takes it, and the request that
 * carries it. Failures are DeliveryErrors naming the receiver, never its URL or token.
 */
import { FileSystem, HttpClient, HttpClientRequest } from "@effect/platform"
import { Data, Duration, Effect, Either, Redacted, Schema } from "effect"
import type { Receiver, SecretSource } from "../config/model.ts"
import { oneLine, scrubSecrets } from "../domain/foreignText.ts"
import { decodeJsonText } from "../json.ts"
import type { Notice } from "./events.ts"

/** A notice as it is queued: when it happened, in ISO form. */
export type TimedNotice = Notice & { readonly time: string }

/** Why a delivery failed; `transient` ones (no answer, a timeout, 429, 5xx) are tried again. */
export class DeliveryError extends Data.TaggedError("DeliveryError")<{
  readonly receiver: string
  readonly detail: string
  readonly transient: boolean
}> {
  override get message(): string {
    return `notification receiver "${this.receiver}": ${this.detail}`
  }
}

export interface DeliverySettings {
  /** Slack's Web API, without trailing `/`. */
  readonly slackApi: string
  /** The deadline of one request. */
  readonly timeout: Duration.Duration
}

export const SLACK_API = "https://slack.com/api"

/** Slack reads `&`, `<` and `>` as markup: a watcher file's image or path must not mention @channel or forge a link. */
const slackEscape = (text: string): string => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")

const HEADLINES: Record<Notice["event"], string> = { updated: "Updated", held: "Held", failed: "Failed", recovered: "Recovered" }

/** The message of a notice in Slack's markup: what, where, why, and a link to the commit or request. */
export const slackText = (n: Notice, mentions: ReadonlyArray<string>): string => {
  const e = (text: string) => slackEscape(oneLine(text))
  const move = n.to === undefined || n.to === n.from ? (n.from === undefined ? "" : ` ${e(n.from)}`) : ` ${e(n.from ?? "?")} → ${e(n.to)}`
  const what = n.image === undefined ? e(n.scope ?? n.repo) : `${e(n.chart ?? n.image)}${move}`
  const where = n.file === undefined ? ` (${e(n.pipeline)})` : ` in ${e(n.repo)}/${e(n.file)} (${e(n.field ?? "")})`
  const why = n.reason === undefined ? "" : `: ${e(n.reason)}`
  const link = n.url !== undefined ? ` <${e(n.url)}|${n.commit === undefined ? "request" : e(n.commit.slice(0, 7))}>` : n.commit === undefined ? "" : ` (${e(n.commit.slice(0, 7))})`
  const mentioned = mentions.length === 0 ? "" : ` ${mentions.join(" ")}`
  return `*${HEADLINES[n.event]}* ${what}${where}${why}${link}${mentioned}`
}

/** The webhook's body: every field, absent ones null, so that a consumer reads one shape. */
export const webhookBody = (n: TimedNotice) => ({
  event: n.event,
  pipeline: n.pipeline,
  repo: n.repo,
  image: n.image ?? null,
  chart: n.chart ?? null,
  from: n.from ?? null,
  to: n.to ?? null,
  file: n.file ?? null,
  field: n.field ?? null,
  commit: n.commit ?? null,
  url: n.url ?? null,
  reason: n.reason ?? null,
  scope: n.scope ?? null,
  time: n.time
})

/** A secret's value: inline, or read from its file now (so that it may rotate); Piped drops one trailing newline. */
const secretOf = (receiver: string, what: string, source: SecretSource) =>
  source._tag === "Inline"
    ? Effect.succeed(Redacted.value(source.value))
    : Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(source.file)).pipe(
      Effect.map((text) => text.replace(/\r?\n$/, "")),
      Effect.mapError((e) => {
        const why = e._tag === "SystemError" && e.reason === "NotFound" ? "no such file" : e._tag === "SystemError" && e.reason === "PermissionDenied" ? "permission denied" : "cannot read it"
        return new DeliveryError({ receiver, detail: `${what} ${source.file}: ${why}`, transient: false })
      })
    )

const SlackAnswer = Schema.Struct({ ok: Schema.Boolean, error: Schema.optional(Schema.String) })

/** Posts `body`; the answer's text, or why not. Transport errors are told without the URL, which may be the credential. */
const post = (receiver: string, url: string, headers: Record<string, string>, body: unknown, settings: DeliverySettings, secrets: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const fail = (detail: string, transient: boolean) => new DeliveryError({ receiver, detail: scrubSecrets(oneLine(detail), [url, ...secrets]), transient })
    const request = HttpClientRequest.post(url).pipe(HttpClientRequest.setHeaders(headers), HttpClientRequest.bodyUnsafeJson(body))
    const answer = yield* HttpClient.execute(request).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text }))),
      Effect.timeoutFail({ duration: settings.timeout, onTimeout: () => fail(`no answer within ${Duration.format(settings.timeout)}`, true) }),
      Effect.mapError((e) => (e instanceof DeliveryError ? e : fail("no answer (connection failed)", true)))
    )
    if (answer.status >= 200 && answer.status < 300) return answer.text
    return yield* fail(`refused (${answer.status}): ${answer.text.slice(0, 200)}`, answer.status === 429 || answer.status >= 500)
  })

/** Sends one notice to one receiver, once. */
export const deliver = (receiver: Receiver, notice: TimedNotice, settings: DeliverySettings) =>
  Effect.gen(function* () {
    switch (receiver._tag) {
      case "SlackHook": {
        yield* post(receiver.name, Redacted.value(receiver.hookURL), {}, { text: slackText(notice, receiver.mentions) }, settings, [])
        return
      }
      case "SlackApi": {
        const token = (yield* secretOf(receiver.name, "oauthTokenFile", receiver.token)).trim()
        const text = yield* post(
          receiver.name,
          `${settings.slackApi}/chat.postMessage`,
          { authorization: `Bearer ${token}` },
          { channel: receiver.channelID, text: slackText(notice, receiver.mentions) },
          settings,
          [token]
        )
        const answer = decodeJsonText(SlackAnswer, text)
        if (Either.isLeft(answer)) return yield* new DeliveryError({ receiver: receiver.name, detail: "Slack's answer is not one it documents", transient: false })
        if (!answer.right.ok) {
          const why = answer.right.error ?? "no reason given"
          return yield* new DeliveryError({ receiver: receiver.name, detail: `Slack refused: ${oneLine(why).slice(0, 100)}`, transient: why === "ratelimited" })
        }
        return
      }
      case "Webhook": {
        const signature = receiver.signature === undefined ? undefined : yield* secretOf(receiver.name, "signatureValueFile", receiver.signature)
        const headers = signature === undefined ? {} : { [receiver.signatureKey]: signature }
        yield* post(receiver.name, Redacted.value(receiver.url), headers, webhookBody(notice), settings, signature === undefined ? [] : [signature])
        return
      }
    }
  })
