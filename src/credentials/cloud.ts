import { Effect, Either, Option, Schema } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import { registryError, type RegistryError, scopeOf } from "../domain/RegistryError.ts"
import { rateLimitOf } from "../http/RateLimiter.ts"
import { type Outgoing, RegistryHttp, replyText, type Target } from "../http/RegistryHttp.ts"
import { decodeJsonText } from "../json.ts"

/** Cloud token services are called for a provider's image: errors name both, and the host's limiter paces them. */
export const cloudTarget = (provider: ProviderConfig, image: ImageRef): Target => ({
  ...scopeOf(provider, image),
  rateLimit: rateLimitOf(provider),
  insecure: false,
  caCert: Option.none(),
  // The runner's own credential endpoints (the instance metadata services among them) or the operator's `endpoint`.
  linkLocalHosts: "any",
})

/** `{"__type": "...#RepositoryNotFoundException", "message": "..."}`, as AWS APIs explain a refusal. */
const AwsErrorBody = Schema.Struct({ __type: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })

/** A cloud call that must answer 200 with JSON of the given shape. */
export const cloudJson = <A, I>(
  target: Target,
  request: Outgoing,
  schema: Schema.Schema<A, I>,
  what: string,
): Effect.Effect<A, RegistryError, RegistryHttp> =>
  Effect.gen(function* () {
    const fail = registryError(target)
    const reply = yield* Effect.flatMap(RegistryHttp, (http) => http.send(target, request))
    if (reply.status !== 200) {
      const body = Option.getOrUndefined(Either.getRight(decodeJsonText(AwsErrorBody, replyText(reply))))
      const because = [body?.__type?.replace(/^.*#/, ""), body?.message].filter((part) => part !== undefined).join(": ")
      const reason = reply.status === 401 || reply.status === 403 ? "Auth" : reply.status === 400 && /NotFound/.test(because) ? "NotFound" : "Protocol"
      return yield* fail(reason, `${what} answered ${reply.status}${because === "" ? "" : `: ${because}`}`, reply.status)
    }
    return yield* Either.mapLeft(decodeJsonText(schema, replyText(reply)), (why) => fail("Protocol", `${what} answer is not valid: ${why}`))
  })
