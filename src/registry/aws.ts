import { AwsV4Signer } from "aws4fetch"
import { Config, Effect, Either, Option, ParseResult, Redacted, Schema } from "effect"
import type { Outgoing } from "./RegistryHttp.ts"
import { decodeBasicPair, type RegistryCredentials } from "./endpoint.ts"

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
    const headers: Record<string, string> = {}
    signed.headers.forEach((value, name) => {
      headers[name] = value
    })
    return { ...request, headers }
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
  return Schema.decodeUnknownEither(TemporaryCredentials)({
    AccessKeyId: pick("AccessKeyId"),
    SecretAccessKey: pick("SecretAccessKey"),
    Token: pick("SessionToken"),
    Expiration: pick("Expiration"),
  }).pipe(Either.mapLeft((error) => `AssumeRoleWithWebIdentity answer: ${ParseResult.TreeFormatter.formatErrorSync(error)}`))
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

/** `123456789012.dkr.ecr.eu-west-1.amazonaws.com` -> account and region. */
export const parseEcrHost = (host: string): Option.Option<{ readonly registryId: string; readonly region: string }> => {
  const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host)
  return match === null ? Option.none() : Option.some({ registryId: match[1] ?? "", region: match[2] ?? "" })
}

export const ecrApiTarget = (action: "GetAuthorizationToken" | "DescribeImages") =>
  `AmazonEC2ContainerRegistry_V20150921.${action}`

export const AuthorizationData = Schema.Struct({
  authorizationData: Schema.Array(Schema.Struct({ authorizationToken: Schema.String, expiresAt: Schema.optional(Schema.Number) })),
})

export const DescribeImagesPage = Schema.Struct({
  imageDetails: Schema.Array(
    Schema.Struct({
      imageDigest: Schema.optional(Schema.String),
      imageTags: Schema.optional(Schema.Array(Schema.String)),
      imagePushedAt: Schema.optional(Schema.Number),
    }),
  ),
  nextToken: Schema.optional(Schema.NullOr(Schema.String)),
})

/** `{"__type": "...#RepositoryNotFoundException", "message": "..."}` */
export const AwsErrorBody = Schema.Struct({ __type: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })

/** ECR's authorization token is base64 of `AWS:<password>`, used as Basic credentials. */
export const decodeEcrToken = (token: string): Either.Either<RegistryCredentials, string> =>
  Either.fromOption(
    Option.filter(decodeBasicPair(token), (c) => c.username !== ""),
    () => "the ECR authorization token is not base64 of user:password",
  )
