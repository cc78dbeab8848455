import type { FileSystem } from "@effect/platform"
import { AwsV4Signer } from "aws4fetch"
import { Clock, Config, Duration, Effect, Either, Option, Redacted, Schema } from "effect"
import type { EcrProvider, ProviderConfig } from "../domain/ProviderConfig.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import { headersOf, type Outgoing, RegistryHttp, replyText } from "../http/RegistryHttp.ts"
import { decodeJsonValue } from "../json.ts"
import { cloudJson, cloudTarget } from "./cloud.ts"
import { type Expiring, makeExpiringCache, type Renewal, renewalTime } from "./ExpiringCache.ts"
import { readProviderFile } from "./files.ts"

/** Keys of an AWS principal; temporary ones carry a session token and an expiry. */
export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken: Option.Option<Redacted.Redacted<string>>
  /** Epoch milliseconds; Infinity for long-term keys. */
  readonly expiresAt: number
  /** Where the keys came from, for messages. */
  readonly source: string
}

/** `20150830T123600Z`, the form SigV4 signs. */
export const amzDate = (millis: number): string => new Date(millis).toISOString().replace(/[:-]|\.\d{3}/g, "")

/** Signs a request with SigV4 (headers `authorization`, `x-amz-date`, `x-amz-security-token`). */
export const signV4 = (
  request: Outgoing,
  credentials: Pick<AwsCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken">,
  scope: { readonly service: string; readonly region: string },
  now: number,
): Effect.Effect<Outgoing> =>
  Effect.promise(async () => {
    const signer = new AwsV4Signer({
      method: request.method,
      url: request.url,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: Redacted.value(credentials.secretAccessKey),
      ...Option.match(credentials.sessionToken, { onNone: () => ({}), onSome: (token) => ({ sessionToken: Redacted.value(token) }) }),
      service: scope.service,
      region: scope.region,
      datetime: amzDate(now),
      // aws4fetch leaves content-type unsigned by default; the AWS suite (and ECR's JSON protocol) sign it.
      allHeaders: true,
    })
    const signed = await signer.sign()
    return { ...request, headers: headersOf(signed.headers) }
  })

/** One profile of an AWS shared credentials file (INI). */
export const parseCredentialsFile = (
  text: string,
  profile: string,
): Either.Either<Pick<AwsCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken">, string> => {
  const values = new Map<string, string>()
  let current = ""
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+|\s+$/g, "")
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line)
    if (section !== null) {
      current = section[1] ?? ""
      continue
    }
    const pair = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line)
    if (pair !== null && current === profile) values.set((pair[1] ?? "").toLowerCase(), pair[2] ?? "")
  }
  const id = values.get("aws_access_key_id")
  const secret = values.get("aws_secret_access_key")
  if (id === undefined || secret === undefined) {
    return Either.left(`profile "${profile}" has no aws_access_key_id and aws_secret_access_key`)
  }
  const token = values.get("aws_session_token")
  return Either.right({
    accessKeyId: id,
    secretAccessKey: Redacted.make(secret),
    sessionToken: token === undefined || token === "" ? Option.none() : Option.some(Redacted.make(token)),
  })
}

/** The credentials answer of the container credentials endpoint and of IMDS. */
export const TemporaryCredentials = Schema.Struct({
  AccessKeyId: Schema.String,
  SecretAccessKey: Schema.String,
  Token: Schema.optional(Schema.String),
  Expiration: Schema.optional(Schema.String),
})

export const fromTemporary = (answer: typeof TemporaryCredentials.Type, source: string): AwsCredentials => {
  const expires = answer.Expiration === undefined ? Number.NaN : Date.parse(answer.Expiration)
  return {
    accessKeyId: answer.AccessKeyId,
    secretAccessKey: Redacted.make(answer.SecretAccessKey),
    sessionToken: answer.Token === undefined ? Option.none() : Option.some(Redacted.make(answer.Token)),
    expiresAt: Number.isFinite(expires) ? expires : Number.POSITIVE_INFINITY,
    source,
  }
}

/** STS answers in XML; the four values are plain text elements, so reading them by name is enough. */
export const parseAssumeRoleResponse = (xml: string): Either.Either<typeof TemporaryCredentials.Type, string> => {
  const pick = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]
  const picked = { AccessKeyId: pick("AccessKeyId"), SecretAccessKey: pick("SecretAccessKey"), Token: pick("SessionToken"), Expiration: pick("Expiration") }
  return decodeJsonValue(TemporaryCredentials, picked).pipe(Either.mapLeft((why) => `AssumeRoleWithWebIdentity answer: ${why}`))
}

/** The standard AWS environment, read through effect's Config so tests can supply their own. */
export const awsEnvironment = Config.all({
  accessKeyId: Config.option(Config.string("AWS_ACCESS_KEY_ID")),
  secretAccessKey: Config.option(Config.redacted("AWS_SECRET_ACCESS_KEY")),
  sessionToken: Config.option(Config.redacted("AWS_SESSION_TOKEN")),
  region: Config.option(Config.string("AWS_REGION")).pipe(
    Config.orElse(() => Config.option(Config.string("AWS_DEFAULT_REGION"))),
  ),
  webIdentityTokenFile: Config.option(Config.string("AWS_WEB_IDENTITY_TOKEN_FILE")),
  roleArn: Config.option(Config.string("AWS_ROLE_ARN")),
  roleSessionName: Config.option(Config.string("AWS_ROLE_SESSION_NAME")),
  stsEndpoint: Config.option(Config.string("AWS_ENDPOINT_URL_STS")),
  containerFullUri: Config.option(Config.string("AWS_CONTAINER_CREDENTIALS_FULL_URI")),
  containerRelativeUri: Config.option(Config.string("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")),
  containerToken: Config.option(Config.redacted("AWS_CONTAINER_AUTHORIZATION_TOKEN")),
  containerTokenFile: Config.option(Config.string("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")),
  imdsEndpoint: Config.option(Config.string("AWS_EC2_METADATA_SERVICE_ENDPOINT")),
  imdsDisabled: Config.withDefault(Config.boolean("AWS_EC2_METADATA_DISABLED"), false),
})
export type AwsEnvironment = Config.Config.Success<typeof awsEnvironment>

const IMDS = "http://169.254.169.254"
const ECS_CREDENTIALS_HOST = "http://169.254.170.2"
/** Temporary keys are replaced five minutes before they end, however short their life. */
const TEMPORARY_KEYS_RENEWAL: Renewal = { margin: Duration.minutes(5), lifetimeDivisor: 1 }

type Keys = Effect.Effect<AwsCredentials, RegistryError, RegistryHttp | FileSystem.FileSystem>

const fromCredentialsFile = (provider: EcrProvider, image: ImageRef, file: string): Keys =>
  Effect.gen(function* () {
    const profile = provider.profile ?? "default"
    const text = yield* readProviderFile(provider, image, "credentialsFile", file)
    const keys = yield* Either.mapLeft(parseCredentialsFile(text, profile), (detail) =>
      providerError(provider, image)("Config", `credentialsFile ${file}: ${detail}`),
    )
    return { ...keys, expiresAt: Number.POSITIVE_INFINITY, source: `credentialsFile profile ${profile}` }
  })

/** EKS IRSA: the projected token traded at STS for the role's temporary keys. */
const fromWebIdentity = (provider: ProviderConfig, image: ImageRef, env: AwsEnvironment, tokenFile: string, roleArn: string, region: string): Keys =>
  Effect.gen(function* () {
    const fail = providerError(provider, image)
    const token = yield* readProviderFile(provider, image, "AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
    const sts = Option.getOrElse(env.stsEndpoint, () => `https://sts.${region}.amazonaws.com`)
    const query = new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: roleArn,
      RoleSessionName: Option.getOrElse(env.roleSessionName, () => "runner"),
      WebIdentityToken: token.trim(),
    })
    const http = yield* RegistryHttp
    const reply = yield* http.send(cloudTarget(provider, image), {
      method: "POST",
      url: `${sts}/`,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/xml" },
      body: query.toString(),
    })
    if (reply.status !== 200) return yield* fail("Auth", `STS refused AssumeRoleWithWebIdentity for ${roleArn}`, reply.status)
    const answer = yield* Either.mapLeft(parseAssumeRoleResponse(replyText(reply)), (detail) => fail("Protocol", detail))
    return fromTemporary(answer, `web identity ${roleArn}`)
  })

/** ECS and EKS Pod Identity: an endpoint the agent serves, with an authorization token when it asks for one. */
const fromContainer = (provider: ProviderConfig, image: ImageRef, env: AwsEnvironment, uri: string): Keys =>
  Effect.gen(function* () {
    const token = Option.isSome(env.containerTokenFile)
      ? Option.some((yield* readProviderFile(provider, image, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.containerTokenFile.value)).trim())
      : Option.map(env.containerToken, Redacted.value)
    const headers = Option.match(token, {
      onNone: () => ({ accept: "application/json" }),
      onSome: (value) => ({ accept: "application/json", authorization: value }),
    })
    const answer = yield* cloudJson(cloudTarget(provider, image), { method: "GET", url: uri, headers }, TemporaryCredentials, "the container credentials endpoint")
    return fromTemporary(answer, "container credentials")
  })

/** EC2: the instance role's keys from IMDSv2, behind a session token. */
const fromImds = (provider: ProviderConfig, image: ImageRef, env: AwsEnvironment): Keys =>
  Effect.gen(function* () {
    const fail = providerError(provider, image)
    const target = cloudTarget(provider, image)
    const http = yield* RegistryHttp
    const imds = Option.getOrElse(env.imdsEndpoint, () => IMDS).replace(/\/+$/, "")
    const session = yield* http.send(target, {
      method: "PUT",
      url: `${imds}/latest/api/token`,
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" },
    })
    if (session.status !== 200) return yield* fail("Auth", `no AWS credentials found, and IMDSv2 answered ${session.status}`, session.status)
    const headers = { "x-aws-ec2-metadata-token": replyText(session).trim() }
    const roles = yield* http.send(target, { method: "GET", url: `${imds}/latest/meta-data/iam/security-credentials/`, headers })
    const role = replyText(roles).split("\n")[0]?.trim() ?? ""
    if (roles.status !== 200 || role === "") return yield* fail("Auth", "the instance has no IAM role", roles.status)
    const answer = yield* cloudJson(
      target,
      { method: "GET", url: `${imds}/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`, headers },
      TemporaryCredentials,
      "IMDS",
    )
    return fromTemporary(answer, `instance role ${role}`)
  })

/** The SDKs' order: the provider's credentialsFile, the environment, web identity, container credentials, IMDS. */
const keysFromChain = (provider: EcrProvider, image: ImageRef, env: AwsEnvironment, region: string): Keys => {
  if (provider.credentialsFile !== undefined) return fromCredentialsFile(provider, image, provider.credentialsFile)
  if (Option.isSome(env.accessKeyId) && Option.isSome(env.secretAccessKey)) {
    return Effect.succeed({
      accessKeyId: env.accessKeyId.value,
      secretAccessKey: env.secretAccessKey.value,
      sessionToken: env.sessionToken,
      expiresAt: Number.POSITIVE_INFINITY,
      source: "environment",
    })
  }
  if (Option.isSome(env.webIdentityTokenFile) && Option.isSome(env.roleArn)) {
    return fromWebIdentity(provider, image, env, env.webIdentityTokenFile.value, env.roleArn.value, region)
  }
  const containerUri = Option.orElse(env.containerFullUri, () => Option.map(env.containerRelativeUri, (path) => `${ECS_CREDENTIALS_HOST}${path}`))
  if (Option.isSome(containerUri)) return fromContainer(provider, image, env, containerUri.value)
  if (env.imdsDisabled) {
    return Effect.fail(providerError(provider, image)("Config", "no AWS credentials: set credentialsFile, AWS_ACCESS_KEY_ID, a web identity or container credentials"))
  }
  return fromImds(provider, image, env)
}

export type AwsKeys = (provider: EcrProvider, image: ImageRef, env: AwsEnvironment, region: string) => Keys

/**
 * The keys of a provider in a region. Keys from files and the environment are cheap to get again
 * (and may be rotated); temporary ones are kept until shortly before they end.
 */
export const makeAwsKeys: Effect.Effect<AwsKeys> = Effect.map(makeExpiringCache<Expiring<AwsCredentials>, RegistryError>(), (cache) => (provider, image, env, region) => {
  const fetch = Effect.flatMap(keysFromChain(provider, image, env, region), (keys) =>
    Effect.map(Clock.currentTimeMillis, (now) => ({ value: keys, expiresAt: renewalTime(TEMPORARY_KEYS_RENEWAL, now, keys.expiresAt) })),
  )
  return Effect.map(cache.getOrFetch(`${provider.name}\u0000${region}`, fetch), (kept) => kept.value)
})
