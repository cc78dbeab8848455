import { createHmac, timingSafeEqual } from "node:crypto"
import { Redacted } from "effect"

/** Whether a signature header vouches for the exact bytes of a request body. */
export type SignatureCheck = (body: Uint8Array, header: string) => boolean

/** The header GitHub signs webhook deliveries with, in Node's lowercase spelling. */
export const GITHUB_SIGNATURE_HEADER = "x-hub-signature-256"

/**
 * GitHub's `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body, keyed with the
 * webhook's secret. Anything else in the header (another algorithm, two values joined) is refused.
 */
export const githubSignature =
  (secret: Redacted.Redacted<string>): SignatureCheck =>
  (body, header) => {
    const given = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim())?.[1]
    if (given === undefined) return false
    const expected = createHmac("sha256", Redacted.value(secret)).update(body).digest()
    // Both sides are 32 bytes, as timingSafeEqual needs, so its time says nothing about where they differ.
    return timingSafeEqual(expected, Buffer.from(given, "hex"))
  }
