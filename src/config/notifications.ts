/**
 * Notifications: Piped's own `spec.notifications.receivers` (Slack, webhooks), routed by
 * `spec.imageWatcher.notifications`. Read from the Piped config only: a receiver's URL and tokens
 * are the operator's, and never shown, in errors or elsewhere.
 */
import { Either, ParseResult, Redacted, Schema } from "effect"
import type { Issue, KeyPath } from "./ConfigError.ts"
import { oneOf, opt } from "./ConfigError.ts"
import { Glob } from "./gates.ts"
import { Base64Secret } from "./git.ts"
import { NOTIFICATION_EVENTS, type NotificationRoute, type Receiver, type SecretSource } from "./model.ts"
import type { SourceLocation } from "../domain/SourceLocation.ts"

/** Piped's default header of a webhook's signature. */
export const DEFAULT_SIGNATURE_KEY = "PipeCD-Signature"

/** A string kept `Redacted` from the moment it is read; a wrong type is told without the value. */
const Secret = Schema.transformOrFail(Schema.Unknown, Schema.RedactedFromSelf(Schema.String), {
  strict: true,
  decode: (input, _, ast) =>
    typeof input === "string" && input !== ""
      ? ParseResult.succeed(Redacted.make(input))
      : ParseResult.fail(new ParseResult.Type(ast, "<hidden>", "expected a non-empty string (the value is not shown)")),
  encode: (secret, _, ast) => ParseResult.fail(new ParseResult.Forbidden(ast, secret, "secrets are only decoded"))
})

const Text = Schema.NonEmptyString
// Piped's receivers may carry what the runner does not use: those keys are Piped's business.
const rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const SlackSection = Schema.Struct({
  hookURL: opt(Secret),
  oauthToken: opt(Secret),
  oauthTokenData: opt(Base64Secret),
  oauthTokenFile: opt(Text),
  channelID: opt(Text),
  mentionedAccounts: opt(Schema.Array(Schema.String)),
  mentionedGroups: opt(Schema.Array(Schema.String))
}, rest)

const WebhookSection = Schema.Struct({
  url: Secret,
  signatureKey: opt(Text),
  signatureValue: opt(Secret),
  signatureValueFile: opt(Text)
}, rest)

const ReceiverSection = Schema.Struct({ name: Text, slack: opt(SlackSection), webhook: opt(WebhookSection) }, rest)

/** Piped's `spec.notifications`; its `routes` are Piped's own and not read. */
export const NotificationsSection = Schema.Struct({ receivers: opt(Schema.Array(ReceiverSection)) }, rest)

/** An entry of `spec.imageWatcher.notifications`. */
export const RouteSection = Schema.Struct({
  receiver: Text,
  events: opt(Schema.Array(oneOf(...NOTIFICATION_EVENTS))),
  repos: opt(Schema.Array(Text)),
  images: opt(Schema.Array(Glob))
})

type ReceiverInput = typeof ReceiverSection.Type
type Slack = NonNullable<ReceiverInput["slack"]>
type Webhook = NonNullable<ReceiverInput["webhook"]>

/** Piped's forms of a mention: `@name` or `name` a user, a group's id as `<!subteam^ID>`. */
const mentionsOf = (slack: Slack): ReadonlyArray<string> => [
  ...(slack.mentionedAccounts ?? []).map((account) => `<@${account.replace(/^@/, "")}>`),
  ...(slack.mentionedGroups ?? []).map((group) => (group.includes("!subteam^") ? group : `<!subteam^${group}>`))
]

const slackReceiver = (name: string, slack: Slack, at: KeyPath): Either.Either<Receiver, ReadonlyArray<Issue>> => {
  const tokens: ReadonlyArray<SecretSource> = [
    ...(slack.oauthToken === undefined ? [] : [{ _tag: "Inline", value: slack.oauthToken } as const]),
    ...(slack.oauthTokenData === undefined ? [] : [{ _tag: "Inline", value: slack.oauthTokenData } as const]),
    ...(slack.oauthTokenFile === undefined ? [] : [{ _tag: "File", file: slack.oauthTokenFile } as const])
  ]
  const mentions = mentionsOf(slack)
  if (slack.hookURL !== undefined) {
    return tokens.length > 0 || slack.channelID !== undefined
      ? Either.left([{ path: at, message: "give hookURL, or an OAuth token with channelID, not both" }])
      : Either.right({ _tag: "SlackHook", name, hookURL: slack.hookURL, mentions })
  }
  const [token, ...more] = tokens
  if (token === undefined || slack.channelID === undefined) {
    return Either.left([{ path: at, message: "a Slack receiver needs hookURL, or channelID with oauthToken, oauthTokenData or oauthTokenFile" }])
  }
  if (more.length > 0) return Either.left([{ path: at, message: "give one of oauthToken, oauthTokenData and oauthTokenFile" }])
  return Either.right({ _tag: "SlackApi", name, token, channelID: slack.channelID, mentions })
}

const webhookReceiver = (name: string, webhook: Webhook, at: KeyPath): Either.Either<Receiver, ReadonlyArray<Issue>> => {
  if (webhook.signatureValue !== undefined && webhook.signatureValueFile !== undefined) {
    return Either.left([{ path: [...at, "signatureValueFile"], message: "give signatureValue or signatureValueFile, not both" }])
  }
  const signature: SecretSource | undefined = webhook.signatureValue !== undefined
    ? { _tag: "Inline", value: webhook.signatureValue }
    : webhook.signatureValueFile !== undefined
    ? { _tag: "File", file: webhook.signatureValueFile }
    : undefined
  return Either.right({
    _tag: "Webhook",
    name,
    url: webhook.url,
    signatureKey: webhook.signatureKey ?? DEFAULT_SIGNATURE_KEY,
    ...(signature === undefined ? {} : { signature })
  })
}

const receiverOf = (receiver: ReceiverInput, at: KeyPath): Either.Either<Receiver, ReadonlyArray<Issue>> => {
  if (receiver.slack !== undefined && receiver.webhook !== undefined) {
    return Either.left([{ path: at, message: `receiver "${receiver.name}" has both slack and webhook; give one` }])
  }
  if (receiver.slack !== undefined) return slackReceiver(receiver.name, receiver.slack, [...at, "slack"])
  if (receiver.webhook !== undefined) return webhookReceiver(receiver.name, receiver.webhook, [...at, "webhook"])
  return Either.left([{ path: at, message: `receiver "${receiver.name}" has neither slack nor webhook, the kinds the runner sends to` }])
}

/**
 * The routes with their receivers resolved; the issues found otherwise. Only receivers a route
 * names are checked: the others are Piped's alone.
 */
export const toNotificationRoutes = (
  receivers: ReadonlyArray<ReceiverInput>,
  routes: ReadonlyArray<typeof RouteSection.Type>,
  sourceOf: (index: number) => SourceLocation
): Either.Either<ReadonlyArray<NotificationRoute>, ReadonlyArray<Issue>> => {
  const issues: Array<Issue> = []
  const resolved: Array<NotificationRoute> = []
  routes.forEach((route, index) => {
    const at = ["spec", "imageWatcher", "notifications", index]
    const found = receivers.findIndex((r) => r.name === route.receiver)
    const input = receivers[found]
    if (input === undefined) {
      const known = receivers.map((r) => r.name)
      const hint = known.length === 0 ? "spec.notifications.receivers declares none" : `declared: ${known.join(", ")}`
      issues.push({ path: [...at, "receiver"], message: `no receiver "${route.receiver}" in spec.notifications.receivers (${hint})` })
      return
    }
    const receiver = receiverOf(input, ["spec", "notifications", "receivers", found])
    if (Either.isLeft(receiver)) return void issues.push(...receiver.left)
    resolved.push({
      receiver: receiver.right,
      events: route.events === undefined || route.events.length === 0 ? NOTIFICATION_EVENTS : [...new Set(route.events)],
      ...(route.repos === undefined ? {} : { repos: route.repos }),
      ...(route.images === undefined ? {} : { images: route.images }),
      source: sourceOf(index)
    })
  })
  return issues.length > 0 ? Either.left(issues) : Either.right(resolved)
}
