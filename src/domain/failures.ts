import { Data } from "effect"

/**
 * Why a target, a watcher file or a repository failed: one short word per family, as metrics
 * (`runner_target_failures_total{reason}`) and logs count them. Listed, so that every family's
 * series exists from start-up.
 */
export const FAILURE_REASONS = [
  "config",
  "registry_auth",
  "rate_limited",
  "not_found",
  "registry",
  "no_candidate",
  "gate",
  "manifest",
  "patch",
  "git_auth",
  "git",
  "push",
  "forge_auth",
  "forge",
  "internal"
] as const

export type FailureReason = (typeof FAILURE_REASONS)[number]

/**
 * What went wrong in a git operation, as the backend that met it knows it: `auth` a refused or
 * missing login, `hostKey` an ssh host key not trusted, `network` no answer or a broken
 * connection, `notFound` no such repository or branch, `rejected` a refusal (a hook, a protected
 * branch, a server's ERR), `race` another writer came first (the branch kept moving under our
 * pushes, another runner held the clone), `corrupt` a clone that does not read back, `config` a
 * setting or a request that cannot work as written, `other` a failure in words no rule knows.
 */
export const GIT_ERROR_KINDS = ["auth", "hostKey", "network", "notFound", "rejected", "race", "corrupt", "config", "other"] as const

export type GitErrorKind = (typeof GIT_ERROR_KINDS)[number]

/** What a registry or tag store said, as much of it as the pipeline needs. */
export interface RegistryCause {
  readonly _tag: "RegistryError" | "TagStoreError"
  readonly reason?: string
  readonly message: string
}

/** A target, watcher file or provider declared wrongly: fixed by editing a file, never by waiting. */
export class ConfigFailure extends Data.TaggedError("ConfigFailure")<{ readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

/** A provider could not list or look up the image's tags. */
export class RegistryFailure extends Data.TaggedError("RegistryFailure")<{ readonly provider: string; readonly cause: RegistryCause }> {
  override get message() {
    // A registry's error names its provider already: once is enough.
    const message = this.cause.message
    return message.startsWith(`provider ${this.provider}, `) ? message : `provider ${this.provider}: ${message}`
  }
}

/** No listed tag is a candidate for the target. */
export class NoCandidateFailure extends Data.TaggedError("NoCandidateFailure")<{ readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

/** The target's file or field is not what the target says: missing, not YAML, another image. */
export class ManifestFailure extends Data.TaggedError("ManifestFailure")<{ readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

/** The new value could not be written into the file as the patch rules demand. */
export class PatchFailure extends Data.TaggedError("PatchFailure")<{ readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

/** Git refused or failed: cloning, fetching, reading, committing or pushing. */
export class GitFailure extends Data.TaggedError("GitFailure")<{
  readonly operation: "clone" | "fetch" | "read" | "commit" | "push" | "credentials"
  readonly kind: GitErrorKind
  readonly detail: string
}> {
  override get message() {
    return this.detail
  }
}

/**
 * The code host's API (GitHub, GitLab) refused or failed a pull or merge request's step. `reason`
 * is the forge's: Auth, NotFound, RateLimited, Transport, Server, Protocol, Refused, Config.
 */
export class ForgeFailure extends Data.TaggedError("ForgeFailure")<{ readonly reason: string; readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

/**
 * The runner itself failed (a defect: a thrown exception, a broken assumption) inside one
 * repository's pass: that repository fails, the others still run.
 */
export class InternalFailure extends Data.TaggedError("InternalFailure")<{ readonly detail: string }> {
  override get message() {
    return `internal error: ${this.detail}`
  }
}

/** A target's failure, from the edge where it happened to the report, the metrics and the logs. */
export type TargetFailure = ConfigFailure | RegistryFailure | NoCandidateFailure | ManifestFailure | PatchFailure | GitFailure | ForgeFailure | InternalFailure

/** A failure above one target: a watcher file, a repository, its credentials. */
export type ScopeFailureCause = ConfigFailure | GitFailure | ForgeFailure | InternalFailure

const registryReasons: Record<string, FailureReason> = { Auth: "registry_auth", RateLimited: "rate_limited", NotFound: "not_found" }

// A host key ssh refuses is the server failing to authenticate itself: a person has to look.
const gitAuthKinds: ReadonlySet<GitErrorKind> = new Set(["auth", "hostKey"])

// What may pass by itself: a network hiccup, a race with other writers, a failure no rule knows.
const transientGitKinds: ReadonlySet<GitErrorKind> = new Set(["network", "race", "other"])

/** The family a failure counts under. */
export const failureReason = (failure: TargetFailure): FailureReason => {
  switch (failure._tag) {
    case "ConfigFailure":
      return "config"
    case "RegistryFailure":
      return registryReasons[failure.cause.reason ?? ""] ?? "registry"
    case "NoCandidateFailure":
      return "no_candidate"
    case "ManifestFailure":
      return "manifest"
    case "PatchFailure":
      return "patch"
    case "GitFailure":
      return failure.operation === "push" ? "push" : gitAuthKinds.has(failure.kind) ? "git_auth" : "git"
    case "ForgeFailure":
      return failure.reason === "Auth" ? "forge_auth" : "forge"
    case "InternalFailure":
      return "internal"
  }
}

/** Whether the next pass may succeed without anyone changing a file: the daemon retries these quietly. */
export const isTransient = (failure: TargetFailure): boolean => {
  switch (failure._tag) {
    case "RegistryFailure":
      return ["RateLimited", "Transport", "Server"].includes(failure.cause.reason ?? "")
    case "GitFailure":
      // A server that declines the push (a hook, a protected branch) declines the next one too,
      // and a login refused or a branch missing waits for a person, however the server words it.
      return transientGitKinds.has(failure.kind)
    case "ForgeFailure":
      return ["RateLimited", "Transport", "Server"].includes(failure.reason)
    default:
      return false
  }
}
