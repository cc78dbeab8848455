/**
 * Signatures laid out exactly as `cosign sign --key <key> --tlog-upload=false` (tag scheme, not
 * the new bundle format) pushes them: the simple-signing payload as sigstore/sigstore
 * `pkg/signature/payload` marshals it, one layer per signature in an OCI manifest built the way
 * go-containerregistry's `mutate.Append` builds it on cosign's empty signature image, tagged
 * `sha256-<hex>.sig`. Signing again appends a layer, as cosign does.
 */
import { constants, createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto"
import type { TestRegistry } from "./registry.ts"

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"

export type TestKeyType = "ecdsa-p256" | "ecdsa-p384" | "rsa-2048" | "ed25519"

export interface TestKeyPair {
  readonly privateKey: KeyObject
  /** The PEM `cosign public-key` writes (`-----BEGIN PUBLIC KEY-----`, SPKI). */
  readonly publicKeyPem: string
}

const pair = ({ privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject }): TestKeyPair => ({
  privateKey,
  publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
})

export const generateKeyPair = (type: TestKeyType): TestKeyPair => {
  switch (type) {
    case "ecdsa-p256":
      return pair(generateKeyPairSync("ec", { namedCurve: "P-256" }))
    case "ecdsa-p384":
      return pair(generateKeyPairSync("ec", { namedCurve: "P-384" }))
    case "rsa-2048":
      return pair(generateKeyPairSync("rsa", { modulusLength: 2048 }))
    case "ed25519":
      return pair(generateKeyPairSync("ed25519"))
  }
}
/** cosign's default key type (`cosign generate-key-pair`). */
export const generateP256 = (): TestKeyPair => generateKeyPair("ecdsa-p256")
export const generateP384 = (): TestKeyPair => generateKeyPair("ecdsa-p384")
export const generateRsa2048 = (): TestKeyPair => generateKeyPair("rsa-2048")
export const generateEd25519 = (): TestKeyPair => generateKeyPair("ed25519")

const sha256 = (data: string | Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** JSON as Go's `encoding/json` writes it: compact, and `<`, `>`, `&`, U+2028, U+2029 escaped. */
export const goJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

const sortedRecord = (record: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

/**
 * The payload `cosign sign` signs: `payload.Cosign{Image, ClaimedIdentity, Annotations}.MarshalJSON()`.
 * `reference` is the repository cosign names (`registry/repo`, or `--sign-container-identity`);
 * without `-a` annotations `optional` is null.
 */
export const simpleSigningPayload = (
  digest: string,
  reference: string,
  annotations?: Readonly<Record<string, string>>,
): Uint8Array =>
  utf8(
    goJson({
      critical: { identity: { "docker-reference": reference }, image: { "docker-manifest-digest": digest }, type: "cosign container image signature" },
      optional: annotations === undefined ? null : sortedRecord(annotations),
    }),
  )

/**
 * Which cosign signs: "current" (2.6 and later, `LoadDefaultSignerVerifier` with Ed25519ph) hashes
 * P-384 with SHA-384 and signs Ed25519 as Ed25519ph; "legacy" (up to 2.5) hashes every ECDSA key
 * with SHA-256 and signs pure Ed25519. P-256 (SHA-256) and RSA (PKCS#1 v1.5, SHA-256) agree.
 */
export type CosignRelease = "current" | "legacy"

/** The base64 signature cosign puts in the layer annotation; ECDSA signatures are ASN.1 DER. */
export const signPayload = (payload: Uint8Array, privateKey: KeyObject, release: CosignRelease = "current"): string => {
  const details = privateKey.asymmetricKeyDetails ?? {}
  switch (privateKey.asymmetricKeyType) {
    case "ec": {
      const hash = details.namedCurve === "secp384r1" && release === "current" ? "sha384" : "sha256"
      return sign(hash, payload, { key: privateKey, dsaEncoding: "der" }).toString("base64")
    }
    case "rsa":
      return sign("sha256", payload, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }).toString("base64")
    case "ed25519": {
      if (release === "legacy") return sign(null, payload, privateKey).toString("base64")
      const seed = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url")
      return Buffer.from(ed25519phSign(seed, payload)).toString("base64")
    }
    default:
      throw new Error(`cosign does not sign with ${privateKey.asymmetricKeyType ?? "this"} keys`)
  }
}

// Ed25519ph signing (RFC 8032 §5.1.6 with the prehash flag), written apart from the verifier in
// src/gates/cosign.ts so each checks the other; neither node:crypto nor BoringSSL offers it.
const P = 2n ** 255n - 19n
const L = 2n ** 252n + 27742317777372353535851937790883648493n
type Point = readonly [bigint, bigint, bigint, bigint]
const md = (a: bigint, m = P): bigint => ((a % m) + m) % m
const modPow = (b: bigint, e: bigint): bigint => (e === 0n ? 1n : md((e & 1n ? b : 1n) * modPow(md(b * b), e >> 1n)))
const D = md(-121665n * modPow(121666n, P - 2n))
const BY = md(4n * modPow(5n, P - 2n))
const BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202n
const pointAdd = ([x1, y1, z1, t1]: Point, [x2, y2, z2, t2]: Point): Point => {
  const a = md((y1 - x1) * (y2 - x2))
  const b = md((y1 + x1) * (y2 + x2))
  const c = md(2n * D * t1 * t2)
  const d = md(2n * z1 * z2)
  return [md((b - a) * (d - c)), md((d + c) * (b + a)), md((d - c) * (d + c)), md((b - a) * (b + a))]
}
const scalarMult = (n: bigint): Point => {
  let result: Point = [0n, 1n, 1n, 0n]
  let q: Point = [BX, BY, 1n, md(BX * BY)]
  for (let k = n; k > 0n; k >>= 1n, q = pointAdd(q, q)) if (k & 1n) result = pointAdd(result, q)
  return result
}
const toLittleEndian = (n: bigint): Uint8Array => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, "0"), "hex").reverse())
const fromLittleEndian = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).reverse().toString("hex")}`)
const encode = ([x, y, z]: Point): Uint8Array => {
  const zi = modPow(z, P - 2n)
  return toLittleEndian(md(y * zi) | ((md(x * zi) & 1n) << 255n))
}
const sha512 = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const hash = createHash("sha512")
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}
const DOM2_PH = Uint8Array.from([...Buffer.from("SigEd25519 no Ed25519 collisions"), 1, 0])

/** Ed25519ph over `message` with the 32-byte private seed; exported to check it against RFC 8032 §7.3. */
export const ed25519phSign = (seed: Uint8Array, message: Uint8Array): Uint8Array => {
  const h = sha512(seed)
  const a = (fromLittleEndian(h.subarray(0, 32)) & ((1n << 254n) - 8n)) | (1n << 254n)
  const publicKey = encode(scalarMult(a))
  const prehash = sha512(message)
  const r = md(fromLittleEndian(sha512(DOM2_PH, h.subarray(32), prehash)), L)
  const R = encode(scalarMult(r))
  const k = md(fromLittleEndian(sha512(DOM2_PH, R, publicKey, prehash)), L)
  return Uint8Array.from([...R, ...toLittleEndian(md(r + k * a, L))])
}

export interface Descriptor {
  readonly mediaType: string
  readonly size: number
  readonly digest: string
  readonly annotations?: Readonly<Record<string, string>>
}

/** A descriptor in go-containerregistry's field order (mediaType, size, digest, annotations). */
const descriptor = (d: Descriptor): Descriptor => ({
  mediaType: d.mediaType,
  size: d.size,
  digest: d.digest,
  ...(d.annotations === undefined || Object.keys(d.annotations).length === 0 ? {} : { annotations: sortedRecord(d.annotations) }),
})

/** The signature layer for one payload, with its base64 signature annotation. */
export const signatureLayer = (payload: Uint8Array, signature: string): Descriptor => ({
  mediaType: SIMPLE_SIGNING,
  size: payload.byteLength,
  digest: sha256(payload),
  annotations: { [SIGNATURE_ANNOTATION]: signature },
})

/**
 * The config blob `mutate.Append` re-marshals from the empty image's config: zero times, one
 * empty history entry and one diff ID (the payload's own digest) per layer.
 */
export const signatureConfig = (layerDigests: ReadonlyArray<string>): string =>
  goJson({
    architecture: "",
    created: "0001-01-01T00:00:00Z",
    ...(layerDigests.length === 0 ? {} : { history: layerDigests.map(() => ({ created: "0001-01-01T00:00:00Z" })) }),
    os: "",
    rootfs: { type: "layers", diff_ids: layerDigests.length === 0 ? null : layerDigests },
    config: {},
  })

/** The signature manifest for these layers and the config blob it references. */
export const signatureManifest = (layers: ReadonlyArray<Descriptor>): { readonly manifest: string; readonly config: string } => {
  const config = signatureConfig(layers.map((layer) => layer.digest))
  const manifest = goJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor({ mediaType: OCI_CONFIG, size: Buffer.byteLength(config), digest: sha256(config) }),
    layers: layers.map(descriptor),
  })
  return { manifest, config }
}

export const signatureTagOf = (digest: string): string => `${digest.replace(":", "-")}.sig`

// The harness talks to its own registries only; TLS ones are self-signed.
const localFetch = (url: string, init: BunFetchRequestInit = {}) => fetch(url, { tls: { rejectUnauthorized: false }, ...init })

const request = async (url: string, init: BunFetchRequestInit, expected: number, what: string): Promise<Response> => {
  const res = await localFetch(url, init)
  if (res.status !== expected) throw new Error(`${what}: ${res.status} ${(await res.text()).slice(0, 300)}`)
  return res
}

/**
 * Uploads `blobs` (monolithic POST then PUT, as `TestRegistry.pushImage` does) and puts `manifest`
 * under `reference`; returns the manifest digest. `headers` carry auth for protected registries.
 */
export const pushArtifact = async (
  registry: TestRegistry,
  repository: string,
  reference: string,
  content: { readonly blobs: ReadonlyArray<Uint8Array | string>; readonly manifest: string; readonly mediaType?: string },
  headers: Readonly<Record<string, string>> = {},
): Promise<string> => {
  for (const blob of content.blobs) {
    const start = await request(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: "POST", headers }, 202, "blob upload not started")
    await start.arrayBuffer()
    const uploadUrl = new URL(start.headers.get("location") ?? "", registry.url)
    uploadUrl.searchParams.set("digest", sha256(blob))
    const body = typeof blob === "string" ? blob : Buffer.from(blob)
    const put = await request(uploadUrl.toString(), { method: "PUT", headers: { ...headers, "content-type": "application/octet-stream" }, body }, 201, "blob upload failed")
    await put.arrayBuffer()
  }
  const res = await request(
    `${registry.url}/v2/${repository}/manifests/${reference}`,
    { method: "PUT", headers: { ...headers, "content-type": content.mediaType ?? OCI_MANIFEST }, body: content.manifest },
    201,
    `manifest ${repository}:${reference} not accepted`,
  )
  await res.arrayBuffer()
  return sha256(content.manifest)
}

/** The layers of the signature manifest already at the `.sig` tag, or none. */
const existingLayers = async (
  registry: TestRegistry,
  repository: string,
  tag: string,
  headers: Readonly<Record<string, string>>,
): Promise<ReadonlyArray<Descriptor>> => {
  const res = await localFetch(`${registry.url}/v2/${repository}/manifests/${tag}`, { headers: { ...headers, accept: OCI_MANIFEST } })
  if (res.status === 404) {
    await res.arrayBuffer()
    return []
  }
  if (res.status !== 200) throw new Error(`reading ${repository}:${tag}: ${res.status}`)
  const parsed: { layers?: ReadonlyArray<Descriptor> } = await res.json()
  if (!Array.isArray(parsed.layers)) throw new Error(`${repository}:${tag} is not a signature manifest`)
  return parsed.layers
}

export interface SignOptions {
  /** The digest the payload names (default: the signed image's): a signature for another image. */
  readonly payloadDigest?: string
  /** `critical.identity.docker-reference` (default `<registry host>/<repository>`, as cosign writes it). */
  readonly reference?: string
  readonly annotations?: Readonly<Record<string, string>>
  /** Sign and push these bytes instead of the simple-signing payload. */
  readonly payload?: Uint8Array
  /** Pad the payload with trailing spaces (still valid JSON, still signed) to this many bytes. */
  readonly padTo?: number
  readonly release?: CosignRelease
  /** Replace the `.sig` manifest instead of appending to it as cosign does. */
  readonly replace?: boolean
  readonly headers?: Readonly<Record<string, string>>
}

export interface PushedSignature {
  readonly tag: string
  readonly manifest: string
  readonly manifestDigest: string
  readonly payload: Uint8Array
  readonly signature: string
}

/** Signs `digest` in `repository` with `privateKey` and pushes the signature as `cosign sign --key` does. */
export const pushSignature = async (
  registry: TestRegistry,
  repository: string,
  digest: string,
  privateKey: KeyObject,
  options: SignOptions = {},
): Promise<PushedSignature> => {
  const tag = signatureTagOf(digest)
  const headers = options.headers ?? {}
  let payload = options.payload ?? simpleSigningPayload(options.payloadDigest ?? digest, options.reference ?? `${registry.host}/${repository}`, options.annotations)
  if (options.padTo !== undefined && options.padTo > payload.byteLength) {
    payload = new Uint8Array(Buffer.concat([payload, Buffer.alloc(options.padTo - payload.byteLength, 0x20)]))
  }
  const signature = signPayload(payload, privateKey, options.release)
  const before = options.replace === true ? [] : await existingLayers(registry, repository, tag, headers)
  const { manifest, config } = signatureManifest([...before, signatureLayer(payload, signature)])
  const manifestDigest = await pushArtifact(registry, repository, tag, { blobs: [config, payload], manifest }, headers)
  return { tag, manifest, manifestDigest, payload, signature }
}

/**
 * Puts something at the `.sig` tag that the registry accepts but is no signature manifest:
 * an empty OCI index, or an image manifest whose one layer is not a simple-signing payload.
 */
export const pushGarbageSignature = async (
  registry: TestRegistry,
  repository: string,
  digest: string,
  kind: "index" | "image",
  headers: Readonly<Record<string, string>> = {},
): Promise<string> => {
  const tag = signatureTagOf(digest)
  if (kind === "index") {
    const index = goJson({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] })
    return pushArtifact(registry, repository, tag, { blobs: [], manifest: index, mediaType: "application/vnd.oci.image.index.v1+json" }, headers)
  }
  const layer = utf8("not a signature")
  const { manifest, config } = signatureManifest([{ mediaType: "application/vnd.oci.image.layer.v1.tar", size: layer.byteLength, digest: sha256(layer) }])
  return pushArtifact(registry, repository, tag, { blobs: [config, layer], manifest }, headers)
}
