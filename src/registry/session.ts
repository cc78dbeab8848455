import { Encoding, Option, Redacted, type Ref } from "effect"
import type { RegistryCredentials } from "../credentials/RegistryCredentials.ts"
import { credentialSecrets } from "../domain/foreignText.ts"
import type { Challenge } from "./auth.ts"
import type { RegistryEndpoint } from "./endpoint.ts"

/** How a session answers the registry's challenges. */
export type Auth =
  | { readonly _tag: "Anonymous" }
  | { readonly _tag: "Basic"; readonly credentials: RegistryCredentials }
  | { readonly _tag: "Bearer"; readonly challenge: Challenge }

/** A Bearer challenge without its repository-specific parameters. */
export const withoutScope = (params: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(params).filter(([name]) => name !== "scope" && name !== "error"))

export const basicAuthorization = (credentials: RegistryCredentials): string =>
  `Basic ${Encoding.encodeBase64(`${credentials.username}:${Redacted.value(credentials.password)}`)}`

/** The state of one operation's conversation with a registry, carried from request to request. */
export interface Session {
  readonly endpoint: RegistryEndpoint
  readonly auth: Ref.Ref<Auth>
  readonly credentials: Ref.Ref<Option.Option<RegistryCredentials>>
  /** Whether `renewCredentials` has been used: once per operation, so a wrong password fails fast. */
  readonly renewed: Ref.Ref<boolean>
  /**
   * Every secret the operation has held or sent (passwords, tokens, Authorization headers):
   * errors made from what a server answered are scrubbed of them, since a server may echo them.
   */
  readonly secrets: Set<string>
}

/** The forms of a username and password that must not be shown. */
export const credentialsSecrets = (credentials: Option.Option<RegistryCredentials>): ReadonlyArray<string> =>
  Option.match(credentials, { onNone: () => [], onSome: (c) => credentialSecrets(c.username, Redacted.value(c.password)) })

/** Notes secrets the session holds or sent. */
export const keep = (s: Session, secrets: ReadonlyArray<string>) => {
  for (const secret of secrets) s.secrets.add(secret)
}
