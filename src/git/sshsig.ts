import { createHash, createPrivateKey, type KeyObject, sign } from "node:crypto"
import { Either } from "effect"

/** A private key read from an OpenSSH key file: what an SSHSIG signature needs of it. */
export interface SshKey {
  /** The key type as ssh names it (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`). */
  readonly type: string
  /** The public key in ssh wire format, which a signature carries so that verifiers find the signer. */
  readonly publicBlob: Uint8Array
  /** The ssh signature blob (algorithm name and signature) over `data`. */
  readonly sign: (data: Uint8Array) => Uint8Array
}

/** Thrown by the reader on a file cut short; caught at the edge of `parseOpenSshKey`. */
class Malformed extends Error {}

/** Reads the ssh wire format: big-endian uint32s and length-prefixed strings. */
const reader = (bytes: Uint8Array) => {
  let at = 0
  const take = (n: number) => {
    if (at + n > bytes.length) throw new Malformed()
    const part = bytes.subarray(at, at + n)
    at += n
    return part
  }
  const uint32 = () => {
    const part = take(4)
    return new DataView(part.buffer, part.byteOffset, 4).getUint32(0)
  }
  const string = () => take(uint32())
  const text = () => new TextDecoder().decode(string())
  return { uint32, string, text }
}

const encoder = new TextEncoder()

const concat = (...parts: ReadonlyArray<Uint8Array>) => {
  const all = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  parts.reduce((at, part) => (all.set(part, at), at + part.length), 0)
  return all
}

const uint32 = (n: number) => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, n)
  return bytes
}

const string = (value: Uint8Array | string) => {
  const bytes = typeof value === "string" ? encoder.encode(value) : value
  return concat(uint32(bytes.length), bytes)
}

/** An unsigned big-endian integer without its leading zero bytes. */
const unsigned = (bytes: Uint8Array) => {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  return bytes.subarray(start)
}

/** An ssh `mpint` of an unsigned integer: a zero byte in front when the high bit is set. */
const mpint = (bytes: Uint8Array) => {
  const digits = unsigned(bytes)
  return string((digits[0] ?? 0) & 0x80 ? concat(new Uint8Array([0]), digits) : digits)
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")

const bigint = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`)

const bigintBytes = (n: bigint) => {
  const hex = n.toString(16)
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex")
}

const leftPad = (bytes: Uint8Array, size: number) => bytes.length >= size ? bytes : concat(new Uint8Array(size - bytes.length), bytes)

/** The private key in an Ed25519 seed, as PKCS #8 DER (its fixed prefix, then the 32-byte seed). */
const ed25519 = (fields: ReturnType<typeof reader>): ((data: Uint8Array) => Uint8Array) => {
  fields.string()
  const seed = fields.string().subarray(0, 32)
  const key = createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
    format: "der",
    type: "pkcs8"
  })
  return (data) => concat(string("ssh-ed25519"), string(sign(null, data, key)))
}

const CURVES: Record<string, { readonly jwk: string; readonly size: number; readonly hash: string }> = {
  nistp256: { jwk: "P-256", size: 32, hash: "sha256" },
  nistp384: { jwk: "P-384", size: 48, hash: "sha384" },
  nistp521: { jwk: "P-521", size: 66, hash: "sha512" }
}

const ecdsa = (type: string, fields: ReturnType<typeof reader>): ((data: Uint8Array) => Uint8Array) => {
  const name = fields.text()
  const curve = CURVES[name]
  if (curve === undefined || type !== `ecdsa-sha2-${name}`) throw new Malformed()
  const point = fields.string()
  const d = leftPad(unsigned(fields.string()), curve.size)
  if (point.length !== 1 + 2 * curve.size) throw new Malformed()
  const key: KeyObject = createPrivateKey({
    key: {
      kty: "EC",
      crv: curve.jwk,
      x: base64url(point.subarray(1, 1 + curve.size)),
      y: base64url(point.subarray(1 + curve.size)),
      d: base64url(d)
    },
    format: "jwk"
  })
  return (data) => {
    const rs = sign(curve.hash, data, { key, dsaEncoding: "ieee-p1363" })
    return concat(string(type), string(concat(mpint(rs.subarray(0, curve.size)), mpint(rs.subarray(curve.size)))))
  }
}

/** RSA signs as `rsa-sha2-512`, as `ssh-keygen -Y sign` does: the SHA-1 `ssh-rsa` scheme is refused by verifiers. */
const rsa = (fields: ReturnType<typeof reader>): ((data: Uint8Array) => Uint8Array) => {
  const next = () => unsigned(fields.string())
  const [n, e, d, iqmp, p, q] = [next(), next(), next(), next(), next(), next()]
  const exponent = (prime: Uint8Array) => base64url(bigintBytes(bigint(d) % (bigint(prime) - 1n)))
  const key = createPrivateKey({
    key: { kty: "RSA", n: base64url(n), e: base64url(e), d: base64url(d), p: base64url(p), q: base64url(q), dp: exponent(p), dq: exponent(q), qi: base64url(iqmp) },
    format: "jwk"
  })
  return (data) => concat(string("rsa-sha2-512"), string(sign("sha512", data, key)))
}

const MAGIC = "openssh-key-v1\0"

/** Why a key file could not be used; never any of its content. */
export type KeyProblem = "passphrase" | "malformed" | { readonly unsupported: string } | { readonly keys: number }

/**
 * The one key of an `openssh-key-v1` file (the base64 between its armor lines, decoded): Ed25519,
 * ECDSA or RSA, without a passphrase.
 */
export const parseOpenSshKey = (decoded: Uint8Array): Either.Either<SshKey, KeyProblem> => {
  try {
    if (new TextDecoder().decode(decoded.subarray(0, MAGIC.length)) !== MAGIC) return Either.left("malformed")
    const file = reader(decoded.subarray(MAGIC.length))
    const [cipher, kdf] = [file.text(), file.text()]
    file.string()
    const count = file.uint32()
    if (cipher !== "none" || kdf !== "none") return Either.left("passphrase")
    if (count !== 1) return Either.left({ keys: count })
    const publicBlob = file.string()
    const secret = reader(file.string())
    // Equal check numbers are how OpenSSH tells a well decrypted private section.
    if (secret.uint32() !== secret.uint32()) return Either.left("malformed")
    const type = secret.text()
    if (reader(publicBlob).text() !== type) return Either.left("malformed")
    const signer = type === "ssh-ed25519"
      ? ed25519(secret)
      : type.startsWith("ecdsa-sha2-")
      ? ecdsa(type, secret)
      : type === "ssh-rsa"
      ? rsa(secret)
      : undefined
    return signer === undefined ? Either.left({ unsupported: type }) : Either.right({ type, publicBlob, sign: signer })
  } catch {
    // A cut short file, or numbers node:crypto refuses as a key.
    return Either.left("malformed")
  }
}

const SIG_MAGIC = encoder.encode("SSHSIG")

/**
 * An armored SSHSIG signature of `message` in `namespace`, as `ssh-keygen -Y sign -n namespace`
 * makes it (OpenSSH's PROTOCOL.sshsig): the key signs a blob of the namespace and the message's
 * SHA-512, and the signature carries the public key.
 */
export const sshsig = (key: SshKey, message: Uint8Array, namespace: string): string => {
  const hash = createHash("sha512").update(message).digest()
  const fields = concat(string(namespace), string(""), string("sha512"))
  const signed = concat(SIG_MAGIC, fields, string(hash))
  const blob = concat(SIG_MAGIC, uint32(1), string(key.publicBlob), fields, string(key.sign(signed)))
  const lines = Buffer.from(blob).toString("base64").match(/.{1,70}/g) ?? []
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join("\n")}\n-----END SSH SIGNATURE-----\n`
}
