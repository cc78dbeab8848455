import type { Duration } from "effect"
import type { SourceLocation } from "./SourceLocation.ts"

/** The registry kinds a provider can be. */
export type ProviderType = "OCI" | "DOCKER_HUB" | "GCR" | "ECR" | "STORE"

/** A registry provider of the Piped config, decoded: where its images are listed and with which credentials. */
export interface ProviderConfig {
  readonly name: string
  readonly type: ProviderType
  /** How often this provider's images are listed. */
  readonly interval: Duration.Duration
  /** An image listing more tags than this fails (default 100,000): what one listing may cost is the operator's call. */
  readonly maxTags?: number
  /** OCI: registry base URL, e.g. `http://127.0.0.1:5000`; otherwise `https://<image host>`. */
  readonly address?: string
  /** More registry host names this provider serves (`*` within a label): its credentials go there and nowhere else. */
  readonly hosts?: ReadonlyArray<string>
  readonly insecure: boolean
  readonly username?: string
  readonly passwordFile?: string
  /** STORE: directory of the tag store; default under `--data-dir`. */
  readonly path?: string
  /** GCR / ECR settings, kept for the providers that use them. */
  readonly serviceAccountFile?: string
  readonly region?: string
  readonly registryId?: string
  readonly credentialsFile?: string
  readonly profile?: string
  /** Requests in flight, and an optional per-second ceiling with its burst, towards each registry host this provider talks to. */
  readonly rateLimit?: { readonly rps?: number; readonly burst?: number; readonly concurrency?: number }
  /** PEM file of extra CA certificates trusted for the registry (a private CA). */
  readonly caFile?: string
  /** GCR: the metadata server; ECR: the ECR API. Overrides the cloud's own URL (private endpoints, tests). */
  readonly endpoint?: string
  /** A Docker `config.json` or a Kubernetes `.dockerconfigjson` file to take credentials from. */
  readonly dockerConfigFile?: string
  /** Where the provider was declared, for messages. */
  readonly source: SourceLocation
}
