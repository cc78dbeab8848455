import { Command, FileSystem } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import { Effect, Either, Option, Redacted, Schema } from "effect"
import { fileCredentialsOf, isRegistryProvider, type ProviderConfig } from "../domain/ProviderConfig.ts"
import { DOCKER_HUB, DOCKER_HUB_ALIASES, type ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import { decodeJsonText } from "../json.ts"
import { decodeBasicPair, type RegistryCredentials } from "./RegistryCredentials.ts"
import { fileProblem } from "../files.ts"

/** A file a provider names, read at every use so that a rotated secret takes effect without a restart. */
export const readProviderFile = (
  provider: ProviderConfig,
  image: ImageRef,
  key: string,
  file: string,
): Effect.Effect<string, RegistryError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.mapError((e) => providerError(provider, image)("Config", `cannot read ${key} ${file}: ${fileProblem(e)}`)),
  )

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

export const parseDockerConfig = (text: string): Either.Either<DockerConfig, string> =>
  Either.mapLeft(decodeJsonText(DockerConfig, text), (why) => `not a Docker config: ${why}`)

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

export const parseHelperAnswer = (text: string): Either.Either<RegistryCredentials, string> =>
  decodeJsonText(HelperAnswer, text).pipe(
    Either.mapLeft(() => "the credential helper did not answer with {Username, Secret}"),
    Either.map((answer) => ({ username: answer.Username, password: Redacted.make(answer.Secret) })),
  )

/** Helper names end up in a command name: keep them to what docker itself allows. */
export const isHelperName = (name: string): boolean => /^[A-Za-z0-9_.-]+$/.test(name)

const runHelper = (provider: ProviderConfig, image: ImageRef, helper: string, serverUrl: string) => {
  const fail = providerError(provider, image)
  if (!isHelperName(helper)) return Effect.fail(fail("Config", `credential helper name "${helper}" is not valid`))
  return Command.make(`docker-credential-${helper}`, "get").pipe(
    Command.feed(serverUrl),
    Command.string,
    // The helper's output holds the secret: only its shape is reported.
    Effect.mapError(() => fail("Auth", `credential helper docker-credential-${helper} failed for ${serverUrl}`)),
    Effect.flatMap((text) => Either.mapLeft(parseHelperAnswer(text), (detail) => fail("Auth", `docker-credential-${helper}: ${detail}`))),
  )
}

const dockerConfigCredentials = (provider: ProviderConfig, image: ImageRef, file: string) =>
  Effect.gen(function* () {
    const fail = providerError(provider, image)
    const config = yield* Either.mapLeft(parseDockerConfig(yield* readProviderFile(provider, image, "dockerConfigFile", file)), (detail) =>
      fail("Config", `dockerConfigFile ${file}: ${detail}`),
    )
    const found = yield* Either.mapLeft(lookupDockerConfig(config, image.registry), (detail) => fail("Config", `dockerConfigFile ${file}: ${detail}`))
    if (Option.isNone(found)) return Option.none<RegistryCredentials>()
    const entry = found.value
    return entry._tag === "Stored" ? Option.some(entry.credentials) : Option.some(yield* runHelper(provider, image, entry.helper, entry.serverUrl))
  })

/** OCI and Docker Hub: username and passwordFile (a chart registry's: inline password), or a Docker config file and its helpers; none is anonymous. */
export const fileCredentials = (
  provider: ProviderConfig,
  image: ImageRef,
): Effect.Effect<Option.Option<RegistryCredentials>, RegistryError, FileSystem.FileSystem | CommandExecutor.CommandExecutor> => {
  const fail = providerError(provider, image)
  const { username, password, passwordFile, dockerConfigFile } = fileCredentialsOf(provider)
  // Only a chart registry's provider carries its password inline: there is no file to read again.
  if (username !== undefined && password !== undefined) return Effect.succeedSome({ username, password })
  if (username !== undefined && passwordFile !== undefined) {
    return Effect.map(readProviderFile(provider, image, "passwordFile", passwordFile), (text) =>
      Option.some({ username, password: Redacted.make(text.trim()) }),
    )
  }
  if (username !== undefined) return Effect.fail(fail("Config", `provider ${provider.name} has a username but no passwordFile`))
  if (passwordFile !== undefined) return Effect.fail(fail("Config", `provider ${provider.name} has a passwordFile but no username`))
  if (dockerConfigFile !== undefined) return dockerConfigCredentials(provider, image, dockerConfigFile)
  return Effect.succeedNone
}

/** The PEM certificates of the provider's caFile, trusted besides the system's. */
export const caCertOf = (provider: ProviderConfig, image: ImageRef): Effect.Effect<Option.Option<string>, RegistryError, FileSystem.FileSystem> =>
  !isRegistryProvider(provider) || provider.caFile === undefined
    ? Effect.succeedNone
    : Effect.asSome(readProviderFile(provider, image, "caFile", provider.caFile))
