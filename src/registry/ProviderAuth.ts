import { Command, FileSystem } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import type { ProviderConfig } from "../config/model.ts"
import type { TagInfo } from "../policy/TagPolicy.ts"
import { makeExpiringCache } from "./auth.ts"
import {
  AuthorizationData,
  type AwsCredentials,
  type AwsEnvironment,
  awsEnvironment,
  AwsErrorBody,
  decodeEcrToken,
  DescribeImagesPage,
  ecrApiTarget,
  fromTemporary,
  parseAssumeRoleResponse,
  parseCredentialsFile,
  parseEcrHost,
  signV4,
  TemporaryCredentials,
} from "./aws.ts"
import { isHelperName, lookupDockerConfig, parseDockerConfig, parseHelperAnswer } from "./dockerConfig.ts"
import { endpointFor, type RegistryCredentials, type RegistryEndpoint } from "./endpoint.ts"
import type { ImageRef } from "./ImageRef.ts"
import { DEFAULT_RATE_LIMIT } from "./RateLimiter.ts"
import { RegistryError, registryError, scopeOf } from "./RegistryError.ts"
import { type Outgoing, type Reply, RegistryHttp, replyText, type Target } from "./RegistryHttp.ts"
import { decodeJsonText } from "./json.ts"

/**
 * Turns a provider's configuration into a ready endpoint: credentials from files (read on every
 * use, so rotated files take effect without a restart), Docker config files and their helpers,
 * and the cloud token services of GCR and ECR, whose tokens are cached until shortly before they
 * expire. Also lists ECR images through its own API, which knows push times.
 */
export class ProviderAuth extends Context.Tag("ProviderAuth")<
  ProviderAuth,
  {
    readonly endpoint: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<RegistryEndpoint, RegistryError>
    /** ECR's DescribeImages: every tag with its digest and push time. */
    readonly ecrTags: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, RegistryError>
  }
>() {
  static readonly layer: Layer.Layer<ProviderAuth, never, RegistryHttp | FileSystem.FileSystem | CommandExecutor.CommandExecutor> =
    Layer.effect(ProviderAuth, Effect.suspend(() => make))
}

const GCE_METADATA = "http://metadata.google.internal"
const GCE_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
const IMDS = "http://169.254.169.254"
const ECS_CREDENTIALS_HOST = "http://169.254.170.2"
/** ECR tokens live 12 h; a fresh one is fetched an hour before, so no request ever carries a stale one. */
const ECR_TOKEN_MARGIN = Duration.hours(1)
/** Temporary keys and access tokens are replaced this long before they expire. */
const TEMPORARY_MARGIN = Duration.minutes(5)
const DESCRIBE_PAGE = 1000
const MAX_DESCRIBE_PAGES = 1000

const ServiceAccountKey = Schema.Struct({ type: Schema.optional(Schema.String), client_email: Schema.String })
const decodeServiceAccountKey = Schema.decodeUnknownEither(Schema.parseJson(ServiceAccountKey))
const decodeAwsErrorBody = Schema.decodeUnknownOption(Schema.parseJson(AwsErrorBody))
const AccessToken = Schema.Struct({ access_token: Schema.String, expires_in: Schema.optional(Schema.Number) })

interface Expiring<A> {
  readonly value: A
  readonly expiresAt: number
}

const make = Effect.gen(function* () {
  const http = yield* RegistryHttp
  const fs = yield* FileSystem.FileSystem
  const executor = yield* Effect.context<CommandExecutor.CommandExecutor>()
  const gcpTokens = yield* makeExpiringCache<Expiring<Redacted.Redacted<string>>>()
  const ecrTokens = yield* makeExpiringCache<Expiring<RegistryCredentials>>()
  const awsKeys = yield* makeExpiringCache<Expiring<AwsCredentials>>()

  const errorFor = (provider: ProviderConfig, image: ImageRef) => registryError(scopeOf(provider, image))

  const readFile = (provider: ProviderConfig, image: ImageRef, key: string, file: string) =>
    fs.readFileString(file).pipe(
      Effect.mapError((e) => errorFor(provider, image)("Config", `cannot read ${key} ${file}: ${e.message}`)),
    )

  const decodeJson = <A, I>(schema: Schema.Schema<A, I>, text: string, what: string): Either.Either<A, string> =>
    Either.mapLeft(decodeJsonText(schema, text), (why) => `${what} is not valid: ${why}`)

  /** A cloud call that must answer 200 with JSON of the given shape. */
  const cloudJson = <A, I>(target: Target, request: Outgoing, schema: Schema.Schema<A, I>, what: string) =>
    Effect.gen(function* () {
      const fail = registryError(target)
      const reply: Reply = yield* http.send(target, request)
      if (reply.status !== 200) {
        const body = Option.getOrUndefined(decodeAwsErrorBody(replyText(reply)))
        const because = [body?.__type?.replace(/^.*#/, ""), body?.message].filter((part) => part !== undefined).join(": ")
        const reason = reply.status === 401 || reply.status === 403 ? "Auth" : reply.status === 400 && /NotFound/.test(because) ? "NotFound" : "Protocol"
        return yield* fail(reason, `${what} answered ${reply.status}${because === "" ? "" : `: ${because}`}`, reply.status)
      }
      return yield* Either.mapLeft(decodeJson(schema, replyText(reply), `${what} answer`), (detail) => fail("Protocol", detail))
    })

  const targetOf = (provider: ProviderConfig, image: ImageRef): Target => ({
    provider: provider.name,
    registry: image.registry,
    repository: image.repository,
    rateLimit: provider.rateLimit ?? DEFAULT_RATE_LIMIT,
    insecure: false,
    caCert: Option.none(),
  })

  // ---- OCI and Docker Hub: passwordFile, or a Docker config file and its credential helpers.

  const runHelper = (provider: ProviderConfig, image: ImageRef, helper: string, serverUrl: string) => {
    const fail = errorFor(provider, image)
    if (!isHelperName(helper)) return Effect.fail(fail("Config", `credential helper name "${helper}" is not valid`))
    return Command.make(`docker-credential-${helper}`, "get").pipe(
      Command.feed(serverUrl),
      Command.string,
      Effect.provide(executor),
      // The helper's output holds the secret: only its shape is reported.
      Effect.mapError(() => fail("Auth", `credential helper docker-credential-${helper} failed for ${serverUrl}`)),
      Effect.flatMap((text) => Either.mapLeft(parseHelperAnswer(text), (detail) => fail("Auth", `docker-credential-${helper}: ${detail}`))),
    )
  }

  const dockerConfigCredentials = (provider: ProviderConfig, image: ImageRef, file: string) =>
    Effect.gen(function* () {
      const fail = errorFor(provider, image)
      const config = yield* Either.mapLeft(parseDockerConfig(yield* readFile(provider, image, "dockerConfigFile", file)), (detail) =>
        fail("Config", `dockerConfigFile ${file}: ${detail}`),
      )
      const found = yield* Either.mapLeft(lookupDockerConfig(config, image.registry), (detail) => fail("Config", `dockerConfigFile ${file}: ${detail}`))
      if (Option.isNone(found)) return Option.none<RegistryCredentials>()
      const entry = found.value
      return entry._tag === "Stored" ? Option.some(entry.credentials) : Option.some(yield* runHelper(provider, image, entry.helper, entry.serverUrl))
    })

  const fileCredentials = (provider: ProviderConfig, image: ImageRef): Effect.Effect<Option.Option<RegistryCredentials>, RegistryError> => {
    const fail = errorFor(provider, image)
    const { username, passwordFile, dockerConfigFile } = provider
    if (username !== undefined && passwordFile !== undefined) {
      return Effect.map(readFile(provider, image, "passwordFile", passwordFile), (text) =>
        Option.some({ username, password: Redacted.make(text.trim()) }),
      )
    }
    if (username !== undefined) return Effect.fail(fail("Config", `provider ${provider.name} has a username but no passwordFile`))
    if (passwordFile !== undefined) return Effect.fail(fail("Config", `provider ${provider.name} has a passwordFile but no username`))
    if (dockerConfigFile !== undefined) return dockerConfigCredentials(provider, image, dockerConfigFile)
    return Effect.succeedNone
  }

  // ---- GCR / Artifact Registry: a service account key as `_json_key`, else the metadata server's token.

  const gcpAccessToken = (provider: ProviderConfig, image: ImageRef, fresh: boolean) =>
    Effect.gen(function* () {
      const url = `${provider.endpoint ?? GCE_METADATA}${GCE_TOKEN_PATH}`
      if (fresh) yield* gcpTokens.invalidate(url)
      const cached = yield* gcpTokens.get(url)
      if (Option.isSome(cached)) return cached.value.value
      const answer = yield* cloudJson(
        targetOf(provider, image),
        { method: "GET", url, headers: { "metadata-flavor": "Google", accept: "application/json" } },
        AccessToken,
        "the GCE metadata server",
      )
      const now = yield* Clock.currentTimeMillis
      const lifetime = Duration.toMillis(Duration.seconds(answer.expires_in ?? 300))
      const token = Redacted.make(answer.access_token)
      yield* gcpTokens.set(url, { value: token, expiresAt: now + lifetime - Math.min(Duration.toMillis(TEMPORARY_MARGIN), lifetime / 5) })
      return token
    })

  const gcrCredentials = (provider: ProviderConfig, image: ImageRef, fresh: boolean) =>
    Effect.gen(function* () {
      const file = provider.serviceAccountFile
      if (file === undefined) {
        const token = yield* gcpAccessToken(provider, image, fresh)
        return Option.some<RegistryCredentials>({ username: "oauth2accesstoken", password: token })
      }
      const key = yield* readFile(provider, image, "serviceAccountFile", file)
      yield* Either.mapLeft(decodeJson(ServiceAccountKey, key, `serviceAccountFile ${file}`), (detail) =>
        errorFor(provider, image)("Config", detail),
      )
      return Option.some<RegistryCredentials>({ username: "_json_key", password: Redacted.make(key.trim()) })
    })

  // ---- ECR: the AWS credential chain, SigV4-signed calls, a 12 h token cached until an hour before it ends.

  const awsKeysFromChain = (provider: ProviderConfig, image: ImageRef, env: AwsEnvironment, region: string) =>
    Effect.gen(function* () {
      const fail = errorFor(provider, image)
      const target = targetOf(provider, image)
      if (provider.credentialsFile !== undefined) {
        const profile = provider.profile ?? "default"
        const text = yield* readFile(provider, image, "credentialsFile", provider.credentialsFile)
        const keys = yield* Either.mapLeft(parseCredentialsFile(text, profile), (detail) =>
          fail("Config", `credentialsFile ${provider.credentialsFile}: ${detail}`),
        )
        return { ...keys, expiresAt: Number.POSITIVE_INFINITY, source: `credentialsFile profile ${profile}` }
      }
      if (Option.isSome(env.accessKeyId) && Option.isSome(env.secretAccessKey)) {
        return {
          accessKeyId: env.accessKeyId.value,
          secretAccessKey: env.secretAccessKey.value,
          sessionToken: env.sessionToken,
          expiresAt: Number.POSITIVE_INFINITY,
          source: "environment",
        }
      }
      if (Option.isSome(env.webIdentityTokenFile) && Option.isSome(env.roleArn)) {
        const token = yield* readFile(provider, image, "AWS_WEB_IDENTITY_TOKEN_FILE", env.webIdentityTokenFile.value)
        const sts = Option.getOrElse(env.stsEndpoint, () => `https://sts.${region}.amazonaws.com`)
        const query = new URLSearchParams({
          Action: "AssumeRoleWithWebIdentity",
          Version: "2011-06-15",
          RoleArn: env.roleArn.value,
          RoleSessionName: Option.getOrElse(env.roleSessionName, () => "runner"),
          WebIdentityToken: token.trim(),
        })
        const reply = yield* http.send(target, {
          method: "POST",
          url: `${sts}/`,
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/xml" },
          body: query.toString(),
        })
        if (reply.status !== 200) return yield* fail("Auth", `STS refused AssumeRoleWithWebIdentity for ${env.roleArn.value}`, reply.status)
        const answer = yield* Either.mapLeft(parseAssumeRoleResponse(replyText(reply)), (detail) => fail("Protocol", detail))
        return fromTemporary(answer, `web identity ${env.roleArn.value}`)
      }
      const containerUri = Option.orElse(env.containerFullUri, () =>
        Option.map(env.containerRelativeUri, (path) => `${ECS_CREDENTIALS_HOST}${path}`),
      )
      if (Option.isSome(containerUri)) {
        const token = Option.isSome(env.containerTokenFile)
          ? Option.some((yield* readFile(provider, image, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.containerTokenFile.value)).trim())
          : Option.map(env.containerToken, Redacted.value)
        const headers = Option.match(token, {
          onNone: () => ({ accept: "application/json" }),
          onSome: (value) => ({ accept: "application/json", authorization: value }),
        })
        const answer = yield* cloudJson(target, { method: "GET", url: containerUri.value, headers }, TemporaryCredentials, "the container credentials endpoint")
        return fromTemporary(answer, "container credentials")
      }
      if (env.imdsDisabled) {
        return yield* fail("Config", "no AWS credentials: set credentialsFile, AWS_ACCESS_KEY_ID, a web identity or container credentials")
      }
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

  const ecrScope = (provider: ProviderConfig, image: ImageRef) =>
    Effect.gen(function* () {
      const env = yield* Effect.orElseSucceed(awsEnvironment, () => undefined)
      const fail = errorFor(provider, image)
      if (env === undefined) return yield* fail("Config", "the AWS environment variables cannot be read")
      const host = parseEcrHost(image.registry)
      const region = provider.region ?? Option.getOrUndefined(Option.map(host, (h) => h.region)) ?? Option.getOrUndefined(env.region)
      if (region === undefined) return yield* fail("Config", `provider ${provider.name}: no region (set region, or use an ECR image host)`)
      const registryId = provider.registryId ?? Option.getOrUndefined(Option.map(host, (h) => h.registryId))
      const api = provider.endpoint ?? `https://api.ecr.${region}.amazonaws.com`
      // Keys from files and the environment are cheap to get again; temporary ones are kept until shortly before they end.
      const keyId = `${provider.name}\u0000${region}`
      const cached = yield* awsKeys.get(keyId)
      const keys = Option.isSome(cached) ? cached.value.value : yield* awsKeysFromChain(provider, image, env, region)
      if (Option.isNone(cached) && Number.isFinite(keys.expiresAt)) {
        yield* awsKeys.set(keyId, { value: keys, expiresAt: keys.expiresAt - Duration.toMillis(TEMPORARY_MARGIN) })
      }
      return { region, registryId, api, keys }
    })

  const ecrCall = <A, I>(
    provider: ProviderConfig,
    image: ImageRef,
    scope: Effect.Effect.Success<ReturnType<typeof ecrScope>>,
    action: "GetAuthorizationToken" | "DescribeImages",
    body: unknown,
    schema: Schema.Schema<A, I>,
  ) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const request = yield* signV4(
        {
          method: "POST",
          url: `${scope.api}/`,
          headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": ecrApiTarget(action) },
          body: JSON.stringify(body),
        },
        scope.keys,
        { service: "ecr", region: scope.region },
        now,
      )
      return yield* cloudJson(targetOf(provider, image), request, schema, `ECR ${action} (keys from ${scope.keys.source})`)
    })

  const ecrCredentials = (provider: ProviderConfig, image: ImageRef, fresh: boolean) =>
    Effect.gen(function* () {
      const scope = yield* ecrScope(provider, image)
      const key = JSON.stringify([provider.name, scope.region, scope.registryId ?? "", scope.keys.accessKeyId])
      if (fresh) yield* ecrTokens.invalidate(key)
      const cached = yield* ecrTokens.get(key)
      if (Option.isSome(cached)) return Option.some(cached.value.value)
      const answer = yield* ecrCall(provider, image, scope, "GetAuthorizationToken", scope.registryId === undefined ? {} : { registryIds: [scope.registryId] }, AuthorizationData)
      const fail = errorFor(provider, image)
      const data = answer.authorizationData[0]
      if (data === undefined) return yield* fail("Protocol", "ECR GetAuthorizationToken answered without authorizationData")
      const credentials = yield* Either.mapLeft(decodeEcrToken(data.authorizationToken), (detail) => fail("Protocol", detail))
      const now = yield* Clock.currentTimeMillis
      const expiresAt = data.expiresAt === undefined ? now + Duration.toMillis(Duration.hours(12)) : data.expiresAt * 1000
      const life = expiresAt - now
      yield* ecrTokens.set(key, { value: credentials, expiresAt: expiresAt - Math.min(Duration.toMillis(ECR_TOKEN_MARGIN), life / 4) })
      return Option.some(credentials)
    })

  const ecrTags = (provider: ProviderConfig, image: ImageRef) => Effect.gen(function* () {
    const tags: Array<TagInfo> = []
    let nextToken: string | undefined
    for (let page = 0; page < MAX_DESCRIBE_PAGES; page++) {
      // Per page: temporary keys may be renewed during a long listing.
      const scope = yield* ecrScope(provider, image)
      const answer = yield* ecrCall(
        provider,
        image,
        scope,
        "DescribeImages",
        {
          repositoryName: image.repository,
          ...(scope.registryId === undefined ? {} : { registryId: scope.registryId }),
          maxResults: DESCRIBE_PAGE,
          filter: { tagStatus: "TAGGED" },
          ...(nextToken === undefined ? {} : { nextToken }),
        },
        DescribeImagesPage,
      )
      for (const detail of answer.imageDetails) {
        for (const tag of detail.imageTags ?? []) {
          tags.push({
            tag,
            ...(detail.imagePushedAt === undefined ? {} : { created: new Date(detail.imagePushedAt * 1000) }),
            ...(detail.imageDigest === undefined ? {} : { digest: detail.imageDigest }),
          })
        }
      }
      if (answer.nextToken === undefined || answer.nextToken === null || answer.nextToken === "") return tags
      nextToken = answer.nextToken
    }
    return yield* errorFor(provider, image)("Protocol", `DescribeImages has more than ${MAX_DESCRIBE_PAGES} pages`)
  })

  const credentials = (provider: ProviderConfig, image: ImageRef, fresh: boolean) => {
    switch (provider.type) {
      case "GCR":
        return gcrCredentials(provider, image, fresh)
      case "ECR":
        return ecrCredentials(provider, image, fresh)
      default:
        return fileCredentials(provider, image)
    }
  }

  const endpoint = (provider: ProviderConfig, image: ImageRef) => Effect.gen(function* () {
    const base = yield* endpointFor(provider, image)
    const caCert = provider.caFile === undefined ? Option.none<string>() : Option.some(yield* readFile(provider, image, "caFile", provider.caFile))
    const current = yield* credentials(provider, image, false)
    const renewable = provider.type === "GCR" || provider.type === "ECR" || Option.isSome(current)
    return {
      ...base,
      caCert,
      credentials: current,
      renewCredentials: renewable ? Option.some(credentials(provider, image, true)) : Option.none(),
    }
  })

  return ProviderAuth.of({ endpoint, ecrTags })
})

/** The files a provider reads credentials or certificates from, by config key. */
export const credentialFiles = (provider: ProviderConfig): ReadonlyArray<readonly [string, string]> =>
  (["passwordFile", "serviceAccountFile", "credentialsFile", "dockerConfigFile", "caFile"] as const).flatMap((key) => {
    const file = provider[key]
    return file === undefined ? [] : [[key, file] as const]
  })

/**
 * What `runner validate` can say about a provider's credentials without calling anyone. Files that
 * are present but broken, and settings that only work together, are errors; a file missing here is
 * only a warning, since validation often runs where the secrets are not mounted. Messages start with `file:line`.
 */
export const checkProviderCredentials = (
  provider: ProviderConfig,
): Effect.Effect<{ readonly errors: ReadonlyArray<string>; readonly warnings: ReadonlyArray<string> }, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const at = `${provider.source.file}:${provider.source.line}: provider ${provider.name}`
    const errors: Array<string> = []
    const warnings: Array<string> = []
    if ((provider.username === undefined) !== (provider.passwordFile === undefined)) {
      errors.push(`${at}: username and passwordFile go together`)
    }
    for (const [key, file] of credentialFiles(provider)) {
      const text = yield* Effect.either(fs.readFileString(file))
      if (Either.isLeft(text)) {
        warnings.push(`${at}: cannot read ${key} ${file}: ${text.left.message}`)
        continue
      }
      // Only the shape is reported: these files hold secrets.
      if (key === "dockerConfigFile" && Either.isLeft(parseDockerConfig(text.right))) {
        errors.push(`${at}: ${key} ${file} is not a Docker config.json or .dockerconfigjson`)
      }
      if (key === "serviceAccountFile" && Either.isLeft(decodeServiceAccountKey(text.right))) {
        errors.push(`${at}: ${key} ${file} is not a service account key (JSON with client_email)`)
      }
      if (key === "credentialsFile" && Either.isLeft(parseCredentialsFile(text.right, provider.profile ?? "default"))) {
        errors.push(`${at}: ${key} ${file} has no keys for profile ${provider.profile ?? "default"}`)
      }
    }
    return { errors, warnings }
  })
