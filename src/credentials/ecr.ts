import type { FileSystem } from "@effect/platform"
import { Clock, Duration, Effect, Either, Option, Schema } from "effect"
import type { EcrProvider } from "../domain/ProviderConfig.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import type { RegistryHttp } from "../http/RegistryHttp.ts"
import { type AwsCredentials, awsEnvironment, makeAwsKeys, signV4 } from "./aws.ts"
import { cloudJson, cloudTarget } from "./cloud.ts"
import { type Expiring, makeExpiringCache, type Renewal, renewalTime } from "./ExpiringCache.ts"
import { decodeBasicPair, type RegistryCredentials } from "./RegistryCredentials.ts"

/** ECR tokens live 12 h; a fresh one is fetched an hour before, so no request ever carries a stale one. */
const ECR_TOKEN_RENEWAL: Renewal = { margin: Duration.hours(1), lifetimeDivisor: 4 }

/** `123456789012.dkr.ecr.eu-west-1.amazonaws.com` -> account and region. */
export const parseEcrHost = (host: string): Option.Option<{ readonly registryId: string; readonly region: string }> => {
  const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host)
  return match === null ? Option.none() : Option.some({ registryId: match[1] ?? "", region: match[2] ?? "" })
}

/** The registry (AWS account) a provider's image lives in: the provider's registryId, else the image host's. */
export const ecrRegistryId = (provider: EcrProvider, image: ImageRef): string | undefined =>
  provider.registryId ?? Option.getOrUndefined(Option.map(parseEcrHost(image.registry), (h) => h.registryId))

export type EcrAction = "GetAuthorizationToken" | "DescribeImages"

export const ecrApiTarget = (action: EcrAction) => `AmazonEC2ContainerRegistry_V20150921.${action}`

const AuthorizationData = Schema.Struct({
  authorizationData: Schema.Array(Schema.Struct({ authorizationToken: Schema.String, expiresAt: Schema.optional(Schema.Number) })),
})

/** ECR's authorization token is base64 of `AWS:<password>`, used as Basic credentials. */
export const decodeEcrToken = (token: string): Either.Either<RegistryCredentials, string> =>
  Either.fromOption(
    Option.filter(decodeBasicPair(token), (c) => c.username !== ""),
    () => "the ECR authorization token is not base64 of user:password",
  )

/** Where ECR's API is called for a provider's image, and with which keys. */
interface EcrScope {
  readonly region: string
  readonly registryId: string | undefined
  readonly api: string
  readonly keys: AwsCredentials
}

type Deps = RegistryHttp | FileSystem.FileSystem

export interface Ecr {
  /** A call to ECR's API for the provider's image, signed with the keys of the moment. */
  readonly call: <A, I>(provider: EcrProvider, image: ImageRef, action: EcrAction, body: unknown, schema: Schema.Schema<A, I>) => Effect.Effect<A, RegistryError, Deps>
  /** The registry credentials an authorization token stands for, kept until an hour before it expires. */
  readonly credentials: (provider: EcrProvider, image: ImageRef, fresh: boolean) => Effect.Effect<Option.Option<RegistryCredentials>, RegistryError, Deps>
}

export const makeEcr: Effect.Effect<Ecr> = Effect.gen(function* () {
  const awsKeys = yield* makeAwsKeys
  const tokens = yield* makeExpiringCache<Expiring<RegistryCredentials>, RegistryError>()

  const scope = (provider: EcrProvider, image: ImageRef): Effect.Effect<EcrScope, RegistryError, Deps> =>
    Effect.gen(function* () {
      const env = yield* Effect.orElseSucceed(awsEnvironment, () => undefined)
      const fail = providerError(provider, image)
      if (env === undefined) return yield* fail("Config", "the AWS environment variables cannot be read")
      const host = parseEcrHost(image.registry)
      const region = provider.region ?? Option.getOrUndefined(Option.map(host, (h) => h.region)) ?? Option.getOrUndefined(env.region)
      if (region === undefined) return yield* fail("Config", `provider ${provider.name}: no region (set region, or use an ECR image host)`)
      const api = provider.endpoint ?? `https://api.ecr.${region}.amazonaws.com`
      return { region, registryId: ecrRegistryId(provider, image), api, keys: yield* awsKeys(provider, image, env, region) }
    })

  const signedCall = <A, I>(provider: EcrProvider, image: ImageRef, at: EcrScope, action: EcrAction, body: unknown, schema: Schema.Schema<A, I>) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const request = yield* signV4(
        {
          method: "POST",
          url: `${at.api}/`,
          headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": ecrApiTarget(action) },
          body: JSON.stringify(body),
        },
        at.keys,
        { service: "ecr", region: at.region },
        now,
      )
      return yield* cloudJson(cloudTarget(provider, image), request, schema, `ECR ${action} (keys from ${at.keys.source})`)
    })

  const fetchToken = (provider: EcrProvider, image: ImageRef, at: EcrScope) =>
    Effect.gen(function* () {
      const body = at.registryId === undefined ? {} : { registryIds: [at.registryId] }
      const answer = yield* signedCall(provider, image, at, "GetAuthorizationToken", body, AuthorizationData)
      const fail = providerError(provider, image)
      const data = answer.authorizationData[0]
      if (data === undefined) return yield* fail("Protocol", "ECR GetAuthorizationToken answered without authorizationData")
      const credentials = yield* Either.mapLeft(decodeEcrToken(data.authorizationToken), (detail) => fail("Protocol", detail))
      const now = yield* Clock.currentTimeMillis
      const endsAt = data.expiresAt === undefined ? now + Duration.toMillis(Duration.hours(12)) : data.expiresAt * 1000
      return { value: credentials, expiresAt: renewalTime(ECR_TOKEN_RENEWAL, now, endsAt) }
    })

  return {
    call: (provider, image, action, body, schema) => Effect.flatMap(scope(provider, image), (at) => signedCall(provider, image, at, action, body, schema)),
    credentials: (provider, image, fresh) =>
      Effect.gen(function* () {
        const at = yield* scope(provider, image)
        const key = JSON.stringify([provider.name, at.region, at.registryId ?? "", at.keys.accessKeyId])
        const token = yield* tokens.getOrFetch(key, fetchToken(provider, image, at), fresh)
        return Option.some(token.value)
      }),
  }
})
