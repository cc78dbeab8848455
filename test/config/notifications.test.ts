/** `spec.notifications.receivers` routed by `spec.imageWatcher.notifications`: what decodes, and errors at file, line and key. */
import { describe, expect, test } from "bun:test"
import { Either, Redacted } from "effect"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"

/** A Piped document: receivers from line 6; with the four receivers below, the first route is on line 18. */
const withNotifications = (receivers: string, routes: string) => `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  notifications:
    receivers:
${receivers}    routes:
      - {name: piped-own, receiver: anything, events: [DEPLOYMENT_TRIGGERED]}
  imageWatcher:
    notifications:
${routes}`

const HOOK = "https://hooks.slack.com/services/T000/B000/SECRETHOOK"

const receivers = `      - name: dev-slack
        slack: {hookURL: "${HOOK}", mentionedAccounts: ["@alice"]}
      - name: bot
        slack: {oauthTokenFile: /etc/slack-token, channelID: C123}
      - name: hooks
        webhook: {url: "https://hooks.example.com/in?k=SECRETURL", signatureValueFile: /etc/sig}
      - name: plain
        webhook: {url: "https://hooks.example.com/in", signatureKey: X-Sig, signatureValue: SECRETSIG}
`

describe("notification routes that decode", () => {
  test("each receiver kind, events defaulting to all, filters kept", () => {
    const result = decodePipedConfigs(
      "piped.yaml",
      withNotifications(
        receivers,
        `      - {receiver: dev-slack, events: [updated, failed], repos: [foo]}
      - {receiver: bot, images: ["ghcr.io/acme/*"]}
      - {receiver: hooks}
      - {receiver: plain, events: [held]}
`
      )
    )
    const routes = Either.getOrThrow(result)[0]?.notifications ?? []
    expect(routes.map((r) => [r.receiver._tag, r.receiver.name, r.events, r.repos, r.images, r.source.line])).toEqual([
      ["SlackHook", "dev-slack", ["updated", "failed"], ["foo"], undefined, 18],
      ["SlackApi", "bot", ["updated", "held", "failed", "recovered"], undefined, ["ghcr.io/acme/*"], 19],
      ["Webhook", "hooks", ["updated", "held", "failed", "recovered"], undefined, undefined, 20],
      ["Webhook", "plain", ["held"], undefined, undefined, 21]
    ])
    const [hook, bot, signed, plain] = routes.map((r) => r.receiver)
    expect(hook?._tag === "SlackHook" && Redacted.value(hook.hookURL)).toBe(HOOK)
    expect(hook?._tag === "SlackHook" && hook.mentions).toEqual(["<@alice>"])
    expect(bot?._tag === "SlackApi" && bot.token).toEqual({ _tag: "File", file: "/etc/slack-token" })
    expect(signed?._tag === "Webhook" && [signed.signatureKey, signed.signature]).toEqual(["PipeCD-Signature", { _tag: "File", file: "/etc/sig" }])
    expect(plain?._tag === "Webhook" && plain.signatureKey).toBe("X-Sig")
    // Secrets are redacted wherever the pipeline is shown.
    expect(JSON.stringify(routes)).not.toMatch(/SECRET/)
    expect(String(routes.map((r) => r.receiver))).not.toMatch(/SECRET/)
  })

  test("without imageWatcher.notifications, Piped's receivers are not read", () => {
    const result = decodePipedConfigs("piped.yaml", withNotifications("      - {name: odd, email: {to: x}}\n", "      []\n"))
    expect(Either.getOrThrow(result)[0]?.notifications).toBeUndefined()
  })
})

describe("notification errors", () => {
  const cases: ReadonlyArray<readonly [string, string, string, ReadonlyArray<string>]> = [
    [
      "a route naming no receiver",
      receivers,
      "      - {receiver: nobody}\n",
      [`piped.yaml:18: spec.imageWatcher.notifications[0].receiver: no receiver "nobody" in spec.notifications.receivers (declared: dev-slack, bot, hooks, plain)`]
    ],
    [
      "a Slack receiver with neither hookURL nor token and channelID",
      "      - {name: s, slack: {channelID: C1}}\n",
      "      - {receiver: s}\n",
      ["piped.yaml:6: spec.notifications.receivers[0].slack: a Slack receiver needs hookURL, or channelID with oauthToken, oauthTokenData or oauthTokenFile"]
    ],
    [
      "hookURL beside a token",
      `      - {name: s, slack: {hookURL: "${HOOK}", oauthToken: SECRETTOKEN, channelID: C1}}\n`,
      "      - {receiver: s}\n",
      ["piped.yaml:6: spec.notifications.receivers[0].slack: give hookURL, or an OAuth token with channelID, not both"]
    ],
    [
      "an unknown event",
      receivers,
      "      - {receiver: dev-slack, events: [updated, deployed]}\n",
      [`piped.yaml:18: spec.imageWatcher.notifications[0].events[1]: expected one of updated, held, failed, recovered, got "deployed"`]
    ],
    [
      "a bad image glob",
      receivers,
      "      - {receiver: dev-slack, images: ['ghcr.io/**x']}\n",
      [`piped.yaml:18: spec.imageWatcher.notifications[0].images[0]: invalid image glob "ghcr.io/**x": ** must be a whole segment (a/**/b), not part of one`]
    ],
    [
      "a secret of the wrong type, not shown",
      "      - {name: w, webhook: {url: [SECRETURL]}}\n",
      "      - {receiver: w}\n",
      ["piped.yaml:6: spec.notifications.receivers[0].webhook.url: expected a non-empty string (the value is not shown)"]
    ],
    [
      "an unknown key in a route",
      receivers,
      "      - {receiver: dev-slack, channel: x}\n",
      ["piped.yaml:18: spec.imageWatcher.notifications[0].channel: unknown key (allowed: receiver, events, repos, images)"]
    ]
  ]
  test.each(cases)("%s", (_name, given, routes, expected) => {
    const result = decodePipedConfigs("piped.yaml", withNotifications(given, routes))
    expect(Either.isLeft(result)).toBe(true)
    const shown = Either.isLeft(result) ? result.left.map((e) => e.display) : []
    expect(shown).toEqual([...expected])
    expect(shown.join("\n")).not.toMatch(/SECRET/)
  })
})
