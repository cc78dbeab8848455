/**
 * A private sigstore for keyless tests: a Fulcio-like CA (self-signed P-384 root and intermediate),
 * a Rekor-like transparency log key and a CT log key, all generated with node:crypto and written as
 * a sigstore trusted root; bundles (v0.3) for an image digest, laid out as `cosign sign` with the
 * new bundle format makes them (DSSE envelope over an in-toto statement whose subject is the image
 * digest, Rekor `dsse` 0.0.1 entry with a signed entry timestamp and an inclusion proof against a
 * signed checkpoint, Fulcio leaf with the OIDC issuer extensions and an embedded SCT); and attaching
 * a bundle to an image in a registry as cosign does on a registry without the referrers API.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto"
import { goJson, pushArtifact } from "./cosign.ts"
import type { TestRegistry } from "./registry.ts"

export const BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json"
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json"
export const COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

// DER, just what certificates need.
const derLength = (n: number): Buffer =>
  n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
const tlv = (tag: number, ...content: ReadonlyArray<Uint8Array>): Buffer => {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body])
}
const seq = (...content: ReadonlyArray<Uint8Array>) => tlv(0x30, ...content)
const integer = (n: bigint): Buffer => {
  const hex = n.toString(16)
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex")
  return tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes)
}
const oid = (dotted: string): Buffer => {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number)
  const bytes = [40 * first + second]
  for (const n of rest) {
    const groups = [n & 0x7f]
    for (let v = n >>> 7; v > 0; v >>>= 7) groups.unshift((v & 0x7f) | 0x80)
    bytes.push(...groups)
  }
  return tlv(0x06, Buffer.from(bytes))
}
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"))
const octets = (bytes: Uint8Array) => tlv(0x04, bytes)
const bits = (bytes: Uint8Array, unused = 0) => tlv(0x03, Buffer.from([unused]), bytes)
// UTCTime: every date here is before 2050.
const time = (date: Date): Buffer => tlv(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`))
const name = (organization: string, commonName: string) =>
  seq(tlv(0x31, seq(oid("2.5.4.10"), utf8String(organization))), tlv(0x31, seq(oid("2.5.4.3"), utf8String(commonName))))
const extension = (id: string, critical: boolean, value: Uint8Array) =>
  seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value))

/** The SPKI DER of a key, or of a private key's public half. */
const spki = (key: KeyObject): Buffer => createPublicKey(key).export({ type: "spki", format: "der" })
const sha256 = (...parts: ReadonlyArray<Uint8Array | string>): Buffer => {
  const hash = createHash("sha256")
  for (const part of parts) hash.update(part)
  return hash.digest()
}
// @sigstore/core parses OCTET STRING contents as nested DER when they happen to parse, and
// re-encodes them when checking signatures: a key id starting with an impossible length never does.
const keyId = (key: KeyObject): Buffer => Buffer.concat([Buffer.from([0x04, 0xff]), createHash("sha1").update(spki(key)).digest().subarray(0, 18)])

type Issuer = { readonly key: KeyObject; readonly name: Buffer }
const algorithm = (signer: KeyObject) =>
  signer.asymmetricKeyDetails?.namedCurve === "secp384r1" ? { id: "1.2.840.10045.4.3.3", hash: "sha384" } : { id: "1.2.840.10045.4.3.2", hash: "sha256" }

const serialNumber = () => BigInt(`0x${randomBytes(16).toString("hex")}`)
const tbsCertificate = (issuer: Issuer, subject: Buffer, key: KeyObject, validity: readonly [Date, Date], extensions: ReadonlyArray<Buffer>, serial = serialNumber()) =>
  seq(
    tlv(0xa0, integer(2n)),
    integer(serial),
    seq(oid(algorithm(issuer.key).id)),
    issuer.name,
    seq(time(validity[0]), time(validity[1])),
    subject,
    spki(key),
    tlv(0xa3, seq(...extensions))
  )

const signCertificate = (issuer: Issuer, tbs: Buffer): Buffer => {
  const alg = algorithm(issuer.key)
  return seq(tbs, seq(oid(alg.id)), bits(sign(alg.hash, tbs, issuer.key)))
}

const caCertificate = (issuer: Issuer, subject: Buffer, key: KeyObject, issuerPublic: KeyObject): Buffer =>
  signCertificate(
    issuer,
    tbsCertificate(issuer, subject, key, [new Date("2020-01-01T00:00:00Z"), new Date("2040-01-01T00:00:00Z")], [
      extension("2.5.29.15", true, bits(Buffer.from([0x06]), 1)),
      extension("2.5.29.19", true, seq(tlv(0x01, Buffer.from([0xff])), integer(1n))),
      extension("2.5.29.14", false, octets(keyId(key))),
      extension("2.5.29.35", false, seq(tlv(0x80, keyId(issuerPublic)))),
    ])
  )

export interface TestLog {
  readonly key: KeyObject
  /** sha256 of the log's public key (SPKI DER): Rekor's log ID and a CT log's. */
  readonly id: Buffer
  readonly baseUrl: string
}

export interface TestSigstore {
  /** The trusted root JSON text, as `cosign trusted-root create` or the TUF root would give it. */
  readonly trustedRoot: string
  readonly intermediate: Issuer & { readonly certificate: Buffer }
  readonly rekor: TestLog
  readonly ctlog: TestLog
}

const p256 = () => generateKeyPairSync("ec", { namedCurve: "P-256" })
const logOf = (baseUrl: string, key = p256().privateKey): TestLog => ({ key, id: sha256(spki(key)), baseUrl })
const logJson = (log: TestLog) => ({
  baseUrl: log.baseUrl,
  hashAlgorithm: "SHA2_256",
  publicKey: { rawBytes: spki(log.key).toString("base64"), keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor: { start: "2020-01-01T00:00:00Z" } },
  logId: { keyId: log.id.toString("base64") },
})

/** A CA, a transparency log and a CT log of their own; `host` names the services in the trusted root. */
export const createSigstore = (host = "sigstore.test"): TestSigstore => {
  const rootKey = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey
  const root: Issuer = { key: rootKey, name: name(host, "sigstore") }
  const rootCertificate = caCertificate(root, root.name, rootKey, rootKey)
  const intermediateKey = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey
  const intermediateName = name(host, "sigstore-intermediate")
  const intermediate = { key: intermediateKey, name: intermediateName, certificate: caCertificate(root, intermediateName, intermediateKey, rootKey) }
  const rekor = logOf(`https://rekor.${host}`)
  const ctlog = logOf(`https://ctfe.${host}/test`)
  const trustedRoot = JSON.stringify({
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [logJson(rekor)],
    certificateAuthorities: [{
      subject: { organization: host, commonName: "sigstore" },
      uri: `https://fulcio.${host}`,
      certChain: { certificates: [intermediate.certificate, rootCertificate].map((c) => ({ rawBytes: c.toString("base64") })) },
      validFor: { start: "2020-01-01T00:00:00Z" },
    }],
    ctlogs: [logJson(ctlog)],
    timestampAuthorities: [],
  }, null, 2)
  return { trustedRoot, intermediate, rekor, ctlog }
}

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff])

/** An RFC 6962 SCT for a precertificate whose TBS (without the SCT extension) is `tbs`. */
const signedCertificateTimestamp = (ctlog: TestLog, issuerKey: KeyObject, tbs: Buffer, at: Date): Buffer => {
  const timestamp = Buffer.alloc(8)
  timestamp.writeBigUInt64BE(BigInt(at.getTime()))
  const tbsLength = Buffer.from([(tbs.length >> 16) & 0xff, (tbs.length >> 8) & 0xff, tbs.length & 0xff])
  const signed = Buffer.concat([Buffer.from([0, 0]), timestamp, u16(1), sha256(spki(issuerKey)), tbsLength, tbs, u16(0)])
  const signature = sign("sha256", signed, ctlog.key)
  const sct = Buffer.concat([Buffer.from([0]), ctlog.id, timestamp, u16(0), Buffer.from([4, 3]), u16(signature.length), signature])
  return Buffer.concat([u16(sct.length + 2), u16(sct.length), sct])
}

export interface LeafOptions {
  readonly issuer: string
  /** A URI (workflow, `https://github.com/org/repo/...`) or an email address. */
  readonly subject: string
  readonly at: Date
  readonly withSct?: boolean
}

/** A Fulcio-style code-signing certificate for `key`, valid ten minutes from a minute before `at`. */
export const leafCertificate = (ca: TestSigstore, key: KeyObject, options: LeafOptions): Buffer => {
  const san = options.subject.includes("://") ? tlv(0x86, Buffer.from(options.subject)) : tlv(0x81, Buffer.from(options.subject))
  const extensions = [
    extension("2.5.29.15", true, bits(Buffer.from([0x80]), 7)),
    extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.3"))),
    extension("2.5.29.14", false, octets(keyId(key))),
    extension("2.5.29.35", false, seq(tlv(0x80, keyId(ca.intermediate.key)))),
    extension("2.5.29.17", true, seq(san)),
    // Fulcio writes the issuer twice: raw (deprecated .1.1) and as a DER UTF8String (.1.8).
    extension("1.3.6.1.4.1.57264.1.1", false, Buffer.from(options.issuer)),
    extension("1.3.6.1.4.1.57264.1.8", false, utf8String(options.issuer)),
  ]
  const validity = [new Date(options.at.getTime() - 60_000), new Date(options.at.getTime() + 9 * 60_000)] as const
  const serial = serialNumber()
  const precert = tbsCertificate(ca.intermediate, seq(), key, validity, extensions, serial)
  if (options.withSct === false) return signCertificate(ca.intermediate, precert)
  // The SCT signs the TBS without itself (RFC 6962 §3.2); the certificate then carries it as its last extension.
  const sct = signedCertificateTimestamp(ca.ctlog, ca.intermediate.key, precert, options.at)
  const withSct = [...extensions, extension("1.3.6.1.4.1.11129.2.4.2", false, octets(sct))]
  return signCertificate(ca.intermediate, tbsCertificate(ca.intermediate, seq(), key, validity, withSct, serial))
}

const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`

// RFC 6962 Merkle tree hashes, for an inclusion proof of one leaf among a few others.
const leafHash = (leaf: Uint8Array) => sha256(Buffer.from([0]), leaf)
const nodeHash = (left: Buffer, right: Buffer) => sha256(Buffer.from([1]), left, right)
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1))
const treeHash = (leaves: ReadonlyArray<Buffer>): Buffer =>
  leaves.length === 1 ? leaves[0] ?? Buffer.alloc(0) : nodeHash(treeHash(leaves.slice(0, split(leaves.length))), treeHash(leaves.slice(split(leaves.length))))
const auditPath = (index: number, leaves: ReadonlyArray<Buffer>): Array<Buffer> => {
  if (leaves.length <= 1) return []
  const k = split(leaves.length)
  return index < k
    ? [...auditPath(index, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...auditPath(index - k, leaves.slice(k)), treeHash(leaves.slice(0, k))]
}

/** A Rekor v1 transparency log entry for `body`, with its signed entry timestamp and an inclusion proof. */
const logEntry = (log: TestLog, kind: string, body: Buffer, at: Date) => {
  const integratedTime = Math.floor(at.getTime() / 1000)
  const logIndex = 4_000_000 + (integratedTime % 1000)
  const treeIndex = 3
  const leaves = [0, 1, 2, 3, 4].map((i) => (i === treeIndex ? leafHash(body) : leafHash(randomBytes(64))))
  const root = treeHash(leaves)
  // The SET signs the entry's canonical JSON (keys sorted), as Rekor does.
  const promise = JSON.stringify({ body: body.toString("base64"), integratedTime, logID: log.id.toString("hex"), logIndex })
  const host = new URL(log.baseUrl).host
  const note = `${host} - 1193050959916656506\n${leaves.length}\n${root.toString("base64")}\n`
  const noteSignature = Buffer.concat([log.id.subarray(0, 4), sign("sha256", Buffer.from(note), log.key)]).toString("base64")
  return {
    logIndex: String(logIndex),
    logId: { keyId: log.id.toString("base64") },
    kindVersion: { kind, version: "0.0.1" },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: sign("sha256", Buffer.from(promise), log.key).toString("base64") },
    inclusionProof: {
      logIndex: String(treeIndex),
      rootHash: root.toString("base64"),
      treeSize: String(leaves.length),
      hashes: auditPath(treeIndex, leaves).map((h) => h.toString("base64")),
      checkpoint: { envelope: `${note}\n\u2014 ${host} ${noteSignature}\n` },
    },
    canonicalizedBody: body.toString("base64"),
  }
}

/** The in-toto statement `cosign sign` signs (protojson of `intotov1.Statement`, cosign `signDigestBundle`). */
export const cosignStatement = (digest: string): string => {
  const [algorithm = "", hex = ""] = digest.split(":")
  return JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [{ digest: { [algorithm]: hex }, annotations: {} }], predicateType: COSIGN_SIGN_PREDICATE, predicate: {} })
}

const pae = (type: string, payload: Buffer) => Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload])

export interface KeylessSignOptions {
  /** The image digest the statement's subject names (`sha256:<hex>`). */
  readonly digest: string
  readonly issuer: string
  readonly subject: string
  /** When the signing happened: the certificate's validity and the log's integrated time (default 2026-01-15T10:00:00Z). */
  readonly at?: Date
  /** The log whose key signs the entry (default the CA's own): another one is not in the trusted root. */
  readonly log?: TestLog
  readonly withSct?: boolean
  /** Sign these bytes (an image manifest) as a message signature instead of a DSSE statement. */
  readonly manifest?: Uint8Array
  /** Replace the statement (still signed and logged). */
  readonly statement?: string
}

/** A sigstore bundle v0.3 JSON text for a keyless signature, as cosign would write it. */
export const signKeyless = (ca: TestSigstore, options: KeylessSignOptions): string => {
  const at = options.at ?? new Date("2026-01-15T10:00:00Z")
  const { privateKey } = p256()
  const certificate = leafCertificate(ca, privateKey, { issuer: options.issuer, subject: options.subject, at, ...(options.withSct === undefined ? {} : { withSct: options.withSct }) })
  const verifier = Buffer.from(pem(certificate)).toString("base64")
  const log = options.log ?? ca.rekor
  const material = (entry: ReturnType<typeof logEntry>) => ({ certificate: { rawBytes: certificate.toString("base64") }, tlogEntries: [entry], timestampVerificationData: {} })
  if (options.manifest !== undefined) {
    const signature = sign("sha256", options.manifest, privateKey)
    const hash = sha256(options.manifest)
    const body = goJson({
      apiVersion: "0.0.1",
      kind: "hashedrekord",
      spec: { data: { hash: { algorithm: "sha256", value: hash.toString("hex") } }, signature: { content: signature.toString("base64"), publicKey: { content: verifier } } },
    })
    return JSON.stringify({
      mediaType: BUNDLE_V03,
      verificationMaterial: material(logEntry(log, "hashedrekord", Buffer.from(body), at)),
      messageSignature: { messageDigest: { algorithm: "SHA2_256", digest: hash.toString("base64") }, signature: signature.toString("base64") },
    })
  }
  const payload = Buffer.from(options.statement ?? cosignStatement(options.digest))
  const type = "application/vnd.in-toto+json"
  const signature = sign("sha256", pae(type, payload), privateKey).toString("base64")
  const envelope = { payload: payload.toString("base64"), payloadType: type, signatures: [{ sig: signature, keyid: "" }] }
  const body = goJson({
    apiVersion: "0.0.1",
    kind: "dsse",
    spec: {
      envelopeHash: { algorithm: "sha256", value: sha256(goJson(envelope)).toString("hex") },
      payloadHash: { algorithm: "sha256", value: sha256(payload).toString("hex") },
      signatures: [{ signature, verifier }],
    },
  })
  return JSON.stringify({ mediaType: BUNDLE_V03, verificationMaterial: material(logEntry(log, "dsse", Buffer.from(body), at)), dsseEnvelope: envelope })
}

const sha256Digest = (data: Uint8Array | string) => `sha256:${sha256(data).toString("hex")}`

/** The manifest (bytes and media type) of `reference`, as the registry serves it. */
const fetchManifest = async (registry: TestRegistry, repository: string, reference: string, accept: string) => {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { headers: { accept } })
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), mediaType: res.headers.get("content-type") ?? OCI_MANIFEST }
}

/**
 * Attaches `bundle` to the image `digest` as `cosign sign` (new bundle format) does on a registry
 * without the referrers API: the referrer manifest go-containerregistry's `remote.Put` writes for
 * `ociremote.WriteReferrer`, pushed by digest, and the referrers tag schema's index `sha256-<hex>`
 * listing it (appended to when it exists). Returns the referrer manifest's digest and size.
 */
export const attachBundle = async (
  registry: TestRegistry,
  repository: string,
  digest: string,
  bundle: string,
  options: { readonly tagSchema?: boolean } = {}
): Promise<{ readonly referrer: string; readonly size: number }> => {
  const image = await fetchManifest(registry, repository, digest, [OCI_MANIFEST, OCI_INDEX].join(", "))
  if (image.status !== 200) throw new Error(`${repository}@${digest} is not in the registry`)
  const config = "{}"
  const manifest = goJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_EMPTY, size: 2, digest: sha256Digest(config), artifactType: BUNDLE_V03 },
    layers: [{ mediaType: BUNDLE_V03, size: Buffer.byteLength(bundle), digest: sha256Digest(bundle) }],
    annotations: {
      "dev.sigstore.bundle.content": "dsse-envelope",
      "dev.sigstore.bundle.predicateType": COSIGN_SIGN_PREDICATE,
      "org.opencontainers.image.created": "2026-01-15T10:00:00Z",
    },
    subject: { mediaType: image.mediaType, size: image.body.length, digest },
    artifactType: BUNDLE_V03,
  })
  const referrer = sha256Digest(manifest)
  await pushArtifact(registry, repository, referrer, { blobs: [config, bundle], manifest })
  const attached = { referrer, size: Buffer.byteLength(manifest) }
  // Without the tag schema, only a registry's referrers API could list it.
  if (options.tagSchema === false) return attached
  const tag = digest.replace(":", "-")
  const existing = await fetchManifest(registry, repository, tag, OCI_INDEX)
  const listed: { readonly manifests: ReadonlyArray<unknown> } = existing.status === 200 ? JSON.parse(existing.body.toString("utf8")) : { manifests: [] }
  const added = { mediaType: OCI_MANIFEST, size: attached.size, digest: referrer, artifactType: BUNDLE_V03 }
  const index = goJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...listed.manifests, added] })
  await pushArtifact(registry, repository, tag, { blobs: [], manifest: index, mediaType: OCI_INDEX })
  return attached
}
