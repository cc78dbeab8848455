import type { FileSystem } from "@effect/platform"
import { Clock, Duration, Effect, Either, Option, Redacted, Schema } from "effect"
import type { GcrProvider } from "../domain/ProviderConfig.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import type { RegistryHttp } from "../http/RegistryHttp.ts"
import { decodeJsonText } from "../json.ts"
import { cloudJson, cloudTarget } from "./cloud.ts"
import { type Expiring, makeExpiringCache, type Renewal, renewalTime } from "./ExpiringCache.ts"
import { readProviderFile } from "./files.ts"
import type { RegistryCredentials } from "./RegistryCredentials.ts"

const GCE_METADATA = "http://metadata.google.internal"
const GCE_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
/** Access tokens are replaced five minutes before they expire, at most a fifth of their life. */
const ACCESS_TOKEN_RENEWAL: Renewal = { margin: Duration.minutes(5), lifetimeDivisor: 5 }

const ServiceAccountKey = Schema.Struct({ type: Schema.optional(Schema.String), client_email: Schema.String })
const AccessToken = Schema.Struct({ access_token: Schema.String, expires_in: Schema.optional(Schema.Number) })

/** A service account key file's content, checked for the shape of one; the error says why it is not. */
export const checkServiceAccountKey = (text: string): Either.Either<void, string> =>
  Either.map(decodeJsonText(ServiceAccountKey, text), () => undefined)

export type GcpCredentials = (
  provider: GcrProvider,
  image: ImageRef,
  fresh: boolean,
) => Effect.Effect<Option.Option<RegistryCredentials>, RegistryError, RegistryHttp | FileSystem.FileSystem>

/**
 * GCR and Artifact Registry: a service account key sent as `_json_key` (read at every use), else
 * the GCE/GKE metadata server's access token, kept until shortly before it expires.
 */
export const makeGcpCredentials: Effect.Effect<GcpCredentials> = Effect.map(
  makeExpiringCache<Expiring<Redacted.Redacted<string>>, RegistryError>(),
  (tokens) => {
    const fetchToken = (provider: GcrProvider, image: ImageRef, url: string) =>
      Effect.gen(function* () {
        const answer = yield* cloudJson(
          cloudTarget(provider, image),
          { method: "GET", url, headers: { "metadata-flavor": "Google", accept: "application/json" } },
          AccessToken,
          "the GCE metadata server",
        )
        const now = yield* Clock.currentTimeMillis
        const lifetime = Duration.toMillis(Duration.seconds(answer.expires_in ?? 300))
        return { value: Redacted.make(answer.access_token), expiresAt: renewalTime(ACCESS_TOKEN_RENEWAL, now, now + lifetime) }
      })

    return (provider, image, fresh) =>
      Effect.gen(function* () {
        const file = provider.serviceAccountFile
        if (file === undefined) {
          const url = `${provider.endpoint ?? GCE_METADATA}${GCE_TOKEN_PATH}`
          const token = yield* tokens.getOrFetch(url, fetchToken(provider, image, url), fresh)
          return Option.some<RegistryCredentials>({ username: "oauth2accesstoken", password: token.value })
        }
        const key = yield* readProviderFile(provider, image, "serviceAccountFile", file)
        yield* Either.mapLeft(checkServiceAccountKey(key), (why) =>
          providerError(provider, image)("Config", `serviceAccountFile ${file} is not valid: ${why}`),
        )
        return Option.some<RegistryCredentials>({ username: "_json_key", password: Redacted.make(key.trim()) })
      })
  },
)
