import { Duration, type Effect, Either, Option, Redacted, Schema } from "effect"
import { type ExpiringCache, makeExpiringCache, type Renewal, renewalTime } from "../credentials/ExpiringCache.ts"
import { decodeJsonText } from "../json.ts"

/** One challenge of a `WWW-Authenticate` header. */
export interface Challenge {
  /** Lowercased: `bearer`, `basic`, ... */
  readonly scheme: string
  /** Parameter names lowercased, values unquoted. */
  readonly params: Readonly<Record<string, string>>
}

const isTokenChar = (c: string) => !/[\s,="]/.test(c)

/**
 * Parses every challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1): challenges and their
 * parameters are both comma-separated, so a bare token not followed by `=` starts a new challenge.
 * Values may be quoted or not; unquoted values run to the next comma, so scopes like
 * `repository:127.0.0.1:5000/foo:pull` survive.
 */
export const parseWwwAuthenticate = (header: string): ReadonlyArray<Challenge> => {
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = []
  let i = 0
  const skipSpace = () => {
    while (i < header.length && /\s/.test(header.charAt(i))) i++
  }
  const readToken = () => {
    const start = i
    while (i < header.length && isTokenChar(header.charAt(i))) i++
    return header.slice(start, i)
  }
  // Outside a parameter, a token starts a new challenge only at the start or after a comma;
  // otherwise it is token68 credentials of the previous scheme, which no registry uses.
  let afterComma = true
  while (i < header.length) {
    skipSpace()
    if (header.charAt(i) === ",") {
      i++
      afterComma = true
      continue
    }
    const token = readToken()
    skipSpace()
    const current = challenges[challenges.length - 1]
    if (token === "" || (header.charAt(i) === "=" && current === undefined)) {
      // Malformed: skip to the next comma rather than guess.
      while (i < header.length && header.charAt(i) !== ",") i++
    } else if (header.charAt(i) === "=" && current !== undefined) {
      i++
      skipSpace()
      let value = ""
      if (header.charAt(i) === '"') {
        i++
        while (i < header.length && header.charAt(i) !== '"') {
          if (header.charAt(i) === "\\" && i + 1 < header.length) i++
          value += header.charAt(i)
          i++
        }
        i++
      } else {
        const start = i
        while (i < header.length && header.charAt(i) !== ",") i++
        value = header.slice(start, i).trim()
      }
      current.params[token.toLowerCase()] = value
    } else if (afterComma || current === undefined) {
      challenges.push({ scheme: token.toLowerCase(), params: {} })
    }
    afterComma = false
  }
  return challenges
}

/** The default scope asked for when a Bearer challenge names none. */
export const pullScope = (repository: string): string => `repository:${repository}:pull`

/**
 * The token request for a Bearer challenge: `realm?service=...&scope=...`. A registry reached over
 * https (`registryUrl`) is not followed to a realm over http: nothing asked over TLS goes to cleartext.
 */
export const tokenUrl = (challenge: Challenge, repository: string, registryUrl?: string): Either.Either<URL, string> => {
  const realm = challenge.params["realm"]
  if (realm === undefined || realm === "") return Either.left("Bearer challenge without a realm")
  let url: URL
  try {
    url = new URL(realm)
  } catch {
    return Either.left(`Bearer realm "${realm}" is not a URL`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Either.left(`Bearer realm "${realm}" is not an http(s) URL`)
  }
  if (url.protocol === "http:" && registryUrl?.startsWith("https:") === true) {
    return Either.left(`Bearer realm "${realm}" is plain http while the registry is https: not followed`)
  }
  const service = challenge.params["service"]
  if (service !== undefined) url.searchParams.set("service", service)
  // Several scopes are space-separated in a challenge and sent as repeated parameters.
  for (const scope of challengeScope(challenge, repository).split(/\s+/)) {
    if (scope !== "") url.searchParams.append("scope", scope)
  }
  return Either.right(url)
}

/** The scope a Bearer token is asked for: the challenge's, else pulling the repository. */
export const challengeScope = (challenge: Challenge, repository: string): string =>
  challenge.params["scope"] ?? pullScope(repository)

const TokenResponse = Schema.Struct({
  token: Schema.optional(Schema.String),
  access_token: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Number),
  issued_at: Schema.optional(Schema.String),
})

export interface CachedToken {
  readonly token: Redacted.Redacted<string>
  /** Epoch milliseconds after which the token is not used any more. */
  readonly expiresAt: number
}

const DEFAULT_TOKEN_LIFETIME_S = 60
/** Tokens are dropped this long before the registry would reject them, at most a fifth of their life. */
const TOKEN_RENEWAL: Renewal = { margin: Duration.seconds(10), lifetimeDivisor: 5 }

/** When a token of the given lifetime, issued at `issuedAt` (RFC 3339), stops being used. */
export const tokenExpiry = (now: number, expiresIn: number | undefined, issuedAt: string | undefined): number => {
  const lifetime = (expiresIn !== undefined && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_S) * 1000
  const issued = issuedAt === undefined ? Number.NaN : Date.parse(issuedAt)
  // A registry clock ahead of ours, or a stale issued_at, must not stretch or void the lifetime.
  const start = Number.isFinite(issued) && issued <= now && issued >= now - lifetime ? issued : now
  return renewalTime(TOKEN_RENEWAL, start, start + lifetime)
}

/** Reads `token` (or `access_token`) from a token service answer. */
export const parseTokenResponse = (body: string, now: number): Either.Either<CachedToken, string> =>
  decodeJsonText(TokenResponse, body).pipe(
    Either.mapLeft((why) => `token response is not valid: ${why}`),
    Either.flatMap((answer) => {
      const token = answer.token !== undefined && answer.token !== "" ? answer.token : answer.access_token
      return token === undefined || token === ""
        ? Either.left("token response has neither token nor access_token")
        : Either.right({ token: Redacted.make(token), expiresAt: tokenExpiry(now, answer.expires_in, answer.issued_at) })
    }),
  )

/** Identifies a token: the same realm, service and scope for the same user get the same token. */
export const tokenKey = (challenge: Challenge, repository: string, username: Option.Option<string>): string =>
  JSON.stringify([
    challenge.params["realm"] ?? "",
    challenge.params["service"] ?? "",
    challengeScope(challenge, repository),
    Option.getOrElse(username, () => ""),
  ])

/** Bearer tokens shared by all requests of a client. */
export const makeTokenCache: Effect.Effect<ExpiringCache<CachedToken>> = makeExpiringCache<CachedToken>()
