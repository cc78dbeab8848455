import { Duration, Either, ParseResult, Schema, type SchemaAST } from "effect"
import type { ConfigError, Issue, KeyPath, SourceDocument } from "./ConfigError.ts"
import { decodeDocumentsOfKind, decodeOptions, oneOf, opt, schemaIssues, showValue } from "./ConfigError.ts"
import { DEFAULT_LISTING_INTERVAL, parseGoDuration } from "./duration.ts"
import { ChartRegistrySection, ChartRepositorySection, toChartSources } from "./charts.ts"
import { GateSection, toGates } from "./gates.ts"
import { GitSection, toGitConfig } from "./git.ts"
import { NotificationsSection, RouteSection, toNotificationRoutes } from "./notifications.ts"
import { Policy, toPolicy } from "./policy.ts"
import { MaxTags, RateLimitSchema, registryAddress, registrySettings } from "./registrySettings.ts"
import { GitRepoSection, RepositorySection, toWatchedRepos } from "./repos.ts"
import type { DeclaredProvider, ProviderConfig, ProviderType } from "../domain/ProviderConfig.ts"
import type { Pipeline, RepositoryConfig } from "./model.ts"

export const API_VERSION = "pipecd.dev/v1beta1"
const DEFAULT_INTERVAL = DEFAULT_LISTING_INTERVAL

const Text = Schema.String
const Name = Schema.NonEmptyString

/** A positive Go duration ("5m"), as Piped writes intervals. */
const Interval = Schema.transformOrFail(Schema.Unknown, Schema.DurationFromSelf, {
  strict: true,
  decode: (input, _, ast) => {
    if (typeof input !== "string") {
      return ParseResult.fail(new ParseResult.Type(ast, input, `expected a duration such as "5m", got ${showValue(input)}`))
    }
    return Either.match(parseGoDuration(input), {
      onLeft: (why) => ParseResult.fail(new ParseResult.Type(ast, input, why)),
      onRight: (duration) =>
        Duration.isZero(duration)
          ? ParseResult.fail(new ParseResult.Type(ast, input, "an interval must be longer than 0"))
          : ParseResult.succeed(duration)
    })
  },
  encode: (duration, _, ast) => ParseResult.fail(new ParseResult.Forbidden(ast, duration, "intervals are only decoded"))
})

const providerTypes = ["DOCKER_HUB", "DOCKERHUB", "GCR", "ECR", "OCI", "STORE"] as const
const ProviderTypeSchema = Schema.transform(oneOf(...providerTypes), Schema.Literal("DOCKER_HUB", "GCR", "ECR", "OCI", "STORE"), {
  strict: true,
  decode: (type) => (type === "DOCKERHUB" ? "DOCKER_HUB" : type),
  encode: (type) => type
})

const providerConfigSchemas = {
  OCI: Schema.Struct({
    address: opt(registryAddress(false)),
    username: opt(Text),
    passwordFile: opt(Text),
    dockerConfigFile: opt(Text),
    ...registrySettings
  }).pipe(
    // Without them the image of a watcher file would decide where the credentials go.
    Schema.filter((oci) =>
      (oci.username === undefined && oci.passwordFile === undefined && oci.dockerConfigFile === undefined) || oci.address !== undefined || (oci.hosts ?? []).length > 0
        ? undefined
        : { path: ["address"], message: "an OCI provider with credentials must name the registries they are for: set address or hosts" }
    )
  ),
  DOCKER_HUB: Schema.Struct({
    username: opt(Text),
    passwordFile: opt(Text),
    dockerConfigFile: opt(Text),
    rateLimit: opt(RateLimitSchema),
    // Docker Hub's web API, for tags' push times (minAge gates); a mirror or a test server.
    endpoint: opt(registryAddress(false)),
    maxTags: MaxTags
  }),
  GCR: Schema.Struct({ serviceAccountFile: opt(Text), address: opt(registryAddress(true)), endpoint: opt(registryAddress(false)), ...registrySettings }),
  ECR: Schema.Struct({
    region: opt(Text),
    registryId: opt(Text),
    credentialsFile: opt(Text),
    profile: opt(Text),
    address: opt(registryAddress(true)),
    endpoint: opt(registryAddress(false)),
    ...registrySettings
  }),
  STORE: Schema.Struct({ path: opt(Text), maxTags: MaxTags })
} satisfies Record<ProviderType, Schema.Schema.Any>

/** A provider's own settings, per type: the variant without what the section around `config` gives. */
type SettingsOf<P> = P extends ProviderConfig ? Omit<P, "name" | "interval" | "source"> : never
type ProviderSettings = SettingsOf<DeclaredProvider>

const decodeProviderSettings = (
  type: ProviderType,
  config: unknown,
  options: SchemaAST.ParseOptions
): Either.Either<ProviderSettings, ParseResult.ParseIssue> => {
  const decode = <A, I>(schema: Schema.Schema<A, I>) => ParseResult.decodeUnknownEither(schema)(config ?? {}, options)
  switch (type) {
    case "OCI":
      return Either.map(decode(providerConfigSchemas.OCI), (settings) => ({ type, ...settings, insecure: settings.insecure ?? false }))
    case "DOCKER_HUB":
      return Either.map(decode(providerConfigSchemas.DOCKER_HUB), (settings) => ({ type, ...settings }))
    case "GCR":
      return Either.map(decode(providerConfigSchemas.GCR), (settings) => ({ type, ...settings, insecure: settings.insecure ?? false }))
    case "ECR":
      return Either.map(decode(providerConfigSchemas.ECR), (settings) => ({ type, ...settings, insecure: settings.insecure ?? false }))
    case "STORE":
      return Either.map(decode(providerConfigSchemas.STORE), (settings) => ({ type, ...settings }))
  }
}

/** A provider of the type with none of its settings given. */
const bareSettings = (type: ProviderType): ProviderSettings =>
  type === "DOCKER_HUB" || type === "STORE" ? { type } : { type, insecure: false }

const ProviderSection = Schema.Struct({
  name: Name,
  type: ProviderTypeSchema,
  // The RFC calls it interval, the shipped Piped pullInterval.
  interval: opt(Interval),
  pullInterval: opt(Interval),
  config: opt(Schema.Unknown)
}).pipe(
  Schema.filter((provider, options) => {
    const issues: Array<Schema.FilterOutput> = []
    if (provider.interval !== undefined && provider.pullInterval !== undefined) {
      issues.push({ path: ["pullInterval"], message: "give either interval or pullInterval, not both" })
    }
    const settings = decodeProviderSettings(provider.type, provider.config, options)
    if (Either.isLeft(settings)) issues.push(new ParseResult.Pointer("config", provider.config, settings.left))
    return issues
  })
)

const WatcherMapSection = Schema.Struct({
  checkInterval: opt(Interval),
  gitRepos: opt(Schema.Array(GitRepoSection)),
  gates: opt(Schema.Array(GateSection)),
  defaultPolicy: opt(Policy),
  notifications: opt(Schema.Array(RouteSection))
})

const pipedDocument = <W extends Schema.Schema.Any>(imageWatcher: W) =>
  Schema.Struct({
    apiVersion: oneOf(API_VERSION),
    kind: Schema.Literal("Piped"),
    spec: Schema.Struct(
      {
        git: opt(GitSection),
        repositories: opt(Schema.Array(RepositorySection)),
        imageProviders: opt(Schema.Array(ProviderSection)),
        chartRepositories: opt(Schema.Array(ChartRepositorySection)),
        chartRegistries: opt(Schema.Array(ChartRegistrySection)),
        imageWatcher: opt(imageWatcher),
        notifications: opt(NotificationsSection)
      },
      // The rest of Piped's spec is none of our business.
      Schema.Record({ key: Schema.String, value: Schema.Unknown })
    )
  })

// The shipped Piped writes imageWatcher as a map holding gitRepos, the RFC as a list of repos.
// Picking the schema by shape keeps the errors about the form the user wrote.
const ShippedDocument = pipedDocument(WatcherMapSection)
const RfcDocument = pipedDocument(Schema.Array(GitRepoSection))

interface PipedDocument {
  readonly spec: Pick<typeof ShippedDocument.Type["spec"], "git" | "repositories" | "imageProviders" | "notifications" | "chartRepositories" | "chartRegistries">
  readonly checkInterval: Duration.Duration | undefined
  readonly gitRepos: ReadonlyArray<typeof GitRepoSection.Type>
  readonly gitRepoPath: (index: number) => KeyPath
  readonly gates: ReadonlyArray<typeof GateSection.Type>
  readonly defaultPolicy: typeof Policy.Type | undefined
  readonly notifications: ReadonlyArray<typeof RouteSection.Type>
}

const isRfcForm = (value: unknown): boolean =>
  typeof value === "object" && value !== null && "spec" in value &&
  typeof value.spec === "object" && value.spec !== null && "imageWatcher" in value.spec && Array.isArray(value.spec.imageWatcher)

const decodeStructure = (value: unknown): Either.Either<PipedDocument, ParseResult.ParseError> =>
  isRfcForm(value)
    ? Either.map(Schema.decodeUnknownEither(RfcDocument, decodeOptions)(value), ({ spec }) => ({
      spec,
      checkInterval: undefined,
      gitRepos: spec.imageWatcher ?? [],
      gitRepoPath: (index: number) => ["spec", "imageWatcher", index],
      gates: [],
      defaultPolicy: undefined,
      notifications: []
    }))
    : Either.map(Schema.decodeUnknownEither(ShippedDocument, decodeOptions)(value), ({ spec }) => ({
      spec,
      checkInterval: spec.imageWatcher?.checkInterval,
      gitRepos: spec.imageWatcher?.gitRepos ?? [],
      gitRepoPath: (index: number) => ["spec", "imageWatcher", "gitRepos", index],
      gates: spec.imageWatcher?.gates ?? [],
      defaultPolicy: spec.imageWatcher?.defaultPolicy,
      notifications: spec.imageWatcher?.notifications ?? []
    }))


const duplicates = <T>(
  items: ReadonlyArray<T>,
  key: (item: T) => string,
  path: (index: number) => KeyPath,
  what: string,
  lineOf: (path: KeyPath) => number
): Array<Issue> => {
  const seen = new Map<string, number>()
  return items.flatMap((item, index) => {
    const earlier = seen.get(key(item))
    if (earlier === undefined) {
      seen.set(key(item), index)
      return []
    }
    return [{ path: path(index), message: `duplicate ${what} "${key(item)}" (first declared on line ${lineOf(path(earlier))})` }]
  })
}

type Decoded = Omit<Pipeline, "name">

const toPipeline = (file: string, doc: SourceDocument, parsed: PipedDocument): Either.Either<Decoded, ReadonlyArray<Issue>> => {
  const spec = parsed.spec
  const git = toGitConfig(spec.git)
  const repositories: Array<RepositoryConfig> = (spec.repositories ?? []).map((repo, index) => ({
    repoId: repo.repoId,
    remote: repo.remote,
    branch: repo.branch ?? "main",
    source: { file, line: doc.lineOf(["spec", "repositories", index]) }
  }))
  const providers: Array<ProviderConfig> = (spec.imageProviders ?? []).map((provider, index) => {
    // The filter on ProviderSection already accepted this config.
    const settings = Either.getOrElse(decodeProviderSettings(provider.type, provider.config, decodeOptions), () => bareSettings(provider.type))
    return {
      name: provider.name,
      interval: provider.interval ?? provider.pullInterval ?? DEFAULT_INTERVAL,
      ...settings,
      source: { file, line: doc.lineOf(["spec", "imageProviders", index]) }
    }
  })
  const { watchedRepos, issues: repoIssues, unknown } = toWatchedRepos(parsed.gitRepos, parsed.gitRepoPath, repositories, git)
  const routes = toNotificationRoutes(spec.notifications?.receivers ?? [], parsed.notifications, (index) => ({
    file,
    line: doc.lineOf(["spec", "imageWatcher", "notifications", index])
  }))
  const charts = toChartSources(spec, (path) => ({ file, line: doc.lineOf(path) }))
  const exclusive = (file: "sshKeyFile" | "passwordFile", inline: "sshKeyData" | "password"): Array<Issue> =>
    spec.git?.[file] !== undefined && spec.git[inline] !== undefined
      ? [{ path: ["spec", "git", inline], message: `${file} and ${inline} are exclusive; set one of them` }]
      : []
  const issues: Array<Issue> = [
    ...exclusive("sshKeyFile", "sshKeyData"),
    ...exclusive("passwordFile", "password"),
    ...(spec.git?.signingFormat !== undefined && spec.git.signingKeyFile === undefined
      ? [{ path: ["spec", "git", "signingFormat"], message: "signingFormat needs signingKeyFile, the key to sign with" }]
      : []),
    ...duplicates(repositories, (r) => r.repoId, (i) => ["spec", "repositories", i, "repoId"], "repoId", doc.lineOf),
    ...duplicates(providers, (p) => p.name, (i) => ["spec", "imageProviders", i, "name"], "image provider name", doc.lineOf),
    ...duplicates(parsed.gitRepos, (r) => r.repoId, (i) => [...parsed.gitRepoPath(i), "repoId"], "imageWatcher repoId", doc.lineOf),
    ...repoIssues,
    ...(Either.isLeft(routes) ? routes.left : []),
    ...(Either.isLeft(charts) ? charts.left : [])
  ]
  if (issues.length > 0 || Either.isLeft(charts)) return Either.left(issues)
  const checkInterval = parsed.checkInterval ?? DEFAULT_INTERVAL
  const gates = toGates(parsed.gates, (index) => ({ file, line: doc.lineOf(["spec", "imageWatcher", "gates", index]) }))
  const defaultPolicy = toPolicy(parsed.defaultPolicy)
  const notifications = Either.getOrElse(routes, () => [])
  return Either.right({
    file,
    git,
    repositories,
    providers,
    ...charts.right,
    checkInterval,
    watchedRepos,
    gates,
    ...(defaultPolicy === undefined ? {} : { defaultPolicy }),
    ...(notifications.length === 0 ? {} : { notifications }),
    ...(unknown.length === 0 ? {} : { warnings: doc.errors(unknown).map((warning) => warning.display) })
  })
}

const decodePipedDocument = (file: string) => (doc: SourceDocument): Either.Either<Decoded, ReadonlyArray<ConfigError>> =>
  decodeStructure(doc.value).pipe(
    Either.mapLeft((error) => schemaIssues(error)),
    Either.flatMap((parsed) => toPipeline(file, doc, parsed)),
    Either.mapLeft(doc.errors)
  )

/** Decodes every `kind: Piped` document of a YAML text; other kinds are ignored. Collects all errors. */
export const decodePipedConfigs = (file: string, text: string): Either.Either<ReadonlyArray<Pipeline>, ReadonlyArray<ConfigError>> =>
  Either.map(decodeDocumentsOfKind(file, text, "Piped", decodePipedDocument(file)), (pipelines) =>
    pipelines.map((pipeline, index) => ({ name: pipelines.length === 1 ? file : `${file}#${index + 1}`, ...pipeline }))
  )
