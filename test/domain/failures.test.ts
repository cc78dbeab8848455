import { describe, expect, test } from "bun:test"
import {
  ConfigFailure,
  type FailureReason,
  failureReason,
  GitFailure,
  isTransient,
  ManifestFailure,
  NoCandidateFailure,
  PatchFailure,
  RegistryFailure,
  type TargetFailure
} from "../../src/domain/failures.ts"

const registry = (reason: string | undefined) =>
  new RegistryFailure({ provider: "p", cause: { _tag: "RegistryError", message: "m", ...(reason === undefined ? {} : { reason }) } })

describe("failure families", () => {
  test.each<readonly [string, TargetFailure, FailureReason, boolean]>([
    ["a target declared wrongly", new ConfigFailure({ detail: "x" }), "config", false],
    ["registry credentials refused", registry("Auth"), "registry_auth", false],
    ["registry rate limit", registry("RateLimited"), "rate_limited", true],
    ["image not in the registry", registry("NotFound"), "not_found", false],
    ["registry unreachable", registry("Transport"), "registry", true],
    ["registry 5xx", registry("Server"), "registry", true],
    ["registry answer unreadable", registry("Protocol"), "registry", false],
    ["tag store unreadable", new RegistryFailure({ provider: "ci", cause: { _tag: "TagStoreError", message: "m" } }), "registry", false],
    ["no candidate", new NoCandidateFailure({ detail: "x" }), "no_candidate", false],
    ["field missing", new ManifestFailure({ detail: "x" }), "manifest", false],
    ["value does not read back", new PatchFailure({ detail: "x" }), "patch", false],
    ["push refused by a hook", new GitFailure({ operation: "push", detail: "pre-receive hook declined" }), "push", false],
    ["push timed out", new GitFailure({ operation: "push", detail: "no answer from https://git.test within 2 minutes" }), "push", true],
    ["git credentials refused", new GitFailure({ operation: "fetch", detail: "Authentication failed for 'https://git.test/'" }), "git_auth", false],
    ["ssh host key refused", new GitFailure({ operation: "push", detail: "host key of [127.0.0.1]:2222 changed (was ED25519 key SHA256:a, now ED25519 key SHA256:b)" }), "push", false],
    ["ssh host key unknown", new GitFailure({ operation: "clone", detail: "host key of git.test is unknown: spec.git.knownHostsFile (/k) does not list the host" }), "git_auth", false],
    ["git server unreachable", new GitFailure({ operation: "clone", detail: "Could not resolve host" }), "git", true],
    ["credentials file unreadable", new GitFailure({ operation: "credentials", detail: "cannot read spec.git.passwordFile" }), "git", false]
  ])("%s", (_name, failure, reason, transient) => {
    expect([failureReason(failure), isTransient(failure)]).toEqual([reason, transient])
  })
})
