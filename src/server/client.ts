import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Data, Duration, Effect, Option, Redacted, Schema } from "effect"
import { oneLine, scrubSecrets } from "../domain/foreignText.ts"
import type { Registration } from "../registry/TagStore.ts"

/** `runner notify --address`: the API of a running runner, seen from CI. */

/** Its detail may quote the server's body: the message is one line, with the server's control characters escaped. */
export class NotifyError extends Data.TaggedError("NotifyError")<{ readonly address: string; readonly detail: string }> {
  override get message() {
    return oneLine(`${this.address}: ${this.detail}`)
  }
}

const Accepted = Schema.Struct({
  image: Schema.String,
  registered: Schema.Array(Schema.String),
  checked: Schema.Array(Schema.String)
})
const Refused = Schema.Struct({ error: Schema.String })

const TIMEOUT = Duration.seconds(30)

/** The HTTP client `postImage` runs on in the executable: the runtime's fetch. */
export const clientLayer = FetchHttpClient.layer

/** Posts a tag to `POST /api/v1/images`; a refusal fails with the server's reason. */
export const postImage = (address: string, token: Redacted.Redacted<string>, image: string, registration: Registration) =>
  Effect.gen(function* () {
    const fail = (detail: string) => new NotifyError({ address, detail })
    // Relative to the address, so a runner behind a path prefix (`https://host/runner/`) works too.
    const url = yield* Effect.try({
      try: () => new URL("api/v1/images", address.endsWith("/") ? address : `${address}/`),
      catch: () => fail("not a URL")
    })
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.bearerToken(Redacted.value(token)),
      HttpClientRequest.bodyUnsafeJson({ image, ...registration })
    )
    const response = yield* HttpClient.execute(request).pipe(
      Effect.timeoutFail({ duration: TIMEOUT, onTimeout: () => fail(`no answer within ${Duration.format(TIMEOUT)}`) }),
      Effect.mapError((e) => (e instanceof NotifyError ? e : fail(e.message)))
    )
    const text = yield* response.text.pipe(Effect.mapError((e) => fail(e.message)))
    if (response.status === 200) {
      return yield* Schema.decodeUnknown(Schema.parseJson(Accepted))(text).pipe(Effect.mapError(() => fail("unexpected answer")))
    }
    const reason = Schema.decodeUnknownOption(Schema.parseJson(Refused))(text)
    // A server (or whatever answers at that address) may echo the token back.
    const said = scrubSecrets(Option.match(reason, { onNone: () => text.slice(0, 200), onSome: (r) => r.error }), [Redacted.value(token)])
    return yield* fail(`refused (${response.status}): ${said}`)
  })
