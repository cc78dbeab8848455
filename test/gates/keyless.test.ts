/**
 * Keyless verification with @sigstore/verify against a private sigstore (test/support/sigstore.ts):
 * tables for the pure verifier and the referrer helpers, then the whole path through
 * `Signatures.verifyKeyless` on the Debian `docker-registry`, which has no referrers API (so the
 * referrers tag schema is read), and through a registry that has one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either, Layer } from "effect"
import { createHash } from "node:crypto"
import { writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { join } from "node:path"
import { parseImageRef } from "../../src/domain/ImageRef.ts"
import { type Identity, parseTrustedRoot, verifyKeyless } from "../../src/gates/keyless.ts"
import { bundleLayers, bundleReferrers, referrersTag } from "../../src/gates/referrers.ts"
import { type KeylessGate, Signatures } from "../../src/gates/Signatures.ts"
import { providerConfig } from "../support/config.ts"
import { listenOnLoopback } from "../support/listen.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { attachBundle, BUNDLE_V03, createSigstore, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, signKeyless } from "../support/sigstore.ts"
import { tempDir } from "../support/tempDirs.ts"
import { tagSourcesLayer } from "../support/layers.ts"

const GITHUB = "https://token.actions.githubusercontent.com"
const WORKFLOW = "https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1.2.0"
const identity: Identity = { issuer: GITHUB, subjectPattern: "^https://github\\.com/org/.+$" }
const DIGEST = `sha256:${"d1".repeat(32)}`
const OTHER = `sha256:${"0f".repeat(32)}`

const ca = createSigstore()
const other = createSigstore("other.test")
const utf8 = (text: string) => new TextEncoder().encode(text)
const sha256 = (data: Uint8Array | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`
const signed = (over: Partial<Parameters<typeof signKeyless>[1]> = {}) => utf8(signKeyless(ca, { digest: DIGEST, issuer: GITHUB, subject: WORKFLOW, ...over }))

const check = (bundles: ReadonlyArray<Uint8Array>, over: { identity?: Identity; digest?: string; trustedRoot?: string; artifact?: Uint8Array } = {}) =>
  verifyKeyless({ bundles, trustedRoot: ca.trustedRoot, identity, digest: DIGEST, ...over })
const reason = (result: Either.Either<void, { reason: string; fatal: boolean }>) => Either.match(result, { onLeft: (l) => l.reason, onRight: () => "valid" })

describe("verifyKeyless", () => {
  const root = JSON.parse(ca.trustedRoot)
  const rekeyed = JSON.stringify({ ...root, tlogs: root.tlogs.map((t: object) => ({ ...t, checkpointKeyId: { keyId: Buffer.alloc(32, 7).toString("base64") } })) })
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }))
  test.each([
    ["a bundle as cosign signs an image", () => check([signed()]), "valid"],
    ["an email subject", () => check([signed({ subject: "dev@example.com" })], { identity: { issuer: GITHUB, subjectPattern: "^dev@example\\.com$" } }), "valid"],
    ["a subject pattern in RE2 syntax", () => check([signed()], { identity: { issuer: GITHUB, subjectPattern: "\\Ahttps://github\\.com/org/app/.+\\z" } }), "valid"],
    ["the second of two bundles", () => check([utf8("{}"), signed()]), "valid"],
    ["a message signature over the image manifest", () => check([signed({ manifest })], { digest: sha256(manifest), artifact: manifest }), "valid"],
  ])("accepts %s", (_name, run, expected) => {
    expect(reason(run())).toBe(expected)
  })

  test.each([
    ["no bundle", () => check([]), "no sigstore bundle"],
    ["a garbage bundle", () => check([utf8("not json")]), "malformed sigstore bundle"],
    ["a bundle without its parts", () => check([utf8(JSON.stringify({ mediaType: BUNDLE_V03 }))]), "malformed sigstore bundle"],
    ["another issuer", () => check([signed({ issuer: "https://accounts.google.com" })]), `identity does not match: issued to "${WORKFLOW.slice(0, 64)}…" by "https://accounts.google.com"`],
    ["an issuer that only starts the same", () => check([signed()], { identity: { ...identity, issuer: `${GITHUB}/` } }), "identity does not match: "],
    ["a subject outside the pattern", () => check([signed({ subject: "https://github.com/elsewhere/app/.github/workflows/x.yml@refs/heads/main" })]), "identity does not match: "],
    ["a certificate from another CA", () => check([utf8(signKeyless(other, { digest: DIGEST, issuer: GITHUB, subject: WORKFLOW, log: ca.rekor }))]), "certificate not issued by the trusted root"],
    ["a certificate without an SCT", () => check([signed({ withSct: false })]), "certificate has no valid SCT from a trusted CT log (expected 1 SCTs, got 0)"],
    ["a log entry from a log not in the root", () => check([signed({ log: other.rekor })]), "transparency log entry does not verify (inclusion promise could not be verified)"],
    ["a log entry with the log's ID under another key", () => check([signed({ log: { ...ca.rekor, key: other.rekor.key } })]), "transparency log entry does not verify (inclusion promise could not be verified)"],
    ["an entry of a log the root keys by another ID (checkpointKeyId)", () => check([signed()], { trustedRoot: rekeyed }), "transparency log entry does not verify (inclusion promise could not be verified)"],
    ["a bundle for another digest", () => check([signed({ digest: OTHER })]), `bundle is for ${OTHER.slice(0, 19)}…`],
    ["a statement naming no sha256 digest", () => check([signed({ statement: JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [{ digest: { sha512: "00" } }], predicateType: "x", predicate: {} }) })]), "bundle names no sha256 digest"],
    ["a statement that is not in-toto", () => check([signed({ statement: "{}" })]), "bundle's in-toto statement is malformed"],
    ["a message signature without the manifest", () => check([signed({ manifest })], { digest: sha256(manifest) }), "bundle signs the image manifest, which was not available"],
    ["a message signature with a manifest of another digest", () => check([signed({ manifest })], { digest: sha256(manifest), artifact: utf8("{}") }), "bundle signs the image manifest, which was not available"],
    ["a message signature over another manifest", () => check([signed({ manifest: utf8("{}") })], { digest: sha256(manifest), artifact: manifest }), "signature does not verify"],
  ])("refuses %s", (_name, run, expected) => {
    const result = run()
    expect(Either.isLeft(result) && !result.left.fatal).toBe(true)
    expect(reason(result)).toStartWith(expected)
  })

  const MAIN = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"
  const HOTFIX = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main-hotfix"
  // The certificate's subject against the gate's identity: exactly, or the whole of it by the pattern.
  test.each([
    ["the exact subject", MAIN, { subject: MAIN }, "valid"],
    ["the exact subject, another branch that starts the same", HOTFIX, { subject: MAIN }, "identity does not match"],
    ["the exact subject, a prefix of it", MAIN, { subject: "https://github.com/org/repo/" }, "identity does not match"],
    ["the exact subject, in another case", MAIN.toUpperCase(), { subject: MAIN }, "identity does not match"],
    ["the exact subject, no pattern read into it", "https://github.com/org/repoX.github/workflows/release.yml@refs/heads/main", { subject: "https://github.com/org/repo..github/workflows/release.yml@refs/heads/main" }, "identity does not match"],
    ["an anchored pattern", MAIN, { subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main$" }, "valid"],
    ["an anchored pattern, main-hotfix", HOTFIX, { subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main$" }, "identity does not match"],
    ["an anchored pattern, another repository", "https://github.com/org/repo2/.github/workflows/release.yml@refs/heads/main", { subjectPattern: "^https://github\\.com/org/repo/.+@refs/heads/main$" }, "identity does not match"],
    ["a pattern missing its $, still matched whole", HOTFIX, { subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main" }, "identity does not match"],
    ["a pattern anchored only around an alternative", HOTFIX, { subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main|^nobody$" }, "identity does not match"],
    ["a pattern anchored only around an alternative, its other side", MAIN, { subjectPattern: "^nobody$|^https://github.com/org/repo/.+@refs/heads/main" }, "valid"],
    ["an email pattern, a longer address", "dev@example.com.evil.test", { subjectPattern: "^dev@example\\.com$" }, "identity does not match"],
  ] as const)("identity: %s", (_name, subject, over, expected) => {
    const result = check([signed({ subject })], { identity: { issuer: GITHUB, ...over } })
    expect(reason(result)).toStartWith(expected)
    if (Either.isLeft(result)) expect(result.left.fatal).toBe(false)
  })

  test.each([
    ["neither subject nor pattern", { issuer: GITHUB }, "identity: give subject or subjectPattern, one of them"],
    ["both", { issuer: GITHUB, subject: MAIN, subjectPattern: "^.*$" }, "identity: give subject or subjectPattern, one of them"],
    ["a pattern that only parses once wrapped", { issuer: GITHUB, subjectPattern: "^x$)|(.*" }, "subjectPattern: "],
  ])("an identity with %s is fatal", (_name, identity, expected) => {
    const result = check([signed({ subject: MAIN })], { identity })
    expect(Either.isLeft(result) && result.left.fatal).toBe(true)
    expect(reason(result)).toStartWith(expected)
  })

  test("refuses a statement altered after signing: its log entry no longer matches", () => {
    const bundle = JSON.parse(new TextDecoder().decode(signed()))
    const altered = JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [{ digest: { sha256: OTHER.slice(7) } }], predicateType: "x", predicate: {} })
    bundle.dsseEnvelope.payload = Buffer.from(altered).toString("base64")
    expect(reason(check([utf8(JSON.stringify(bundle))]))).toBe("transparency log entry does not verify (DSSE payload hash mismatch)")
  })

  test("reports the bundle that got furthest", () => {
    expect(reason(check([utf8("not json"), signed({ digest: OTHER }), signed({ withSct: false })]))).toStartWith("bundle is for ")
  })

  test.each([
    ["not JSON", "{", "malformed trusted root: not JSON"],
    ["another document", JSON.stringify({ mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json" }), "malformed trusted root: not a sigstore trusted root"],
    ["no certificate authority", JSON.stringify({ ...JSON.parse(ca.trustedRoot), certificateAuthorities: [] }), "malformed trusted root: the trusted root lists no certificate authority"],
    ["no transparency log", JSON.stringify({ ...JSON.parse(ca.trustedRoot), tlogs: [] }), "malformed trusted root: the trusted root lists no transparency log"],
    ["no CT log", JSON.stringify({ ...JSON.parse(ca.trustedRoot), ctlogs: [] }), "malformed trusted root: the trusted root lists no certificate transparency log"],
    ["a certificate that is not one", ca.trustedRoot.replace(/"rawBytes": "MI[^"]+"/, '"rawBytes": "AAAA"'), "malformed trusted root: a key or certificate in the trusted root is not readable"],
    ["a log key that is not one", ca.trustedRoot.replace(/"rawBytes": "MFkw[^"]+"/, '"rawBytes": "AAAA"'), "malformed trusted root: a key or certificate in the trusted root is not readable"],
  ])("a trusted root with %s is fatal", (_name, trustedRoot, expected) => {
    const result = check([signed()], { trustedRoot })
    expect(Either.isLeft(result) && result.left.fatal).toBe(true)
    expect(reason(result)).toStartWith(expected)
  })

  test("the generated trusted root parses, and a digest that is not sha256 is not fatal", () => {
    expect(Either.isRight(parseTrustedRoot(ca.trustedRoot))).toBe(true)
    expect(check([signed()], { digest: "sha512:00" })).toEqual(Either.left({ reason: 'cannot check "sha512:00": not a sha256 digest', fatal: false }))
  })
})

describe("referrers", () => {
  const bundleManifest = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_EMPTY, size: 2, digest: sha256("{}"), artifactType: BUNDLE_V03 },
      layers: [{ mediaType: BUNDLE_V03, size: 3000, digest: OTHER }],
      subject: { mediaType: OCI_MANIFEST, size: 300, digest: DIGEST },
      artifactType: BUNDLE_V03,
      ...over,
    })

  test("referrersTag names the tag schema's index", () => {
    expect(referrersTag(DIGEST)).toEqual(Either.right(`sha256-${"d1".repeat(32)}`))
    expect(Either.isLeft(referrersTag("latest"))).toBe(true)
  })

  test("bundleReferrers keeps the sigstore bundle manifests of an index", () => {
    const entry = (artifactType: string | undefined, digest = OTHER, mediaType = OCI_MANIFEST) => ({ mediaType, size: 700, digest, ...(artifactType === undefined ? {} : { artifactType }) })
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [entry(BUNDLE_V03), entry("application/vnd.dev.sigstore.bundle+json;version=0.3", DIGEST), entry("application/spdx+json"), entry(undefined), entry(BUNDLE_V03, "sha256:short"), entry(BUNDLE_V03, OTHER, OCI_INDEX)],
    })
    expect(bundleReferrers(index)).toEqual(Either.right([{ digest: OTHER, artifactType: BUNDLE_V03 }, { digest: DIGEST, artifactType: "application/vnd.dev.sigstore.bundle+json;version=0.3" }]))
    expect(bundleReferrers("{}")).toEqual(Either.left("malformed referrers index"))
  })

  test.each([
    ["cosign's layout", bundleManifest(), "layer"],
    ["only the config's media type saying it", bundleManifest({ artifactType: undefined, config: { mediaType: BUNDLE_V03, size: 2, digest: sha256("{}") } }), "layer"],
    ["another artifact", bundleManifest({ artifactType: "application/spdx+json" }), "referrer is not a sigstore bundle"],
    ["another subject", bundleManifest({ subject: { mediaType: OCI_MANIFEST, size: 1, digest: OTHER } }), "referrer is attached to another image"],
    ["no bundle layer", bundleManifest({ layers: [{ mediaType: "application/octet-stream", size: 3, digest: OTHER }] }), "referrer has no bundle layer"],
    ["a layer over 1 MiB", bundleManifest({ layers: [{ mediaType: BUNDLE_V03, size: 1024 * 1024 + 1, digest: OTHER }] }), "bundle layer too large (1048577 bytes)"],
    ["garbage", "[]", "malformed referrer manifest"],
  ])("bundleLayers: %s", (_name, manifest, expected) => {
    expect(Either.match(bundleLayers(manifest, DIGEST), { onLeft: (l) => l, onRight: (layers) => (layers.map((l) => l.digest).join() === OTHER ? "layer" : "?") })).toBe(expected)
  })
})

describe("Signatures.verifyKeyless against docker-registry", () => {
  let registry: TestRegistry
  const dir = tempDir("runner-keyless-")
  const rootFile = join(dir, "trusted_root.json")
  beforeAll(async () => {
    registry = await startRegistry()
    writeFileSync(rootFile, ca.trustedRoot)
  }, 60_000)
  afterAll(async () => {
    await registry?.stop()
  }, SERVER_HOOK_TIMEOUT)

  const layer = () =>
    Signatures.layer.pipe(
      Layer.provide(tagSourcesLayer(tempDir("runner-keyless-data-"))),
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(NodeContext.layer)
    )
  const verify = (host: string, repository: string, digest: string, gates: ReadonlyArray<KeylessGate>) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const signatures = yield* Signatures
        const image = Either.getOrThrow(parseImageRef(`${host}/${repository}`))
        const provider = providerConfig({ name: "local", address: `http://${host}` })
        return yield* Effect.forEach(gates, (gate) => Effect.either(signatures.verifyKeyless(provider, image, digest, gate)))
      }).pipe(Effect.provide(layer()))
    )
  const gate = (over: Partial<Identity> = {}, trustedRootFile = rootFile): KeylessGate => ({ trustedRootFile, identity: { ...identity, ...over } })

  test("a bundle attached as cosign does verifies for its identity only", async () => {
    const digest = await registry.pushImage("keyless/app", "1.2.0")
    await attachBundle(registry, "keyless/app", digest, signKeyless(ca, { digest, issuer: GITHUB, subject: WORKFLOW }))
    const [valid, otherSubject, otherIssuer] = await verify(registry.host, "keyless/app", digest, [gate(), gate({ subjectPattern: "^https://github\\.com/other/.+$" }), gate({ issuer: "https://gitlab.com" })])
    const mismatch = Either.right(Either.left(`identity does not match: issued to "${WORKFLOW.slice(0, 64)}…" by "${GITHUB}"`))
    expect(valid).toEqual(Either.right(Either.void))
    expect(otherSubject).toEqual(mismatch)
    expect(otherIssuer).toEqual(mismatch)
  })

  test("another bundle appended to the referrers index: the one that verifies counts", async () => {
    const digest = await registry.pushImage("keyless/two", "1.0.0")
    await attachBundle(registry, "keyless/two", digest, signKeyless(other, { digest, issuer: GITHUB, subject: WORKFLOW }))
    expect(await verify(registry.host, "keyless/two", digest, [gate()])).toEqual([Either.right(Either.left("certificate not issued by the trusted root"))])
    await attachBundle(registry, "keyless/two", digest, signKeyless(ca, { digest, issuer: GITHUB, subject: WORKFLOW }))
    expect(await verify(registry.host, "keyless/two", digest, [gate()])).toEqual([Either.right(Either.void)])
  })

  test("an unsigned image, a bundle for another image, an unusable trusted root", async () => {
    const digest = await registry.pushImage("keyless/none", "1.0.0")
    const copied = await registry.pushImage("keyless/copied", "1.0.0", { created: "2024-05-05T00:00:00Z" })
    await attachBundle(registry, "keyless/copied", copied, signKeyless(ca, { digest, issuer: GITHUB, subject: WORKFLOW }))
    const broken = join(dir, "broken.json")
    writeFileSync(broken, "{}")
    const [none, missing, malformed] = await verify(registry.host, "keyless/none", digest, [gate(), gate({}, join(dir, "missing.json")), gate({}, broken)])
    expect(none).toEqual(Either.right(Either.left("no sigstore bundle")))
    const unusable = (result: typeof missing) => Either.flip(Either.mapLeft(result ?? Either.right(Either.void), (e) => `${e._tag}: ${e.detail}`))
    expect(unusable(missing)).toEqual(Either.right(expect.stringContaining(`UnusableTrust: cannot read the trusted root ${join(dir, "missing.json")}`)))
    expect(unusable(malformed)).toEqual(Either.right(`UnusableTrust: the trusted root ${broken} is not usable: not a sigstore trusted root (mediaType, tlogs, certificateAuthorities, ctlogs)`))
    expect(await verify(registry.host, "keyless/copied", copied, [gate()])).toEqual([Either.right(Either.left(`bundle is for ${digest.slice(0, 19)}…`))])
  })

  test("a bundle attached after a first check is seen by the next one", async () => {
    const digest = await registry.pushImage("keyless/later", "1.0.0")
    const image = Either.getOrThrow(parseImageRef(`${registry.host}/keyless/later`))
    const provider = providerConfig({ name: "local", address: registry.url })
    const verdicts = await Effect.runPromise(
      Effect.gen(function* () {
        const signatures = yield* Signatures
        const before = yield* signatures.verifyKeyless(provider, image, digest, gate())
        yield* Effect.promise(() => attachBundle(registry, "keyless/later", digest, signKeyless(ca, { digest, issuer: GITHUB, subject: WORKFLOW })))
        return [before, yield* signatures.verifyKeyless(provider, image, digest, gate())]
      }).pipe(Effect.provide(layer()))
    )
    expect(verdicts).toEqual([Either.left("no sigstore bundle"), Either.void])
  })

  test("a registry with the referrers API is asked there, and its index is used", async () => {
    const digest = await registry.pushImage("keyless/api", "1.0.0")
    const { referrer, size } = await attachBundle(registry, "keyless/api", digest, signKeyless(ca, { digest, issuer: GITHUB, subject: WORKFLOW }), { tagSchema: false })
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, size, digest: referrer, artifactType: BUNDLE_V03 }] })
    const asked: Array<string> = []
    // In front of docker-registry: answers the referrers API itself, forwards the rest.
    const server = createServer(async (req, res) => {
      const path = req.url ?? "/"
      asked.push(path)
      if (path === `/v2/keyless/api/referrers/${digest}`) {
        res.writeHead(200, { "content-type": OCI_INDEX }).end(index)
        return
      }
      const upstream = await fetch(`${registry.url}${path}`, { method: req.method ?? "GET", headers: { accept: req.headers.accept ?? "*/*" } })
      const body = Buffer.from(await upstream.arrayBuffer())
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/octet-stream" }).end(body)
    })
    const proxy = await listenOnLoopback(server)
    try {
      const host = new URL(proxy.url).host
      expect(await verify(host, "keyless/api", digest, [gate()])).toEqual([Either.right(Either.void)])
      expect(asked).toContain(`/v2/keyless/api/referrers/${digest}`)
      expect(asked).not.toContain(`/v2/keyless/api/manifests/${digest.replace(":", "-")}`)
    } finally {
      await proxy.stop()
    }
  })
})
