import type { Duration, Redacted } from "effect"
import type { HttpChartRepository } from "./ChartSource.ts"
import type { SourceLocation } from "./SourceLocation.ts"

/** What every provider has, whatever its type. */
interface ProviderBase {
  readonly name: string
  /** How often this provider's images are listed. */
  readonly interval: Duration.Duration
  /** An image listing more tags than this fails (default 100,000): what one listing may cost is the operator's call. */
  readonly maxTags?: number
  /** Where the provider was declared, for messages. */
  readonly source: SourceLocation
  /** Its tags are a chart's versions in an OCI registry, `+` stored as `_` (see domain/ociChart.ts); set at prepare, never declared. */
  readonly chartTags?: true
}

/** Requests in flight, and an optional per-second ceiling with its burst, towards each registry host a provider talks to. */
export interface RateLimit {
  readonly rps?: number
  readonly burst?: number
  readonly concurrency?: number
}

/** How a provider that speaks the distribution protocol reaches its registries. */
interface RegistryReach {
  /** Registry base URL, e.g. `http://127.0.0.1:5000`; otherwise `https://<image host>`. */
  readonly address?: string
  /** More registry host names this provider serves (`*` within a label): its credentials go there and nowhere else. */
  readonly hosts?: ReadonlyArray<string>
  readonly insecure: boolean
  readonly rateLimit?: RateLimit
  /** PEM file of extra CA certificates trusted for the registry (a private CA). */
  readonly caFile?: string
}

/** A username with its password file, or a Docker `config.json` / Kubernetes `.dockerconfigjson` file. */
export interface FileCredentials {
  readonly username?: string
  readonly passwordFile?: string
  /** Inline, only from a chart registry of `spec.chartRegistries` (see chartRegistryProvider); never declared under imageProviders. */
  readonly password?: Redacted.Redacted<string>
  readonly dockerConfigFile?: string
}

export interface OciProvider extends ProviderBase, RegistryReach, FileCredentials {
  readonly type: "OCI"
}

export interface DockerHubProvider extends ProviderBase, FileCredentials {
  readonly type: "DOCKER_HUB"
  readonly rateLimit?: RateLimit
  /** Docker Hub's web API, for tags' push times; a mirror or a test server. */
  readonly endpoint?: string
}

export interface GcrProvider extends ProviderBase, RegistryReach {
  readonly type: "GCR"
  readonly serviceAccountFile?: string
  /** The metadata server, instead of the cloud's own (private endpoints, tests). */
  readonly endpoint?: string
}

export interface EcrProvider extends ProviderBase, RegistryReach {
  readonly type: "ECR"
  readonly region?: string
  readonly registryId?: string
  readonly credentialsFile?: string
  readonly profile?: string
  /** The ECR API, instead of the cloud's own (private endpoints, tests). */
  readonly endpoint?: string
}

export interface StoreProvider extends ProviderBase {
  readonly type: "STORE"
  /** Directory of the tag store; default under `--data-dir`. */
  readonly path?: string
}

/**
 * An HTTP chart repository of Piped's `spec.chartRepositories`, as the provider of a `chart:`
 * target: its versions are read from the repository's `index.yaml`. Built at prepare, never declared.
 */
export interface HelmProvider extends ProviderBase {
  readonly type: "HELM"
  readonly repository: HttpChartRepository
}

/** A registry provider of the Piped config, decoded, or a chart repository: one variant per type, each with only its own settings. */
export type ProviderConfig = OciProvider | DockerHubProvider | GcrProvider | EcrProvider | StoreProvider | HelmProvider

/** A provider the Piped config declares under `imageWatcher.providers`: any but a chart repository. */
export type DeclaredProvider = Exclude<ProviderConfig, HelmProvider>

/** The registry kinds a declared provider can be. */
export type ProviderType = DeclaredProvider["type"]

/** The providers that reach their registries through an operator's address, hosts, TLS and rate settings. */
export type RegistryProvider = OciProvider | GcrProvider | EcrProvider

export const isRegistryProvider = (provider: ProviderConfig): provider is RegistryProvider =>
  provider.type === "OCI" || provider.type === "GCR" || provider.type === "ECR"

/** The username, password file and Docker config file of an OCI or Docker Hub provider; none for the others. */
export const fileCredentialsOf = (provider: ProviderConfig): FileCredentials =>
  provider.type === "OCI" || provider.type === "DOCKER_HUB" ? provider : {}
