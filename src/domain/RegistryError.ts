import { Data } from "effect"
import { scrubSecrets } from "./foreignText.ts"

export type RegistryErrorReason = "Auth" | "NotFound" | "RateLimited" | "Transport" | "Server" | "Protocol" | "Config" | "Limit"

/** How each reason reads in a message. */
export const reasonText: Record<RegistryErrorReason, string> = {
  Auth: "authentication failed",
  NotFound: "not found",
  RateLimited: "rate limited",
  Transport: "request failed",
  Server: "server error",
  Protocol: "unexpected response",
  Config: "invalid configuration",
  Limit: "over the operator's limit",
}

interface RegistryErrorFields {
  readonly reason: RegistryErrorReason
  /** The name of the image provider in the Piped config. */
  readonly provider: string
  /** host[:port] as in the image reference. */
  readonly registry: string
  readonly repository: string
  readonly status?: number
  readonly detail: string
}

/**
 * A failure talking to a container registry. `detail` never holds a password or token: it often
 * quotes what a server said, and a server may echo our Authorization header, so every detail is
 * scrubbed here, where every registry error is made, of the `secrets` its maker holds and of
 * anything shaped like a token.
 */
export class RegistryError extends Data.TaggedError("RegistryError")<RegistryErrorFields> {
  constructor(fields: RegistryErrorFields, secrets: Iterable<string> = []) {
    super({ ...fields, detail: scrubSecrets(fields.detail, secrets) })
  }

  override get message(): string {
    const status = this.status === undefined ? "" : ` (${this.status})`
    return `provider ${this.provider}, registry ${this.registry}, repository ${this.repository}: ${reasonText[this.reason]}${status}: ${this.detail}`
  }
}

/** Whom a registry failure concerns: a provider's view of one repository. */
export interface RegistryScope {
  readonly provider: string
  readonly registry: string
  readonly repository: string
}

/** The scope of a provider (by its configured name) and an image. */
export const scopeOf = (provider: { readonly name: string }, image: { readonly registry: string; readonly repository: string }): RegistryScope => ({
  provider: provider.name,
  registry: image.registry,
  repository: image.repository,
})

/** Makes the errors of one scope: `fail(reason, detail, status?)`, scrubbed of `secrets` (see RegistryError). */
export const registryError =
  ({ provider, registry, repository }: RegistryScope, secrets: Iterable<string> = []) =>
  (reason: RegistryErrorReason, detail: string, status?: number): RegistryError =>
    new RegistryError({ reason, provider, registry, repository, detail, ...(status === undefined ? {} : { status }) }, secrets)

/** Makes the errors of a provider's view of an image. */
export const providerError = (provider: { readonly name: string }, image: { readonly registry: string; readonly repository: string }) =>
  registryError(scopeOf(provider, image))
