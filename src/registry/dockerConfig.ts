import { Either, Option, ParseResult, Redacted, Schema } from "effect"
import { decodeBasicPair, type RegistryCredentials } from "./endpoint.ts"
import { DOCKER_HUB, DOCKER_HUB_ALIASES } from "./ImageRef.ts"

/**
 * Docker's `config.json` and a Kubernetes `.dockerconfigjson` pull secret: both hold an `auths`
 * map keyed by registry; Docker's may also name credential helpers per host or for all hosts.
 */
const DockerConfig = Schema.Struct({
  auths: Schema.optional(
    Schema.Record({
      key: Schema.String,
      value: Schema.Struct({
        auth: Schema.optional(Schema.String),
        username: Schema.optional(Schema.String),
        password: Schema.optional(Schema.String),
      }),
    }),
  ),
  credHelpers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  credsStore: Schema.optional(Schema.String),
})
export type DockerConfig = typeof DockerConfig.Type

const decodeDockerConfig = Schema.decodeUnknownEither(Schema.parseJson(DockerConfig))

export const parseDockerConfig = (text: string): Either.Either<DockerConfig, string> =>
  decodeDockerConfig(text).pipe(
    Either.mapLeft((error) => `not a Docker config: ${ParseResult.TreeFormatter.formatErrorSync(error)}`),
  )

/** Docker Hub is keyed by its legacy index URL in every config docker writes. */
const hostAliases = (registry: string): ReadonlyArray<string> =>
  registry === DOCKER_HUB ? [DOCKER_HUB, ...DOCKER_HUB_ALIASES] : [registry]

/** `https://index.docker.io/v1/` -> `index.docker.io`; a bare `host:port` stays as it is. */
const keyHost = (key: string): string => key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase()

/** What the config says about a registry host: stored credentials, a helper to ask, or nothing. */
export type DockerCredentials =
  | { readonly _tag: "Stored"; readonly credentials: RegistryCredentials }
  | { readonly _tag: "Helper"; readonly helper: string; readonly serverUrl: string }

export const lookupDockerConfig = (config: DockerConfig, registry: string): Either.Either<Option.Option<DockerCredentials>, string> => {
  const aliases = hostAliases(registry)
  // The legacy Docker Hub key is what helpers were given when the login happened.
  const serverUrl = registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry
  const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => aliases.includes(keyHost(key)))
  if (helper !== undefined) return Either.right(Option.some({ _tag: "Helper", helper: helper[1], serverUrl }))
  const stored = Object.entries(config.auths ?? {}).find(([key]) => aliases.includes(keyHost(key)))
  if (stored !== undefined) {
    const [key, entry] = stored
    if (entry.auth !== undefined && entry.auth !== "") {
      return Option.match(decodeBasicPair(entry.auth), {
        onNone: () => Either.left(`auths["${key}"].auth is not base64 of user:password`),
        onSome: (credentials) => Either.right(Option.some({ _tag: "Stored", credentials })),
      })
    }
    if (entry.username !== undefined && entry.password !== undefined) {
      return Either.right(Option.some({ _tag: "Stored", credentials: { username: entry.username, password: Redacted.make(entry.password) } }))
    }
  }
  if (config.credsStore !== undefined && config.credsStore !== "") {
    return Either.right(Option.some({ _tag: "Helper", helper: config.credsStore, serverUrl }))
  }
  return Either.right(Option.none())
}

/** The answer of `docker-credential-<helper> get`. */
const HelperAnswer = Schema.Struct({ Username: Schema.String, Secret: Schema.String })

const decodeHelperAnswer = Schema.decodeUnknownEither(Schema.parseJson(HelperAnswer))

export const parseHelperAnswer = (text: string): Either.Either<RegistryCredentials, string> =>
  decodeHelperAnswer(text).pipe(
    Either.mapLeft(() => "the credential helper did not answer with {Username, Secret}"),
    Either.map((answer) => ({ username: answer.Username, password: Redacted.make(answer.Secret) })),
  )

/** Helper names end up in a command name: keep them to what docker itself allows. */
export const isHelperName = (name: string): boolean => /^[A-Za-z0-9_.-]+$/.test(name)
