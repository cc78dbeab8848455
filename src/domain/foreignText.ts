/**
 * Text that came from outside (a registry's error message, a server's body, a file in a watched
 * repository) is shown to people and log collectors only after it has lost what a hostile or
 * careless server could put in it: our own secrets echoed back, and line breaks or terminal
 * escapes that would forge report lines or repaint a terminal.
 */
import { Either, Encoding } from "effect"

/** What a thrown value says: an Error's message, else the value as text. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const REDACTED = "<redacted>"

/** Secrets shorter than this are not searched for: replacing every "ab" would garble the message and hide nothing. */
const MIN_SECRET_LENGTH = 4

// A JWT: three base64url parts, the first a JSON header (`{"` is `eyJ`).
const jwt = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g
// The credentials of an Authorization header, whatever the scheme's case; a plain lowercase word
// after it is prose ("Bearer challenge without a realm"), not credentials.
const schemeCredentials = /\b(basic|bearer)(\s+)([A-Za-z0-9._~+/=-]{4,})/gi

/** The forms a username and password travel in: the password, `user:password` and its base64 (Basic auth). */
export const credentialSecrets = (username: string, password: string): ReadonlyArray<string> => {
  const pair = `${username}:${password}`
  return [password, pair, Encoding.encodeBase64(pair)]
}

/** The secrets an Authorization header carries: a Bearer token, or Basic's base64 and what it decodes to. */
export const authorizationSecrets = (header: string): ReadonlyArray<string> => {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header)
  if (match === null) return [header]
  const [, scheme = "", credentials = ""] = match
  if (scheme.toLowerCase() !== "basic") return [credentials]
  const decoded = Either.getOrUndefined(Encoding.decodeBase64String(credentials))
  const colon = decoded === undefined ? -1 : decoded.indexOf(":")
  return decoded === undefined || colon < 0
    ? [credentials]
    : credentialSecrets(decoded.slice(0, colon), decoded.slice(colon + 1))
}

/**
 * `text` without any of `secrets` (longest first, so `user:password` goes before `password`)
 * and without anything shaped like a JWT or the credentials of a `Basic`/`Bearer` header.
 */
export const scrubSecrets = (text: string, secrets: Iterable<string> = []): string => {
  const known = [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)
  const withoutKnown = known.reduce((scrubbed, secret) => scrubbed.split(secret).join(REDACTED), text)
  return withoutKnown.replace(jwt, REDACTED).replace(schemeCredentials, (all: string, scheme: string, space: string, credentials: string) =>
    /^[a-z]+$/.test(credentials) ? all : `${scheme}${space}${REDACTED}`,
  )
}

// C0 and C1 controls, DEL, the line and paragraph separators, and the bidi embeddings, overrides and isolates.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const named: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }

/** `text` on one line, with every control character visible as an escape: `\n`, `\x1b`, `\u202e`. */
export const oneLine = (text: string): string =>
  text.replace(unsafe, (c) => {
    const code = c.charCodeAt(0)
    return named[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`)
  })
