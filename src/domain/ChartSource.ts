import type { Duration, Redacted } from "effect"
import type { SourceLocation } from "./SourceLocation.ts"

/** Where Helm charts come from, as Piped's `spec.chartRepositories` and `spec.chartRegistries` declare them. */

/** An HTTP chart repository: static files, an `index.yaml` listing every chart's versions, and the archives. */
export interface HttpChartRepository {
  readonly type: "HTTP"
  readonly name: string
  /** An http(s) base URL without credentials, query or trailing slash; `index.yaml` is read under it. */
  readonly address: string
  readonly username?: string
  readonly password?: Redacted.Redacted<string>
  /** Skip TLS certificate verification, as Piped's `insecure` does for helm. */
  readonly insecure: boolean
  /** How long a read `index.yaml` answers for every target that uses the repository. */
  readonly interval: Duration.Duration
  readonly source: SourceLocation
}

/** A chart repository in git: kept so that a target naming it fails clearly (chart versions there are not tags). */
export interface GitChartRepository {
  readonly type: "GIT"
  /** Piped does not require one for GIT; a target can only name one that has it. */
  readonly name?: string
  readonly gitRemote: string
  readonly source: SourceLocation
}

export type ChartRepository = HttpChartRepository | GitChartRepository

/** Credentials for charts whose repository is `oci://<address>/…`; its tags are listed like images'. */
export interface ChartRegistry {
  readonly type: "OCI"
  /** `host[:port]` in lower case, with an optional path below it, without `oci://` or a trailing slash. */
  readonly address: string
  readonly username?: string
  readonly password?: Redacted.Redacted<string>
  /** How long a listing of one of its charts answers. */
  readonly interval: Duration.Duration
  readonly source: SourceLocation
}
