import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto"
import { Either } from "effect"
import {
  excerpt,
  MAX_PAYLOAD_BYTES,
  MAX_SIGNATURE_MANIFEST_CHARS,
  parsePublicKey,
  type PublicKey,
  signatureLayers,
  signatureTag,
  decodeSignatureManifest,
  verifySignatures,
} from "../../src/gates/cosign.ts"
import {
  type CosignRelease,
  type Descriptor,
  ed25519phSign,
  generateEd25519,
  generateKeyPair,
  generateP256,
  generateP384,
  generateRsa2048,
  OCI_MANIFEST,
  pushGarbageSignature,
  pushSignature,
  signatureLayer,
  signatureManifest,
  signPayload,
  simpleSigningPayload,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING,
  type TestKeyPair,
  type TestKeyType,
} from "../support/cosign.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"

const digestOf = (data: string | Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`
const IMAGE = digestOf("the image")
const OTHER = digestOf("another image")
const REFERENCE = "registry.example.com/team/app"

const keyOf = (pair: TestKeyPair): PublicKey => Either.getOrThrow(parsePublicKey(pair.publicKeyPem))

const keys: Record<TestKeyType, TestKeyPair> = {
  "ecdsa-p256": generateP256(),
  "ecdsa-p384": generateP384(),
  "rsa-2048": generateRsa2048(),
  ed25519: generateEd25519(),
}

interface Signed {
  readonly payload: Uint8Array
  readonly signature: string
}

const signed = (privateKey: KeyObject, payload = simpleSigningPayload(IMAGE, REFERENCE), release?: CosignRelease): Signed => ({
  payload,
  signature: signPayload(payload, privateKey, release),
})

/** A manifest and blob store as a registry would serve them for these signatures. */
const served = (signatures: ReadonlyArray<Signed>, edit: (layers: Array<Descriptor>) => Array<Descriptor> = (l) => l) => {
  const blobs = new Map(signatures.map((s) => [digestOf(s.payload), s.payload]))
  const { manifest } = signatureManifest(edit(signatures.map((s) => signatureLayer(s.payload, s.signature))))
  return { manifest, blob: (digest: string) => blobs.get(digest) }
}

const check = (signatures: ReadonlyArray<Signed>, key: PublicKey, edit?: (layers: Array<Descriptor>) => Array<Descriptor>) =>
  verifySignatures({ ...served(signatures, edit), key, digest: IMAGE })

const reasonOf = (result: Either.Either<unknown, string>): string => (Either.isLeft(result) ? result.left : "valid")

describe("signatureTag", () => {
  test("names cosign's tag for a sha256 digest", () => {
    expect(signatureTag(`sha256:${"ab".repeat(32)}`)).toEqual(Either.right(`sha256-${"ab".repeat(32)}.sig`))
  })

  test.each([
    ["empty", ""],
    ["no algorithm", "ab".repeat(32)],
    ["uppercase hex", `sha256:${"AB".repeat(32)}`],
    ["short", `sha256:${"ab".repeat(31)}`],
    ["long", `sha256:${"ab".repeat(33)}`],
    ["sha512", `sha512:${"ab".repeat(64)}`],
    ["trailing newline", `sha256:${"ab".repeat(32)}\n`],
    ["path traversal", `sha256:../${"ab".repeat(30)}`],
  ])("refuses %s", (_name, input) => {
    const result = signatureTag(input)
    expect(Either.isLeft(result)).toBe(true)
    expect(reasonOf(result)).toContain("not a sha256 digest")
    expect(reasonOf(result)).not.toContain("\n")
  })
})

describe("parsePublicKey", () => {
  const rsa3072 = generateKeyPairSync("rsa", { modulusLength: 3072 }).publicKey
  const pkcs1 = rsa3072.export({ type: "pkcs1", format: "pem" }).toString()

  test.each([
    ["ECDSA P-256", keys["ecdsa-p256"].publicKeyPem, "ecdsa-p256", "ECDSA P-256"],
    ["ECDSA P-384", keys["ecdsa-p384"].publicKeyPem, "ecdsa-p384", "ECDSA P-384"],
    ["RSA 2048", keys["rsa-2048"].publicKeyPem, "rsa", "RSA 2048"],
    ["RSA 3072", rsa3072.export({ type: "spki", format: "pem" }).toString(), "rsa", "RSA 3072"],
    ["PKCS#1 RSA, which cosign also reads", pkcs1, "rsa", "RSA 3072"],
    ["Ed25519", keys.ed25519.publicKeyPem, "ed25519", "Ed25519"],
    ["CRLF line ends", keys["ecdsa-p256"].publicKeyPem.replace(/\n/g, "\r\n"), "ecdsa-p256", "ECDSA P-256"],
    ["text around the block", `# cosign.pub of team a\n${keys.ed25519.publicKeyPem}\n`, "ed25519", "Ed25519"],
  ] as const)("accepts %s", (_name, pem, kind, description) => {
    const key = Either.getOrThrow(parsePublicKey(pem))
    expect({ kind: key.kind, description: key.description }).toEqual({ kind, description })
  })

  const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" })
  const pemOf = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`
  const secp256k1 =
    "-----BEGIN PUBLIC KEY-----\nMFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEsMaAYUvMufzbdCTMslL8nM5V1nO7E2zN\nmfoLTxUjJAdBhSMefz/u0gVpBRJt/M9tLE5DkAybCUkxj5P4llMQSQ==\n-----END PUBLIC KEY-----\n"
  const spkiBody = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, "")

  test.each([
    ["empty", "", "no PEM block"],
    ["garbage", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0 user@host", "no PEM block"],
    ["PKCS#8 private key", p256.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "a private key"],
    ["SEC1 private key", p256.privateKey.export({ type: "sec1", format: "pem" }).toString(), "a private key"],
    ["cosign.key", pemOf("ENCRYPTED SIGSTORE PRIVATE KEY", "eyJrZGYiOnsibmFtZSI6InNjcnlwdCJ9fQ=="), "a private key"],
    ["certificate", pemOf("CERTIFICATE", spkiBody(keys["ecdsa-p256"].publicKeyPem)), "a certificate"],
    ["other block", pemOf("OPENSSH PUBLIC KEY", "AAAA"), "an unsupported PEM block"],
    ["two keys", keys["ecdsa-p256"].publicKeyPem + keys["ecdsa-p384"].publicKeyPem, "more than one PEM block"],
    ["unclosed block", keys["ecdsa-p256"].publicKeyPem.replace("-----END PUBLIC KEY-----", ""), "not closed"],
    ["body not base64", pemOf("PUBLIC KEY", "not*base64!"), "not base64"],
    ["body not a key", pemOf("PUBLIC KEY", Buffer.from("hello world, not DER").toString("base64")), "not a readable public key"],
    ["P-224", generateKeyPairSync("ec", { namedCurve: "P-224" }).publicKey.export({ type: "spki", format: "pem" }).toString(), "curve secp224r1"],
    ["P-521", generateKeyPairSync("ec", { namedCurve: "P-521" }).publicKey.export({ type: "spki", format: "pem" }).toString(), "curve secp521r1"],
    ["secp256k1", secp256k1, "not a readable public key"],
    ["RSA 1024", generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString(), "1024 bits"],
    ["huge file", "A".repeat(70_000), "too large"],
  ])("refuses %s", (_name, pem, reason) => {
    const result = parsePublicKey(pem)
    expect(reasonOf(result)).toContain(reason)
    // The file's content never reaches the message.
    const body = spkiBody(pem)
    if (body.length >= 12) expect(reasonOf(result)).not.toContain(body.slice(0, 12))
  })
})

describe("verifySignatures", () => {
  test.each([
    ["ecdsa-p256", "current", "ECDSA P-256 SHA-256"],
    ["ecdsa-p256", "legacy", "ECDSA P-256 SHA-256"],
    ["ecdsa-p384", "current", "ECDSA P-384 SHA-384"],
    ["ecdsa-p384", "legacy", "ECDSA P-384 SHA-256"],
    ["rsa-2048", "current", "RSA PKCS#1 v1.5 SHA-256"],
    ["ed25519", "current", "Ed25519ph"],
    ["ed25519", "legacy", "Ed25519"],
  ] as const)("accepts %s signed by %s cosign", (type, release, scheme) => {
    const pair = keys[type]
    const signature = signed(pair.privateKey, undefined, release)
    const result = check([signature], keyOf(pair))
    expect(result).toEqual(
      Either.right({ digest: IMAGE, layer: digestOf(signature.payload), scheme, dockerReference: REFERENCE }),
    )
  })

  test("accepts an IEEE P1363 ECDSA signature, as sigstore's verifier does", () => {
    const payload = simpleSigningPayload(IMAGE, REFERENCE)
    const raw = sign("sha256", payload, { key: keys["ecdsa-p256"].privateKey, dsaEncoding: "ieee-p1363" }).toString("base64")
    expect(reasonOf(check([{ payload, signature: raw }], keyOf(keys["ecdsa-p256"])))).toBe("valid")
  })

  test.each(Object.keys(keys) as ReadonlyArray<TestKeyType>)("refuses a %s signature under another key of the same type", (type) => {
    const other = generateKeyPair(type)
    expect(reasonOf(check([signed(keys[type].privateKey)], keyOf(other)))).toBe("signature does not verify")
  })

  test("refuses a signature under a key of another type", () => {
    expect(reasonOf(check([signed(keys.ed25519.privateKey)], keyOf(keys["ecdsa-p256"])))).toBe("signature does not verify")
  })

  const p256 = keys["ecdsa-p256"]
  const key = keyOf(p256)
  const payloadText = (text: string) => new TextEncoder().encode(text)
  const critical = (image: string, type: string) =>
    `{"critical":{"identity":{"docker-reference":"${REFERENCE}"},"image":{"docker-manifest-digest":"${image}"},"type":${JSON.stringify(type)}},"optional":null}`

  test.each([
    ["a payload naming another digest", () => [signed(p256.privateKey, simpleSigningPayload(OTHER, REFERENCE))], `signature is for ${OTHER.slice(0, 19)}…`],
    ["a payload naming the digest in uppercase", () => [signed(p256.privateKey, simpleSigningPayload(IMAGE.toUpperCase(), REFERENCE))], 'signature is for "SHA256:'],
    ["a payload of another type", () => [signed(p256.privateKey, payloadText(critical(IMAGE, "atomic container signature")))], 'signature payload has type "atomic container signature"'],
    ["the spec example's capitalised key", () => [signed(p256.privateKey, payloadText(critical(IMAGE, "cosign container image signature").replace("docker-manifest-digest", "Docker-manifest-digest")))], "malformed signature payload"],
    ["a payload that is not JSON", () => [signed(p256.privateKey, payloadText("not json"))], "malformed signature payload"],
  ])("refuses %s", (_name, signatures, reason) => {
    expect(reasonOf(check(signatures(), key))).toStartWith(reason)
  })

  test("escapes and shortens what the payload says", () => {
    const type = `cosign\u001b[31m container image signature${"!".repeat(100)}`
    const reason = reasonOf(check([signed(p256.privateKey, payloadText(critical(IMAGE, type)))], key))
    expect(reason).toContain("cosign\\u001b[31m")
    expect(reason).not.toContain("\u001b")
    expect(reason).toEndWith('…"')
    expect(reason.length).toBeLessThan(80)
    expect(excerpt("a\nb\u202ec", 10)).toBe("a\\u000ab\\u202ec")
  })

  const good = () => signed(p256.privateKey)
  const withAnnotations = (annotations: Record<string, string> | undefined) => (layers: Array<Descriptor>) =>
    layers.map(({ annotations: _, ...layer }) => (annotations === undefined ? layer : { ...layer, annotations }))

  test.each([
    ["a missing signature annotation", withAnnotations(undefined), "signature layer has no signature annotation"],
    ["the signature under another annotation", withAnnotations({ "dev.sigstore.cosign/signature": good().signature }), "signature layer has no signature annotation"],
    ["a signature that is not base64", withAnnotations({ [SIGNATURE_ANNOTATION]: "MEUCIQ*not-base64" }), "signature is not base64"],
    ["an empty signature", withAnnotations({ [SIGNATURE_ANNOTATION]: "" }), "signature is not base64"],
    ["a layer whose size disagrees with its blob", (l: Array<Descriptor>) => l.map((d) => ({ ...d, size: d.size + 1 })), "signature payload does not match its digest"],
    ["a layer of another media type", (l: Array<Descriptor>) => l.map((d) => ({ ...d, mediaType: "application/vnd.oci.image.layer.v1.tar" })), "no signature layer"],
    ["no layers", () => [], "no signature layer"],
    ["a declared size beyond the payload limit", (l: Array<Descriptor>) => l.map((d) => ({ ...d, size: MAX_PAYLOAD_BYTES + 1 })), `signature payload too large (${MAX_PAYLOAD_BYTES + 1} bytes)`],
  ])("refuses %s", (_name, edit, reason) => {
    expect(reasonOf(check([good()], key, edit))).toBe(reason)
  })

  test("refuses a blob that does not match the layer's digest", () => {
    const { manifest } = served([good()])
    const tampered = simpleSigningPayload(IMAGE, "evil.example.com/app")
    expect(reasonOf(verifySignatures({ manifest, blob: () => tampered, key, digest: IMAGE }))).toBe("signature payload does not match its digest")
  })

  test("refuses a validly signed blob served for another layer's digest", () => {
    const named = simpleSigningPayload(IMAGE, "registry.example.com/team/app")
    const served = simpleSigningPayload(IMAGE, "registry.example.com/team/zzz")
    const { manifest } = signatureManifest([signatureLayer(named, signPayload(served, p256.privateKey))])
    expect(reasonOf(verifySignatures({ manifest, blob: () => served, key, digest: IMAGE }))).toBe("signature payload does not match its digest")
  })

  test("refuses when the payload blob is not available", () => {
    const { manifest } = served([good()])
    expect(reasonOf(verifySignatures({ manifest, blob: () => undefined, key, digest: IMAGE }))).toBe("signature payload missing")
  })

  test.each([
    ["not JSON", "<html>502 Bad Gateway</html>"],
    ["JSON null", "null"],
    ["an OCI index", JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [] })],
    ["schema version 1", served([signed(p256.privateKey)]).manifest.replace('"schemaVersion":2', '"schemaVersion":1')],
    ["a size that is not a number", served([signed(p256.privateKey)]).manifest.replace(/"size":(\d+)/g, '"size":"$1"')],
    ["a non-string annotation", served([signed(p256.privateKey)]).manifest.replace(/"dev.cosignproject.cosign\/signature":"[^"]*"/, '"dev.cosignproject.cosign/signature":1')],
    ["too many layers", JSON.stringify({ schemaVersion: 2, config: { mediaType: "x", digest: IMAGE, size: 1 }, layers: Array.from({ length: 1001 }, () => ({ mediaType: SIMPLE_SIGNING, digest: IMAGE, size: 1 })) })],
  ])("refuses a manifest that is %s", (_name, manifest) => {
    expect(reasonOf(verifySignatures({ manifest, blob: () => undefined, key, digest: IMAGE }))).toBe("malformed signature manifest")
  })

  test("refuses an oversized manifest without parsing it", () => {
    const manifest = " ".repeat(MAX_SIGNATURE_MANIFEST_CHARS + 1)
    expect(reasonOf(verifySignatures({ manifest, blob: () => undefined, key, digest: IMAGE }))).toBe("signature manifest too large")
  })

  test("refuses to check a digest that is not sha256", () => {
    const { manifest, blob } = served([good()])
    expect(reasonOf(verifySignatures({ manifest, blob, key, digest: "sha256:abc" }))).toContain("not a sha256 digest")
  })

  test("accepts when only the second of two signatures is valid", () => {
    const second = good()
    const result = check([signed(generateP256().privateKey), second], key)
    expect(Either.map(result, (v) => v.layer)).toEqual(Either.right(digestOf(second.payload)))
  })

  test("reports the failure of the signature that got furthest", () => {
    const forOther = signed(p256.privateKey, simpleSigningPayload(OTHER, REFERENCE))
    expect(reasonOf(check([signed(generateP256().privateKey), forOther], key))).toStartWith("signature is for sha256:")
    expect(reasonOf(check([forOther, signed(generateP256().privateKey)], key))).toStartWith("signature is for sha256:")
  })

  test("does not ask for the blobs of oversized layers", () => {
    const asked: Array<string> = []
    const { manifest } = served([good()], (l) => l.map((d) => ({ ...d, size: 5_000_000 })))
    verifySignatures({ manifest, blob: (d) => (asked.push(d), undefined), key, digest: IMAGE })
    expect(asked).toEqual([])
    expect(signatureLayers(Either.getOrThrow(decodeSignatureManifest(manifest)))).toEqual([])
  })
})

describe("Ed25519ph", () => {
  const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"))

  test("the harness reproduces RFC 8032 §7.3", () => {
    const seed = hex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
    expect(Buffer.from(ed25519phSign(seed, hex("616263"))).toString("hex")).toBe(
      "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41" +
        "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
    )
  })

  const pair = keys.ed25519
  const tamper = (edit: (sig: Uint8Array) => void): Signed => {
    const { payload, signature } = signed(pair.privateKey)
    const bytes = Uint8Array.from(Buffer.from(signature, "base64"))
    edit(bytes)
    return { payload, signature: Buffer.from(bytes).toString("base64") }
  }
  const L = 2n ** 252n + 27742317777372353535851937790883648493n

  test.each([
    ["a flipped bit in R", (sig: Uint8Array) => void (sig[3] = (sig[3] ?? 0) ^ 1)],
    ["a flipped bit in S", (sig: Uint8Array) => void (sig[40] = (sig[40] ?? 0) ^ 1)],
    [
      "S + L (malleated)",
      (sig: Uint8Array) => {
        const s = BigInt(`0x${Buffer.from(sig.subarray(32)).reverse().toString("hex")}`) + L
        sig.set(Buffer.from(s.toString(16).padStart(64, "0"), "hex").reverse(), 32)
      },
    ],
  ])("refuses %s", (_name, edit) => {
    expect(reasonOf(check([tamper(edit)], keyOf(pair)))).toBe("signature does not verify")
  })
})

describe("the harness's layout, byte for byte as cosign writes it", () => {
  const payload = simpleSigningPayload(IMAGE, "127.0.0.1:5000/team/app")

  test("payload: sigstore's payload.Cosign marshalled by encoding/json", () => {
    expect(new TextDecoder().decode(payload)).toBe(
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/team/app"},"image":{"docker-manifest-digest":"${IMAGE}"},` +
        `"type":"cosign container image signature"},"optional":null}`,
    )
    expect(new TextDecoder().decode(simpleSigningPayload(IMAGE, "r", { z: "<&>", a: "1" }))).toEndWith(`"optional":{"a":"1","z":"\\u003c\\u0026\\u003e"}}`)
  })

  test("config and manifest: mutate.Append on cosign's empty OCI signature image", () => {
    const layer = signatureLayer(payload, "c2ln")
    const { manifest, config } = signatureManifest([layer])
    expect(config).toBe(
      `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"",` +
        `"rootfs":{"type":"layers","diff_ids":["${digestOf(payload)}"]},"config":{}}`,
    )
    expect(manifest).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
        `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":${config.length},"digest":"${digestOf(config)}"},` +
        `"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":${payload.byteLength},"digest":"${digestOf(payload)}",` +
        `"annotations":{"dev.cosignproject.cosign/signature":"c2ln"}}]}`,
    )
  })
})

describe("against docker-registry", () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry()
  }, SERVER_HOOK_TIMEOUT)
  afterAll(async () => {
    await registry?.stop()
  }, SERVER_HOOK_TIMEOUT)

  /** The `.sig` manifest and the blobs it names, fetched the way the runner reads them. */
  const fetchSignatures = async (repository: string, digest: string) => {
    const tag = Either.getOrThrow(signatureTag(digest))
    const res = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe(OCI_MANIFEST)
    const manifest = await res.text()
    const blobs = new Map<string, Uint8Array>()
    for (const layer of signatureLayers(Either.getOrThrow(decodeSignatureManifest(manifest)))) {
      const blob = await fetch(`${registry.url}/v2/${repository}/blobs/${layer.digest}`)
      expect(blob.status).toBe(200)
      blobs.set(layer.digest, new Uint8Array(await blob.arrayBuffer()))
    }
    return { manifest, blob: (d: string) => blobs.get(d) }
  }

  test("a signature pushed as cosign does verifies under its key only", async () => {
    const digest = await registry.pushImage("team/app", "1.0.0")
    const pushed = await pushSignature(registry, "team/app", digest, keys["ecdsa-p256"].privateKey)
    // The tag the runner reads is the one cosign writes.
    expect(Either.getOrThrow(signatureTag(digest))).toBe(pushed.tag)
    const served = await fetchSignatures("team/app", digest)
    expect(served.manifest).toBe(pushed.manifest)
    const result = verifySignatures({ ...served, key: keyOf(keys["ecdsa-p256"]), digest })
    expect(result).toEqual(
      Either.right({ digest, layer: digestOf(pushed.payload), scheme: "ECDSA P-256 SHA-256", dockerReference: `${registry.host}/team/app` }),
    )
    expect(reasonOf(verifySignatures({ ...served, key: keyOf(generateP256()), digest }))).toBe("signature does not verify")
  })

  test("signing again appends a layer, and either key then verifies", async () => {
    const digest = await registry.pushImage("team/twice", "1.0.0")
    await pushSignature(registry, "team/twice", digest, keys["rsa-2048"].privateKey)
    const second = await pushSignature(registry, "team/twice", digest, keys.ed25519.privateKey)
    const served = await fetchSignatures("team/twice", digest)
    const layers: Array<{ digest: string; annotations: Record<string, string> }> = JSON.parse(served.manifest).layers
    expect(layers.length).toBe(2)
    expect(layers[1]?.annotations[SIGNATURE_ANNOTATION]).toBe(second.signature)
    const config: { rootfs: { diff_ids: Array<string> }; history: Array<unknown> } = JSON.parse(
      await (await fetch(`${registry.url}/v2/team/twice/blobs/${JSON.parse(served.manifest).config.digest}`)).text(),
    )
    expect(config.rootfs.diff_ids).toEqual(layers.map((l) => l.digest))
    expect(config.history.length).toBe(2)
    expect(Either.map(verifySignatures({ ...served, key: keyOf(keys["rsa-2048"]), digest }), (v) => v.scheme)).toEqual(Either.right("RSA PKCS#1 v1.5 SHA-256"))
    expect(Either.map(verifySignatures({ ...served, key: keyOf(keys.ed25519), digest }), (v) => v.scheme)).toEqual(Either.right("Ed25519ph"))
    expect(reasonOf(verifySignatures({ ...served, key: keyOf(keys["ecdsa-p384"]), digest }))).toBe("signature does not verify")
  })

  test("bad layouts are refused with their reason", async () => {
    const p256 = keys["ecdsa-p256"]
    const key = keyOf(p256)
    const reasonFor = async (repository: string, push: (digest: string) => Promise<unknown>) => {
      const digest = await registry.pushImage(repository, "1.0.0")
      await push(digest)
      const served = await fetchSignatures(repository, digest)
      return reasonOf(verifySignatures({ ...served, key, digest }))
    }
    expect(await reasonFor("bad/other-digest", (d) => pushSignature(registry, "bad/other-digest", d, p256.privateKey, { payloadDigest: OTHER }))).toStartWith(
      `signature is for ${OTHER.slice(0, 19)}…`,
    )
    expect(await reasonFor("bad/other-key", (d) => pushSignature(registry, "bad/other-key", d, generateP256().privateKey))).toBe("signature does not verify")
    expect(await reasonFor("bad/huge", (d) => pushSignature(registry, "bad/huge", d, p256.privateKey, { padTo: 5 * 1024 * 1024 }))).toBe(
      `signature payload too large (${5 * 1024 * 1024} bytes)`,
    )
    expect(await reasonFor("bad/image", (d) => pushGarbageSignature(registry, "bad/image", d, "image"))).toBe("no signature layer")
    const digest = await registry.pushImage("bad/index", "1.0.0")
    await pushGarbageSignature(registry, "bad/index", digest, "index")
    const tag = Either.getOrThrow(signatureTag(digest))
    const res = await fetch(`${registry.url}/v2/bad/index/manifests/${tag}`, { headers: { accept: "application/vnd.oci.image.index.v1+json" } })
    expect(reasonOf(verifySignatures({ manifest: await res.text(), blob: () => undefined, key, digest }))).toBe("malformed signature manifest")
  })

})
