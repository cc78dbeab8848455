import type { Duration, Redacted } from "effect"
import type { PolicySpec } from "../domain/PolicySpec.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import type { SourceLocation } from "../domain/SourceLocation.ts"
import type { DeclaredTarget } from "../domain/Target.ts"
import type { DiscoverRule } from "../domain/DiscoverRule.ts"
import type { ChartRegistry, ChartRepository } from "../domain/ChartSource.ts"

/** The normalised configuration the pipeline runs on, whatever spelling the files used. */

export interface RepositoryConfig {
  readonly repoId: string
  readonly remote: string
  readonly branch: string
  readonly source: SourceLocation
}

export interface GitConfig {
  readonly username: string
  readonly email: string
  readonly sshKeyFile?: string
  readonly passwordFile?: string
  /** Piped's `sshKeyData`, decoded: the private key itself. */
  readonly sshKey?: Redacted.Redacted<string>
  /** Piped's `password`, decoded. */
  readonly password?: Redacted.Redacted<string>
  /** Signs every commit the runner writes, with this key in `signingFormat` (ssh by default). */
  readonly signingKeyFile?: string
  readonly signingFormat?: "ssh" | "openpgp"
  /** The ssh host keys to trust, strictly; without it the runner trusts on first use and remembers. */
  readonly knownHostsFile?: string
  /** Piped's ssh settings: the `Host` alias remotes may name, the real host name, an ssh config file. */
  readonly host?: string
  readonly hostName?: string
  readonly sshConfigFilePath?: string
}

/** How a pass's changes become commits: one per target (the default), per file, or one for the pass. */
export type CommitGrouping = "target" | "file" | "pass"

export interface WatchedRepo {
  readonly repoId: string
  /** A one-line template (`{{image}}`, `{{tag}}`, ...), checked at load. */
  readonly commitMessage?: string
  /** Absent: one commit per target. */
  readonly group?: CommitGrouping
  /** Commits go to this branch instead of the repository's `branch`, which they start from. */
  readonly pushBranch?: string
  /** Watcher file names relative to `.pipe/` (a `.pipe/` prefix as the RFC writes it is removed). */
  readonly includes: ReadonlyArray<string>
  readonly excludes: ReadonlyArray<string>
  /** `suspend: true`: nothing is written into this repository. */
  readonly suspend?: boolean
  /** Each change set goes to a branch of its own, with a pull (merge) request against `branch`. */
  readonly pullRequest?: PullRequestSettings
}

/** The hosts whose requests the runner opens; Gitea and Forgejo serve GitHub's API shape. */
export type ForgeProvider = "github" | "gitlab" | "gitea" | "forgejo"

/** A `gitRepos` entry's `pullRequest`, every default resolved at load. From the Piped config only, never a watcher file. */
export interface PullRequestSettings {
  readonly provider: ForgeProvider
  /** The API's root (`https://api.github.com`, `https://HOST/api/v4`), without credentials or trailing `/`. */
  readonly apiURL: string
  /** `owner/name`, or GitLab's `group/sub/project`. */
  readonly repository: string
  /** Read at each use, so that a rotated token takes effect without a restart. */
  readonly tokenFile: string
  readonly labels: ReadonlyArray<string>
  readonly autoMerge: boolean
  /** Templates with the commit-message placeholders, checked at load; absent: the runner's own words. */
  readonly branchTemplate?: string
  readonly title?: string
  /** Text above the table of changes; it may take several lines. */
  readonly body?: string
}

/** cosign verification of a gate: a public key, or keyless against a sigstore trusted root. */
export interface CosignGate {
  readonly publicKeyFile?: string
  readonly trustedRootFile?: string
  /** The signer to trust: the issuer, and the subject exactly or an anchored pattern over all of it. */
  readonly identity?: { readonly issuer: string; readonly subject?: string; readonly subjectPattern?: string }
}

/** An operator's rule on what a tag must prove before it is written (`spec.imageWatcher.gates`). */
export interface GateConfig {
  /** Globs over normalised image names: `*` one path segment, `**` any number. */
  readonly images: ReadonlyArray<string>
  readonly minAge?: Duration.Duration
  readonly cosign?: CosignGate
  /** Platforms (`linux/arm64`, canonical: see domain/platform.ts) a candidate must have an image for. */
  readonly platforms?: ReadonlyArray<string>
  /** Write `tag@digest` of what was verified. */
  readonly pinDigest: boolean
  readonly source: SourceLocation
}

export interface Pipeline {
  /** `file` for a single-document file, `file#N` (N from 1) when a file holds several pipelines. */
  readonly name: string
  readonly file: string
  readonly git: GitConfig
  readonly repositories: ReadonlyArray<RepositoryConfig>
  readonly providers: ReadonlyArray<ProviderConfig>
  /** `spec.chartRepositories`: HTTP ones by their unique name; GIT ones only so that naming one fails clearly. */
  readonly chartRepositories: ReadonlyArray<ChartRepository>
  /** `spec.chartRegistries`: credentials for `oci://` chart repositories, by unique address. */
  readonly chartRegistries: ReadonlyArray<ChartRegistry>
  readonly checkInterval: Duration.Duration
  /** Options per repository; a repository not listed here is watched with all its watcher files. */
  readonly watchedRepos: ReadonlyArray<WatchedRepo>
  readonly gates: ReadonlyArray<GateConfig>
  /** `spec.imageWatcher.defaultPolicy`: what a target gets when neither it nor its watcher file names a policy. */
  readonly defaultPolicy?: PolicySpec
  /** `spec.imageWatcher.notifications`, each with the Piped receiver it names; absent: nothing is sent. */
  readonly notifications?: ReadonlyArray<NotificationRoute>
  /** What Piped accepted but the runner skips (`file:line: key: why`); absent when none. */
  readonly warnings?: ReadonlyArray<string>
}

/** What a pass may tell a receiver: a change written, a tag held, a first failure, the success after one. */
export const NOTIFICATION_EVENTS = ["updated", "held", "failed", "recovered"] as const
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number]

/** A secret given inline in the config, or a file read at each use (so that it may rotate). */
export type SecretSource =
  | { readonly _tag: "Inline"; readonly value: Redacted.Redacted<string> }
  | { readonly _tag: "File"; readonly file: string }

/** One of Piped's `spec.notifications.receivers`, as far as the runner sends to it. */
export type Receiver =
  /** Slack's incoming webhook: the URL is the credential. */
  | { readonly _tag: "SlackHook"; readonly name: string; readonly hookURL: Redacted.Redacted<string>; readonly mentions: ReadonlyArray<string> }
  /** Slack's `chat.postMessage` with a bot token into `channelID`. */
  | { readonly _tag: "SlackApi"; readonly name: string; readonly token: SecretSource; readonly channelID: string; readonly mentions: ReadonlyArray<string> }
  /** A POST of the event as JSON, with the header `signatureKey` carrying the signature, as Piped sends it. */
  | {
    readonly _tag: "Webhook"
    readonly name: string
    readonly url: Redacted.Redacted<string>
    readonly signatureKey: string
    readonly signature?: SecretSource
  }

/** A route of `spec.imageWatcher.notifications`: which events of which repositories and images go to a receiver. */
export interface NotificationRoute {
  readonly receiver: Receiver
  readonly events: ReadonlyArray<NotificationEvent>
  /** repoIds; absent: every repository. */
  readonly repos?: ReadonlyArray<string>
  /** Image globs (domain/glob.ts), checked at load; absent: every image. */
  readonly images?: ReadonlyArray<string>
  readonly source: SourceLocation
}

export interface WatcherFile {
  /** Path inside the repository, e.g. `.pipe/imagewatcher-dev.yaml`. */
  readonly path: string
  /** Their policies resolved as far as the file goes; the pipeline's default fills the rest at prepare. */
  readonly targets: ReadonlyArray<DeclaredTarget>
  /** `spec.discover`: where more targets are found by scanning the repository's files; absent when none. */
  readonly discover?: ReadonlyArray<DiscoverRule>
}
