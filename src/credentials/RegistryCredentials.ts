import { Either, Encoding, Option, Redacted } from "effect"

/** What a registry is shown: Basic credentials, or what a token service trades for a token. */
export interface RegistryCredentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** `user:password` in base64, as Docker config `auth` entries and ECR tokens carry it; none unless it decodes and holds a colon. */
export const decodeBasicPair = (encoded: string): Option.Option<RegistryCredentials> =>
  Either.getRight(Encoding.decodeBase64String(encoded)).pipe(
    Option.flatMap((text) => {
      const colon = text.indexOf(":")
      return colon < 0 ? Option.none() : Option.some({ username: text.slice(0, colon), password: Redacted.make(text.slice(colon + 1)) })
    }),
  )
