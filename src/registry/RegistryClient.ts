import { Clock, Context, Effect, Either, Layer, Option, Redacted, Ref, type Schema } from "effect"
import type { ProviderType } from "../domain/ProviderConfig.ts"
import type { RegistryCredentials } from "../credentials/RegistryCredentials.ts"
import { hostListed } from "../domain/hosts.ts"
import { authorizationSecrets } from "../domain/foreignText.ts"
import { isValidTag, sha256Digest, sha256DigestPattern } from "../domain/ImageRef.ts"
import { type RegistryError, registryError } from "../domain/RegistryError.ts"
import type { Dated, TagInfo } from "../domain/TagInfo.ts"
import { type Outgoing, type Reply, RegistryHttp, registryMessage, replyText as text, safeUrl } from "../http/RegistryHttp.ts"
import { decodeJsonText } from "../json.ts"
import { type Auth, basicAuthorization, credentialsSecrets, keep, type Session, withoutScope } from "./session.ts"
import { type Challenge, makeTokenCache, parseTokenResponse, parseWwwAuthenticate, tokenKey, tokenUrl } from "./auth.ts"
import { createdDate, headerDigest, ImageConfig, Manifest, MANIFEST_ACCEPT, OCI_INDEX, parseNextLink, pickPlatform, readTagList, servedDigest, tagInfos } from "./distribution.ts"
import type { RegistryEndpoint } from "./endpoint.ts"
import { appendPage, DEFAULT_MAX_TAGS, tooManyTags } from "./tagLimit.ts"

/** OCI distribution v2 calls for one repository at a time. */
/** How a tag list is read: as which provider type (only GCR's extra fields are read, from GCR), and how many tags at most. */
export interface ListOptions {
  readonly provider?: ProviderType
  readonly maxTags?: number
}

export class RegistryClient extends Context.Tag("RegistryClient")<
  RegistryClient,
  {
    /**
     * All tags of the repository, following `Link: <...>; rel="next"` pages, in the registry's
     * order. Where a GCR provider's registry tells upload times and digests with the list, they
     * are kept; from any other provider type (the default, OCI) they are not read. More than
     * `maxTags` (default DEFAULT_MAX_TAGS) fails the listing, reason `Limit`, without asking for
     * the pages after.
     */
    readonly listTags: (endpoint: RegistryEndpoint, options?: ListOptions) => Effect.Effect<ReadonlyArray<TagInfo>, RegistryError>
    /** The digest of the manifest (or index) a tag points to, as the registry computes it. */
    readonly manifestDigest: (endpoint: RegistryEndpoint, tag: string) => Effect.Effect<string, RegistryError>
    /**
     * When the image behind a tag was built: the `created` of its config blob (through an index,
     * the linux/amd64 image, else the first). None when the image does not say (or says 1970).
     * With the digest of the manifest (or index) the tag pointed at, by which the date is kept.
     */
    readonly imageCreated: (endpoint: RegistryEndpoint, tag: string) => Effect.Effect<Dated, RegistryError>
    /** A manifest by tag or digest, its bytes as served; None when the registry has none. */
    readonly manifest: (endpoint: RegistryEndpoint, reference: string) => Effect.Effect<Option.Option<Uint8Array>, RegistryError>
    /** A blob by digest, refused unless its bytes hash to that digest. */
    readonly blob: (endpoint: RegistryEndpoint, digest: string) => Effect.Effect<Uint8Array, RegistryError>
    /**
     * The OCI index of the manifests referring to `digest` (distribution spec referrers API); None
     * when the registry does not offer the API, and the caller falls back to the referrers tag schema.
     */
    readonly referrers: (endpoint: RegistryEndpoint, digest: string) => Effect.Effect<Option.Option<Uint8Array>, RegistryError>
  }
>() {
  /** Over the RegistryHttp that main.ts gives every registry and cloud call, so they share its per-host limiters. */
  static readonly layer: Layer.Layer<RegistryClient, never, RegistryHttp> = Layer.effect(RegistryClient, Effect.suspend(() => make))
}

const PAGE_SIZE = 1000
const MAX_PAGES = 1000
/** Statuses of a registry without the referrers API: distribution 2.8 answers 404, others 400, 405 or 406. */
const NO_REFERRERS_API = new Set([400, 404, 405, 406])

const make = Effect.gen(function* () {
  const http = yield* RegistryHttp
  const tokens = yield* makeTokenCache

  /** An error of an operation: scrubbed of the session's secrets when there is a session. */
  const fail = (at: RegistryEndpoint | Session, reason: RegistryError["reason"], detail: string, status?: number) =>
    "secrets" in at ? registryError(at.endpoint, at.secrets)(reason, detail, status) : registryError(at)(reason, detail, status)

  /** RegistryHttp knows only the request's own secrets; the session's others are cut from its errors too. */
  const send = (s: Session, request: Outgoing) =>
    http.send(s.endpoint, request).pipe(Effect.mapError((error) => fail(s, error.reason, error.detail, error.status)))

  // How each registry asked to authenticate, so that a session for another repository starts
  // with a token instead of paying an anonymous request and its 401 first.
  const schemes = yield* Ref.make(new Map<string, Auth>())
  const schemeKey = (endpoint: RegistryEndpoint) =>
    `${endpoint.baseUrl}\u0000${Option.match(endpoint.credentials, { onNone: () => "", onSome: (c) => c.username })}`
  const remember = (s: Session, auth: Auth) =>
    Ref.update(schemes, (known) => {
      // A Bearer challenge's scope names one repository; later repositories ask for their own.
      const general: Auth =
        auth._tag === "Bearer"
          ? { _tag: "Bearer", challenge: { scheme: auth.challenge.scheme, params: withoutScope(auth.challenge.params) } }
          : auth
      return new Map(known).set(schemeKey(s.endpoint), general)
    }).pipe(Effect.zipRight(Ref.set(s.auth, auth)))

  const session = (endpoint: RegistryEndpoint): Effect.Effect<Session> =>
    Effect.map(Ref.get(schemes), (known) => ({
      endpoint,
      auth: Ref.unsafeMake<Auth>(known.get(schemeKey(endpoint)) ?? { _tag: "Anonymous" }),
      credentials: Ref.unsafeMake(endpoint.credentials),
      renewed: Ref.unsafeMake(false),
      secrets: new Set(credentialsSecrets(endpoint.credentials)),
    }))

  /** Swaps in fresh credentials after a rejection; false when there is nothing fresh to try. */
  const renew = (s: Session): Effect.Effect<boolean, RegistryError> =>
    Effect.gen(function* () {
      if (Option.isNone(s.endpoint.renewCredentials) || (yield* Ref.get(s.renewed))) return false
      yield* Ref.set(s.renewed, true)
      const fresh = yield* s.endpoint.renewCredentials.value
      keep(s, credentialsSecrets(fresh))
      yield* Ref.set(s.credentials, fresh)
      return true
    })

  const who = (credentials: Option.Option<RegistryCredentials>, anonymous: string) =>
    Option.match(credentials, { onNone: () => anonymous, onSome: (c) => `the credentials of user ${c.username}` })

  const fetchToken = Effect.fn("RegistryClient.fetchToken")(function* (s: Session, challenge: Challenge) {
    const endpoint = s.endpoint
    const url = yield* Either.mapLeft(tokenUrl(challenge, endpoint.repository, endpoint.baseUrl), (detail) => fail(s, "Protocol", detail))
    const credentials = yield* Ref.get(s.credentials)
    // Credentials go to the token service the registry named, if it is a host the provider serves, and to nothing else.
    if (Option.isSome(credentials) && !hostListed(endpoint.servedHosts, url.hostname)) {
      return yield* fail(
        s,
        "Auth",
        `token service ${url.host} is not a host provider ${endpoint.provider} serves (${endpoint.servedHosts.join(", ")}): its credentials are not sent there; add it to the provider's hosts if it is the registry's own`,
      )
    }
    const headers: Record<string, string> = Option.match(credentials, {
      onNone: () => ({ accept: "application/json" }),
      onSome: (c) => ({ accept: "application/json", authorization: basicAuthorization(c) }),
    })
    const reply = yield* send(s, { method: "GET", url: url.href, headers })
    if (reply.status === 401 || reply.status === 403) {
      return yield* fail(endpoint, "Auth", `token service ${url.host} refused ${who(credentials, "anonymous access")}`, reply.status)
    }
    if (reply.status !== 200) {
      return yield* fail(endpoint, "Protocol", `token service ${url.host} answered ${reply.status}`, reply.status)
    }
    const now = yield* Clock.currentTimeMillis
    const token = yield* Either.mapLeft(parseTokenResponse(text(reply), now), (detail) =>
      fail(s, "Protocol", `token service ${url.host}: ${detail}`),
    )
    keep(s, [Redacted.value(token.token)])
    return token
  })

  const bearerKey = (s: Session, challenge: Challenge) =>
    Effect.map(Ref.get(s.credentials), (credentials) =>
      tokenKey(challenge, s.endpoint.repository, Option.map(credentials, (c) => c.username)),
    )

  const authorization = (s: Session, auth: Auth): Effect.Effect<Option.Option<string>, RegistryError> => {
    switch (auth._tag) {
      case "Anonymous":
        return Effect.succeedNone
      case "Basic":
        return Effect.succeed(Option.some(basicAuthorization(auth.credentials)))
      case "Bearer":
        return Effect.gen(function* () {
          const key = yield* bearerKey(s, auth.challenge)
          const cached = yield* tokens.get(key)
          if (Option.isSome(cached)) return Option.some(`Bearer ${Redacted.value(cached.value.token)}`)
          const fresh = yield* fetchToken(s, auth.challenge).pipe(
            // A token service refusing rotated-away credentials gets the fresh ones once.
            Effect.catchIf(
              (error) => error.reason === "Auth",
              (error) => Effect.flatMap(renew(s), (renewed) => (renewed ? fetchToken(s, auth.challenge) : Effect.fail(error))),
            ),
          )
          yield* tokens.set(yield* bearerKey(s, auth.challenge), fresh)
          return Option.some(`Bearer ${Redacted.value(fresh.token)}`)
        })
    }
  }

  /** How to answer a first 401: Bearer when offered (it is what registries mean), else Basic. */
  const chooseAuth = (s: Session, challenges: ReadonlyArray<Challenge>): Effect.Effect<Auth, RegistryError> =>
    Effect.gen(function* () {
      const bearer = challenges.find((challenge) => challenge.scheme === "bearer")
      if (bearer !== undefined) return { _tag: "Bearer", challenge: bearer } as const
      if (challenges.some((challenge) => challenge.scheme === "basic")) {
        const credentials = yield* Ref.get(s.credentials)
        if (Option.isSome(credentials)) return { _tag: "Basic", credentials: credentials.value } as const
        return yield* fail(s, "Auth", "the registry requires a username and password, none are configured", 401)
      }
      const offered = challenges.map((challenge) => challenge.scheme).join(", ")
      return yield* fail(
        s,
        "Auth",
        offered === "" ? "401 without a WWW-Authenticate challenge" : `unsupported auth scheme(s): ${offered}`,
        401,
      )
    })

  /**
   * A request that answers the registry's 401 challenges: anonymous first, then Basic or a Bearer
   * token. A rejected token is dropped and fetched again once; rejected credentials are renewed
   * once (a rotated file, an expired cloud token). The session carries the outcome to later requests.
   */
  const authorizedRequest = (s: Session, method: "GET" | "HEAD", url: string, accept: string): Effect.Effect<Reply, RegistryError> => {
    const endpoint = s.endpoint
    const go = (tokenRetried: boolean): Effect.Effect<Reply, RegistryError> =>
      Effect.gen(function* () {
        const auth = yield* Ref.get(s.auth)
        const header = yield* authorization(s, auth)
        if (Option.isSome(header)) keep(s, authorizationSecrets(header.value))
        const headers = Option.match(header, {
          onNone: () => ({ accept }),
          onSome: (value) => ({ accept, authorization: value }),
        })
        const reply = yield* send(s, { method, url, headers })
        if (reply.status !== 401) return reply
        const challenges = parseWwwAuthenticate(reply.headers["www-authenticate"] ?? "")
        switch (auth._tag) {
          case "Anonymous": {
            yield* remember(s, yield* chooseAuth(s, challenges))
            return yield* go(false)
          }
          case "Basic": {
            if (yield* renew(s)) {
              yield* remember(s, yield* chooseAuth(s, challenges))
              return yield* go(false)
            }
            return yield* fail(endpoint, "Auth", `the registry rejected the credentials of user ${auth.credentials.username}`, 401)
          }
          case "Bearer": {
            yield* tokens.invalidate(yield* bearerKey(s, auth.challenge))
            if (tokenRetried) {
              const credentials = yield* Ref.get(s.credentials)
              const message = Option.match(credentials, {
                onNone: () => "an anonymous token; configure a username and password",
                onSome: (c) => `the token issued to user ${c.username}`,
              })
              if (!(yield* renew(s))) return yield* fail(endpoint, "Auth", `the registry rejected ${message}`, 401)
            }
            // The new challenge may ask for a different scope (error="insufficient_scope").
            const fresh = challenges.find((challenge) => challenge.scheme === "bearer") ?? auth.challenge
            yield* remember(s, { _tag: "Bearer", challenge: fresh })
            return yield* go(true)
          }
        }
      })
    return go(false)
  }

  /** Maps the statuses left after auth and retries to errors. */
  const checkStatus = (s: Session, reply: Reply, what: string): Effect.Effect<Reply, RegistryError> => {
    if (reply.status === 200) return Effect.succeed(reply)
    const message = registryMessage(text(reply))
    if (reply.status === 404) {
      return Effect.fail(fail(s, "NotFound", Option.getOrElse(message, () => `${what} does not exist`), 404))
    }
    if (reply.status === 403) {
      return Effect.fail(fail(s, "Auth", Option.getOrElse(message, () => `access to ${what} denied`), 403))
    }
    return Effect.fail(
      fail(s, "Protocol", Option.getOrElse(message, () => `unexpected status for ${what}`), reply.status),
    )
  }

  const getChecked = (s: Session, method: "GET" | "HEAD", url: string, accept: string, what: string) =>
    authorizedRequest(s, method, url, accept).pipe(Effect.flatMap((reply) => checkStatus(s, reply, what)))

  const decode = <A, I>(s: Session, schema: Schema.Schema<A, I>, reply: Reply, what: string) =>
    decodeJsonText(schema, text(reply)).pipe(Either.mapLeft((why) => fail(s, "Protocol", `${what} is not valid: ${why}`)))

  const listTags = (endpoint: RegistryEndpoint, { provider = "OCI", maxTags = DEFAULT_MAX_TAGS }: ListOptions = {}) => Effect.gen(function* () {
    const s = yield* session(endpoint)
    const tags: Array<TagInfo> = []
    let url = `${endpoint.baseUrl}/v2/${endpoint.repository}/tags/list?n=${PAGE_SIZE}`
    const seen = new Set([url])
    for (;;) {
      const reply = yield* getChecked(s, "GET", url, "application/json", "the tag list")
      const list = yield* Either.mapLeft(readTagList(text(reply)), (why) => fail(s, "Protocol", `tag list is not valid: ${why}`))
      if (!appendPage(tags, tagInfos(list, provider), maxTags)) return yield* fail(endpoint, "Limit", tooManyTags(endpoint.provider, maxTags))
      const next = yield* Either.mapLeft(parseNextLink(reply.headers["link"], url), (detail) => fail(s, "Protocol", detail))
      if (Option.isNone(next)) return tags
      if (seen.has(next.value)) return yield* fail(endpoint, "Protocol", `tag list pages loop back to ${safeUrl(next.value)}`)
      if (seen.size >= MAX_PAGES) return yield* fail(endpoint, "Protocol", `tag list has more than ${MAX_PAGES} pages`)
      seen.add(next.value)
      url = next.value
    }
  })

  const manifestUrl = (endpoint: RegistryEndpoint, reference: string) => `${endpoint.baseUrl}/v2/${endpoint.repository}/manifests/${reference}`

  const checkTag = (endpoint: RegistryEndpoint, tag: string) =>
    isValidTag(tag) ? Effect.void : Effect.fail(fail(endpoint, "Config", `"${tag}" is not a valid tag`))

  const manifestDigest = (endpoint: RegistryEndpoint, tag: string) => Effect.gen(function* () {
    yield* checkTag(endpoint, tag)
    const s = yield* session(endpoint)
    const url = manifestUrl(endpoint, tag)
    const head = yield* getChecked(s, "HEAD", url, MANIFEST_ACCEPT, `tag ${tag}`)
    return yield* Option.match(headerDigest(head), {
      onSome: Effect.succeed,
      onNone: () => Effect.map(getChecked(s, "GET", url, MANIFEST_ACCEPT, `tag ${tag}`), servedDigest)
    })
  })

  const imageCreated = (endpoint: RegistryEndpoint, tag: string) => Effect.gen(function* () {
    yield* checkTag(endpoint, tag)
    const s = yield* session(endpoint)
    const what = `tag ${tag}`
    const served = yield* getChecked(s, "GET", manifestUrl(endpoint, tag), MANIFEST_ACCEPT, what)
    const top = yield* decode(s, Manifest, served, `manifest of ${what}`)
    const digest = Option.some(servedDigest(served))
    const image = yield* Option.match(Option.fromNullable(top.manifests).pipe(Option.flatMap(pickPlatform)), {
      onNone: () => Effect.succeed(top),
      onSome: (digest) =>
        Effect.flatMap(getChecked(s, "GET", manifestUrl(endpoint, digest), MANIFEST_ACCEPT, `manifest ${digest}`), (reply) =>
          decode(s, Manifest, reply, `manifest ${digest}`),
        ),
    })
    if (image.config === undefined) return { digest, created: Option.none() } satisfies Dated
    const blob = `${endpoint.baseUrl}/v2/${endpoint.repository}/blobs/${image.config.digest}`
    const config = yield* decode(s, ImageConfig, yield* getChecked(s, "GET", blob, "*/*", `config blob of ${what}`), `config blob of ${what}`)
    return { digest, created: createdDate(config.created) } satisfies Dated
  })

  const manifest = (endpoint: RegistryEndpoint, reference: string) => Effect.gen(function* () {
    const s = yield* session(endpoint)
    const reply = yield* getChecked(s, "GET", manifestUrl(endpoint, reference), MANIFEST_ACCEPT, `manifest ${reference}`).pipe(
      Effect.map(Option.some),
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(Option.none<Reply>()))
    )
    return Option.map(reply, (r): Uint8Array => r.body)
  })

  const blob = (endpoint: RegistryEndpoint, digest: string) => Effect.gen(function* () {
    if (!sha256DigestPattern.test(digest)) return yield* fail(endpoint, "Protocol", `blob digest ${digest} is not a sha256 digest`)
    const s = yield* session(endpoint)
    const reply = yield* getChecked(s, "GET", `${endpoint.baseUrl}/v2/${endpoint.repository}/blobs/${digest}`, "*/*", `blob ${digest}`)
    if (sha256Digest(reply.body) !== digest) return yield* fail(endpoint, "Protocol", `blob ${digest} does not match its digest`)
    return reply.body
  })

  const referrers = (endpoint: RegistryEndpoint, digest: string) => Effect.gen(function* () {
    if (!sha256DigestPattern.test(digest)) return yield* fail(endpoint, "Protocol", `referrers of ${digest}: not a sha256 digest`)
    const s = yield* session(endpoint)
    const url = `${endpoint.baseUrl}/v2/${endpoint.repository}/referrers/${digest}`
    const reply = yield* authorizedRequest(s, "GET", url, OCI_INDEX)
    // As go-containerregistry reads it: an answer that is not an OCI index means no referrers API.
    if (NO_REFERRERS_API.has(reply.status)) return Option.none<Uint8Array>()
    const ok = yield* checkStatus(s, reply, `referrers of ${digest}`)
    const type = (ok.headers["content-type"] ?? "").split(";")[0]?.trim()
    return type === OCI_INDEX ? Option.some<Uint8Array>(ok.body) : Option.none<Uint8Array>()
  })

  return RegistryClient.of({ listTags, manifestDigest, imageCreated, manifest, blob, referrers })
})
