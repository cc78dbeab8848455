import { Either } from "effect"

/** Why a text is not a registry address; each reader words it for its own messages. */
export type AddressProblem = "NotUrl" | "NotHttp" | "Credentials" | "QueryOrFragment"

/**
 * A registry's base URL, as a provider's `address` gives it: http or https, without credentials
 * (they belong in passwordFile), query or fragment; returned without trailing slashes. Credentials
 * are looked for first, so that no message about another problem has to show a password.
 */
export const parseRegistryAddress = (text: string): Either.Either<string, AddressProblem> => {
  if (!URL.canParse(text)) return Either.left("NotUrl")
  const url = new URL(text)
  if (url.username !== "" || url.password !== "") return Either.left("Credentials")
  if (url.protocol !== "http:" && url.protocol !== "https:") return Either.left("NotHttp")
  if (url.search !== "" || url.hash !== "") return Either.left("QueryOrFragment")
  return Either.right(`${url.origin}${url.pathname.replace(/\/+$/, "")}`)
}
