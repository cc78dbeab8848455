/**
 * Key-based verification of cosign signatures stored under cosign's tag scheme
 * (`sha256-<hex>.sig`, sigstore/cosign `specs/SIGNATURE_SPEC.md`). Pure: the caller fetches the
 * signature manifest and its payload blobs and hands them over.
 */
import { constants, createHash, createPublicKey, type KeyObject, verify as cryptoVerify } from "node:crypto"
import { Either, Schema } from "effect"
import { sha256Digest, sha256DigestPattern } from "../domain/ImageRef.ts"
import { parseJsonText } from "../json.ts"

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
export const COSIGN_SIGNATURE_TYPE = "cosign container image signature"
/** Larger signature manifests are refused unread; the caller bounds what it downloads by this too. */
export const MAX_SIGNATURE_MANIFEST_CHARS = 4 * 1024 * 1024
/** cosign refuses to append beyond this many signatures (`maxLayers` in pkg/oci/mutate). */
export const MAX_SIGNATURE_LAYERS = 1000
/** A simple-signing payload is a few hundred bytes; a layer declaring more is not fetched. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024

const MAX_KEY_FILE_CHARS = 64 * 1024

/** At most `max` characters of untrusted text, control and bidi characters escaped, for a report. */
export const excerpt = (text: string, max = 32): string => {
  const chars = Array.from(text)
  const shown = chars
    .slice(0, max)
    .map((c) => (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : c))
    .join("")
  return chars.length > max ? `${shown}…` : shown
}

/** A digest as messages show it: its first 12 hex digits, or an excerpt of what is not one. */
export const shortDigest = (digest: string): string =>
  sha256DigestPattern.test(digest) ? `${digest.slice(0, "sha256:".length + 12)}…` : `"${excerpt(digest, 24)}"`

/** `sha256:<hex>` → `sha256-<hex>.sig`, the tag cosign stores the image's signatures under. */
export const signatureTag = (digest: string): Either.Either<string, string> =>
  sha256DigestPattern.test(digest)
    ? Either.right(`sha256-${digest.slice("sha256:".length)}.sig`)
    : Either.left(`cannot name the signature tag of ${shortDigest(digest)}: not a sha256 digest (sha256: and 64 lowercase hex digits)`)

export type KeyKind = "ecdsa-p256" | "ecdsa-p384" | "rsa" | "ed25519"

export interface PublicKey {
  readonly key: KeyObject
  readonly kind: KeyKind
  /** What a report shows: "ECDSA P-256", "RSA 3072", "Ed25519". */
  readonly description: string
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{1,60})-----/g
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

// Messages name the kind of thing found, never the file's bytes: a key file may hold a secret by mistake.
const pemBlockBody = (pem: string): Either.Either<{ readonly label: string; readonly der: Buffer }, string> => {
  const labels = Array.from(pem.matchAll(PEM_BEGIN), (m) => m[1] ?? "")
  const [label, ...others] = labels
  if (label === undefined) return Either.left("no PEM block (expected -----BEGIN PUBLIC KEY-----)")
  if (others.length > 0) return Either.left("more than one PEM block (expected a single public key)")
  if (label.includes("PRIVATE KEY")) return Either.left("a private key, not a public key: give the runner cosign.pub, never cosign.key")
  if (label === "CERTIFICATE") return Either.left("a certificate, not a public key (key-based verification takes cosign.pub)")
  if (label !== "PUBLIC KEY" && label !== "RSA PUBLIC KEY") return Either.left("an unsupported PEM block (expected PUBLIC KEY)")
  const start = pem.indexOf(`-----BEGIN ${label}-----`) + `-----BEGIN ${label}-----`.length
  const end = pem.indexOf(`-----END ${label}-----`, start)
  if (end < 0) return Either.left("the PEM block is not closed")
  const body = pem.slice(start, end).replace(/\s+/g, "")
  if (body === "" || !BASE64.test(body)) return Either.left("the PEM block's body is not base64")
  return Either.right({ label, der: Buffer.from(body, "base64") })
}

/** Reads a `cosign.pub`: an SPKI `PUBLIC KEY` PEM (or PKCS#1 `RSA PUBLIC KEY`, which cosign also reads). */
export const parsePublicKey = (pem: string): Either.Either<PublicKey, string> => {
  if (pem.length > MAX_KEY_FILE_CHARS) return Either.left("too large for a public key file")
  return Either.flatMap(pemBlockBody(pem), ({ label, der }): Either.Either<PublicKey, string> => {
    let key: KeyObject
    try {
      key = createPublicKey({ key: der, format: "der", type: label === "RSA PUBLIC KEY" ? "pkcs1" : "spki" })
    } catch {
      return Either.left("not a readable public key")
    }
    const details = key.asymmetricKeyDetails ?? {}
    switch (key.asymmetricKeyType) {
      case "ec":
        if (details.namedCurve === "prime256v1") return Either.right({ key, kind: "ecdsa-p256", description: "ECDSA P-256" })
        if (details.namedCurve === "secp384r1") return Either.right({ key, kind: "ecdsa-p384", description: "ECDSA P-384" })
        return Either.left(`an ECDSA key on curve ${details.namedCurve ?? "unknown"}: only P-256 and P-384 are supported`)
      case "rsa": {
        const bits = details.modulusLength ?? 0
        if (bits < 2048) return Either.left(`an RSA key of ${bits} bits: at least 2048 are required`)
        return Either.right({ key, kind: "rsa", description: `RSA ${bits}` })
      }
      case "ed25519":
        return Either.right({ key, kind: "ed25519", description: "Ed25519" })
      default:
        return Either.left(`a ${key.asymmetricKeyType ?? "unknown"} key: only ECDSA P-256/P-384, RSA and Ed25519 are supported`)
    }
  })
}

const Descriptor = Schema.Struct({
  mediaType: Schema.String,
  digest: Schema.String,
  size: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  annotations: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
})
export type Descriptor = typeof Descriptor.Type

/** The OCI image manifest cosign pushes under `sha256-<hex>.sig`: one layer per signature. */
export const SignatureManifest = Schema.Struct({
  schemaVersion: Schema.Literal(2),
  mediaType: Schema.optional(Schema.String),
  config: Descriptor,
  layers: Schema.Array(Descriptor).pipe(Schema.maxItems(MAX_SIGNATURE_LAYERS)),
})
export type SignatureManifest = typeof SignatureManifest.Type

/** The simple-signing payload as cosign writes it (sigstore/sigstore `pkg/signature/payload`). */
const SimpleSigningPayload = Schema.Struct({
  critical: Schema.Struct({
    identity: Schema.Struct({ "docker-reference": Schema.String }),
    image: Schema.Struct({ "docker-manifest-digest": Schema.String }),
    type: Schema.String,
  }),
  optional: Schema.optional(Schema.Unknown),
})

// Decoders compiled once, not per call.
const decodeManifest = Schema.decodeUnknownEither(SignatureManifest)
const decodePayload = Schema.decodeUnknownEither(SimpleSigningPayload)

/** Decodes the manifest at a `.sig` tag; the reason never quotes the text. */
export const decodeSignatureManifest = (text: string): Either.Either<SignatureManifest, string> => {
  if (text.length > MAX_SIGNATURE_MANIFEST_CHARS) return Either.left("signature manifest too large")
  return parseJsonText(text).pipe(
    Either.flatMap((value) => decodeManifest(value)),
    Either.mapLeft(() => "malformed signature manifest"),
  )
}

/** The layers worth fetching: simple-signing payloads with a sha256 digest and a plausible size. */
export const signatureLayers = (manifest: SignatureManifest): ReadonlyArray<Descriptor> =>
  manifest.layers.filter(
    (layer) => layer.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && sha256DigestPattern.test(layer.digest) && layer.size <= MAX_PAYLOAD_BYTES,
  )

// Ed25519ph (RFC 8032 §5.1, prehash flag set, empty context). cosign 2.6 and later sign with it by
// default for Ed25519 keys; neither node:crypto nor Bun's BoringSSL offer it, so it is computed here.
const P = 2n ** 255n - 19n
const L = 2n ** 252n + 27742317777372353535851937790883648493n
type Point = readonly [bigint, bigint, bigint, bigint]
const mod = (a: bigint, m = P): bigint => ((a % m) + m) % m
const pow = (base: bigint, exponent: bigint): bigint => {
  let [result, b, e] = [1n, mod(base), exponent]
  for (; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) result = (result * b) % P
  return result
}
const D = mod(-121665n * pow(121666n, P - 2n))
const add = ([x1, y1, z1, t1]: Point, [x2, y2, z2, t2]: Point): Point => {
  const [a, b, c, d] = [mod((y1 - x1) * (y2 - x2)), mod((y1 + x1) * (y2 + x2)), mod(2n * D * t1 * t2), mod(2n * z1 * z2)]
  const [e, f, g, h] = [b - a, d - c, d + c, b + a]
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)]
}
const multiply = (point: Point, scalar: bigint): Point => {
  let [result, q, n]: [Point, Point, bigint] = [[0n, 1n, 1n, 0n], point, scalar]
  for (; n > 0n; n >>= 1n, q = add(q, q)) if (n & 1n) result = add(result, q)
  return result
}
const littleEndian = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).reverse().toString("hex") || "0"}`)
const encodePoint = ([x, y, z]: Point): string => {
  const zInv = pow(z, P - 2n)
  const n = mod(y * zInv) | ((mod(x * zInv) & 1n) << 255n)
  return Buffer.from(n.toString(16).padStart(64, "0"), "hex").reverse().toString("hex")
}
const decodePoint = (bytes: Uint8Array): Point | undefined => {
  const n = littleEndian(bytes)
  const [sign, y] = [n >> 255n, n & ((1n << 255n) - 1n)]
  if (bytes.length !== 32 || y >= P) return undefined
  const [u, v] = [mod(y * y - 1n), mod(D * y * y + 1n)]
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n))
  const vx2 = mod(v * x * x)
  if (vx2 === mod(-u)) x = mod(x * pow(2n, (P - 1n) / 4n))
  else if (vx2 !== u) return undefined
  if (x === 0n && sign === 1n) return undefined
  if ((x & 1n) !== sign) x = P - x
  return [x, y, 1n, mod(x * y)]
}
const BASE = decodePoint(Buffer.from("58".padEnd(64, "6"), "hex"))
const DOM2_PH = Buffer.concat([Buffer.from("SigEd25519 no Ed25519 collisions"), Buffer.from([1, 0])])

const verifyEd25519ph = (key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean => {
  const publicKey = Buffer.from(key.export({ format: "jwk" }).x ?? "", "base64url")
  const a = decodePoint(publicKey)
  const s = littleEndian(signature.subarray(32))
  if (signature.length !== 64 || a === undefined || BASE === undefined || s >= L) return false
  const prehash = createHash("sha512").update(message).digest()
  const r = signature.subarray(0, 32)
  const k = mod(littleEndian(createHash("sha512").update(DOM2_PH).update(r).update(publicKey).update(prehash).digest()), L)
  const [x, y, z, t] = multiply(a, k)
  return encodePoint(add(multiply(BASE, s), [mod(-x), y, z, mod(-t)])) === Buffer.from(r).toString("hex")
}

type Check = (payload: Uint8Array, signature: Uint8Array) => boolean
const safely = (check: Check): Check => (payload, signature) => {
  try {
    return check(payload, signature)
  } catch {
    return false
  }
}

// Every scheme a cosign release signs with for this key type. P-384 keys: cosign 2.6+ hash with
// SHA-384, earlier releases (and `cosign verify`'s default) with SHA-256. Ed25519: 2.6+ use
// Ed25519ph, earlier releases pure Ed25519. ECDSA signatures are DER; sigstore also reads IEEE P1363.
const schemes = (publicKey: PublicKey): ReadonlyArray<readonly [string, Check]> => {
  const key = publicKey.key
  const ecdsa = (hash: string, size: number): Check => (payload, signature) =>
    safely((p, s) => cryptoVerify(hash, p, { key, dsaEncoding: "der" }, s))(payload, signature) ||
    (signature.length === 2 * size && safely((p, s) => cryptoVerify(hash, p, { key, dsaEncoding: "ieee-p1363" }, s))(payload, signature))
  switch (publicKey.kind) {
    case "ecdsa-p256":
      return [["ECDSA P-256 SHA-256", ecdsa("sha256", 32)]]
    case "ecdsa-p384":
      return [["ECDSA P-384 SHA-384", ecdsa("sha384", 48)], ["ECDSA P-384 SHA-256", ecdsa("sha256", 48)]]
    case "rsa":
      return [["RSA PKCS#1 v1.5 SHA-256", safely((p, s) => cryptoVerify("sha256", p, { key, padding: constants.RSA_PKCS1_PADDING }, s))]]
    case "ed25519":
      return [["Ed25519", safely((p, s) => cryptoVerify(null, p, key, s))], ["Ed25519ph", safely((p, s) => verifyEd25519ph(key, p, s))]]
  }
}

export interface Verified {
  /** The image digest the signature names. */
  readonly digest: string
  /** The signature layer (payload blob) that verified. */
  readonly layer: string
  /** The scheme that verified, e.g. "ECDSA P-256 SHA-256". */
  readonly scheme: string
  /** `critical.identity.docker-reference` as the signer claimed it (cosign does not check it either). */
  readonly dockerReference: string
}

// How far a layer got before it failed: the report shows the reason of the layer that got furthest.
interface Failure {
  readonly stage: number
  readonly reason: string
}

const fail = (stage: number, reason: string): Either.Either<never, Failure> => Either.left({ stage, reason })

const verifyLayer = (
  layer: Descriptor,
  blob: (digest: string) => Uint8Array | undefined,
  key: PublicKey,
  digest: string,
): Either.Either<Verified, Failure> => {
  const signature = layer.annotations?.[SIGNATURE_ANNOTATION]
  if (signature === undefined) return fail(1, "signature layer has no signature annotation")
  if (signature === "" || !BASE64.test(signature)) return fail(2, "signature is not base64")
  if (!sha256DigestPattern.test(layer.digest)) return fail(2, "signature layer has no sha256 digest")
  if (layer.size > MAX_PAYLOAD_BYTES) return fail(2, `signature payload too large (${layer.size} bytes)`)
  const payload = blob(layer.digest)
  if (payload === undefined) return fail(3, "signature payload missing")
  if (payload.byteLength !== layer.size || sha256Digest(payload) !== layer.digest) return fail(4, "signature payload does not match its digest")
  const bytes = Buffer.from(signature, "base64")
  const scheme = schemes(key).find(([, check]) => check(payload, bytes))
  if (scheme === undefined) return fail(5, "signature does not verify")
  const decoded = parseJsonText(new TextDecoder().decode(payload)).pipe(Either.flatMap((value) => decodePayload(value)))
  if (Either.isLeft(decoded)) return fail(6, "malformed signature payload")
  const { critical } = decoded.right
  if (critical.type !== COSIGN_SIGNATURE_TYPE) return fail(7, `signature payload has type "${excerpt(critical.type)}"`)
  const named = critical.image["docker-manifest-digest"]
  if (named !== digest) return fail(7, `signature is for ${shortDigest(named)}`)
  return Either.right({ digest, layer: layer.digest, scheme: scheme[0], dockerReference: critical.identity["docker-reference"] })
}

/**
 * Valid when one simple-signing layer carries a signature that verifies under `key` over its
 * payload blob, the blob matches the layer's digest, and the payload names exactly `digest`.
 * The reason reads after "not signed by <key file>: ".
 */
export const verifySignatures = (input: {
  readonly manifest: string
  readonly blob: (digest: string) => Uint8Array | undefined
  readonly key: PublicKey
  readonly digest: string
}): Either.Either<Verified, string> => {
  if (!sha256DigestPattern.test(input.digest)) return Either.left(`cannot check ${shortDigest(input.digest)}: not a sha256 digest`)
  const manifest = decodeSignatureManifest(input.manifest)
  if (Either.isLeft(manifest)) return Either.left(manifest.left)
  const layers = manifest.right.layers.filter((layer) => layer.mediaType === SIMPLE_SIGNING_MEDIA_TYPE)
  let furthest: Failure = { stage: 0, reason: "no signature layer" }
  for (const layer of layers) {
    const result = verifyLayer(layer, input.blob, input.key, input.digest)
    if (Either.isRight(result)) return Either.right(result.right)
    if (result.left.stage > furthest.stage) furthest = result.left
  }
  return Either.left(furthest.reason)
}
