import { Encoding, Option, Redacted } from "effect"
import { isHttpRemote } from "./remote.ts"
import type { RepoSpec } from "./repoTypes.ts"

/** The `user[:password]` of a URL, split but still percent-encoded; undefined when it has none. */
const userinfoOf = (remote: string): { readonly user: string; readonly password?: string } | undefined => {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(remote)?.[1]
  if (userinfo === undefined) return undefined
  const colon = userinfo.indexOf(":")
  return colon === -1 ? { user: userinfo } : { user: userinfo.slice(0, colon), password: userinfo.slice(colon + 1) }
}

/** Percent-decoding that leaves a malformed escape as it is. */
const percentDecode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * Username and password for http(s): URL userinfo first, then the password (file or inline) for
 * `spec.git.username` (Piped's "piped" when the config names nobody), "git" when the spec has no
 * username at all. None for other remotes, whose credentials are ssh's.
 */
export const credentialsOf = (
  spec: RepoSpec
): Option.Option<{ readonly username: string; readonly password: string }> => {
  if (!isHttpRemote(spec.remote)) return Option.none()
  const userinfo = userinfoOf(spec.remote)
  const urlUser = percentDecode(userinfo?.user ?? "")
  const urlPassword = percentDecode(userinfo?.password ?? "")
  const password = urlPassword !== ""
    ? urlPassword
    : Option.match(spec.password, { onNone: () => "", onSome: Redacted.value })
  if (password === "" && urlUser === "") return Option.none()
  return Option.some({ username: urlUser !== "" ? urlUser : Option.getOrElse(spec.username, () => "git"), password })
}

/** The URL with any `user:password@` removed, safe to print. */
export const stripUserinfo = (remote: string): string => remote.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1")

/** Removes URL credentials and the given secret values from text that may reach a user. */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@'"]*@/gi, "$1")
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("***")
  }
  return out
}

/** The `Authorization: Basic` value both backends send for these credentials. */
export const basicAuthOf = (credentials: { readonly username: string; readonly password: string }): string =>
  Encoding.encodeBase64(`${credentials.username}:${credentials.password}`)

/**
 * Every secret a remote spec carries: the password, the URL's password (decoded and raw), and the
 * base64 `user:password` a server may echo back from the Authorization header.
 */
export const secretsOf = (spec: RepoSpec): ReadonlyArray<string> => {
  const secrets: Array<string> = []
  if (Option.isSome(spec.password)) secrets.push(Redacted.value(spec.password.value))
  const raw = userinfoOf(spec.remote)?.password
  if (raw !== undefined) secrets.push(raw, percentDecode(raw))
  for (const credentials of Option.toArray(credentialsOf(spec))) {
    const basic = basicAuthOf(credentials)
    // Unpadded too: a server may print the value without its trailing "=".
    secrets.push(basic, basic.replace(/=+$/, ""))
  }
  return secrets
}
