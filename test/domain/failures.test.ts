import { describe, expect, test } from "bun:test"
import {
  ConfigFailure,
  type FailureReason,
  failureReason,
  GIT_ERROR_KINDS,
  type GitErrorKind,
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

const git = (operation: GitFailure["operation"], kind: GitErrorKind, detail = "x") => new GitFailure({ operation, kind, detail })

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
    ["push refused by a hook", new GitFailure({ operation: "push", kind: "rejected", detail: "pre-receive hook declined" }), "push", false],
    ["push timed out", new GitFailure({ operation: "push", kind: "network", detail: "no answer from https://git.test within 2 minutes" }), "push", true],
    ["git credentials refused", new GitFailure({ operation: "fetch", kind: "auth", detail: "Authentication failed for 'https://git.test/'" }), "git_auth", false],
    ["ssh host key refused", new GitFailure({ operation: "push", kind: "hostKey", detail: "host key of [127.0.0.1]:2222 changed (was ED25519 key SHA256:a, now ED25519 key SHA256:b)" }), "push", false],
    ["ssh host key unknown", new GitFailure({ operation: "clone", kind: "hostKey", detail: "host key of git.test is unknown: spec.git.knownHostsFile (/k) does not list the host" }), "git_auth", false],
    ["git server unreachable", new GitFailure({ operation: "clone", kind: "network", detail: "Could not resolve host" }), "git", true],
    ["credentials file unreadable", new GitFailure({ operation: "credentials", kind: "config", detail: "cannot read spec.git.passwordFile" }), "git", false],
    ["no credentials for a server that asks", git("clone", "auth"), "git_auth", false],
    ["git credentials refused at push", git("push", "auth"), "push", false],
    ["branch or repository missing", git("fetch", "notFound"), "git", false],
    ["the branch kept moving under our pushes", git("push", "race"), "push", true],
    ["the clone held by another runner", git("clone", "race"), "git", true],
    ["a server's refusal to fetch", git("clone", "rejected"), "git", false],
    ["a clone that does not read back", git("read", "corrupt"), "git", false],
    ["a path a watcher file names wrongly", git("read", "config"), "git", false],
    ["a failure git words in a way no rule knows", git("fetch", "other"), "git", true],
    // The kind decides, not the words: a message that merely quotes a refusal is not one.
    ["words of a refusal in a network failure", git("fetch", "network", "Authentication failed, host key, declined, denied, 401"), "git", true],
    ["a refusal in words no regular expression knows", git("clone", "auth", "the server said no"), "git_auth", false],
    ["a hook refusal worded as nothing special", git("push", "rejected", "nope"), "push", false]
  ])("%s", (_name, failure, reason, transient) => {
    expect([failureReason(failure), isTransient(failure)]).toEqual([reason, transient])
  })
})

describe("git failures by kind", () => {
  test("every kind counts under git_auth or git away from a push, and under push at one", () => {
    const reasons = GIT_ERROR_KINDS.map((kind) => [kind, failureReason(git("fetch", kind)), failureReason(git("push", kind))])
    expect(reasons).toEqual(GIT_ERROR_KINDS.map((kind) => [kind, kind === "auth" || kind === "hostKey" ? "git_auth" : "git", "push"]))
  })

  test("only a network failure, a race or an unknown failure is transient", () => {
    expect(GIT_ERROR_KINDS.filter((kind) => isTransient(git("fetch", kind)))).toEqual(["network", "race", "other"])
  })
})

describe("a registry failure's message names its provider once", () => {
  test.each([
    ["a registry's error, which names it", "provider p, registry r.example, repository a: not found (404): x", "provider p, registry r.example, repository a: not found (404): x"],
    ["a tag store's, which does not", "tag store /d: unreadable", "provider p: tag store /d: unreadable"],
    ["another provider's name is not this one's", "provider pp, registry r: x", "provider p: provider pp, registry r: x"]
  ])("%s", (_, cause, expected) => {
    expect(new RegistryFailure({ provider: "p", cause: { _tag: "RegistryError", message: cause } }).message).toBe(expected)
  })
})
