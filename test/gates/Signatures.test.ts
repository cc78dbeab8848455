/**
 * What `Signatures` keeps between checks, on a virtual clock, against an in-memory registry that
 * can be told to fail: a registry that fails to answer (5xx, 429, a timeout) decides nothing, a
 * refusal counts for one provider interval, a valid signature for as long as its digest.
 */
import { describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Duration, Effect, Either, Layer, Option, TestClock, TestContext } from "effect"
import { type ImageRef, parseImageRef, sha256Digest } from "../../src/domain/ImageRef.ts"
import { providerError, type RegistryErrorReason } from "../../src/domain/RegistryError.ts"
import { type KeylessGate, Signatures, type UnusableTrust } from "../../src/gates/Signatures.ts"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { generateP256, signatureLayer, signatureManifest, signatureTagOf, signPayload, simpleSigningPayload } from "../support/cosign.ts"
import { providerConfig } from "../support/config.ts"
import { writeFile } from "../support/runner.ts"
import { BUNDLE_V03, createSigstore, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, signKeyless } from "../support/sigstore.ts"
import { steppedClock } from "../support/steppedClock.ts"
import { tempDir } from "../support/tempDirs.ts"

const IMAGE = "ghcr.io/org/app"
const DIGEST = sha256Digest("the image")
const INTERVAL = Duration.minutes(5)
const HOUR = 3_600_000
const provider = providerConfig({ name: "ghcr", interval: INTERVAL })
const image = Either.getOrThrow(parseImageRef(IMAGE))
const utf8 = (text: string) => new TextEncoder().encode(text)

/** An in-memory registry: manifests by reference, blobs by digest, and what it fails to serve. */
const fakeRegistry = () => {
  const manifests = new Map<string, Uint8Array>()
  const blobs = new Map<string, Uint8Array>()
  /** A reference or digest whose requests fail, and how. */
  const failing = new Map<string, RegistryErrorReason>()
  let requests = 0
  const serve = <A>(p: ProviderConfig, i: ImageRef, reference: string, found: A | undefined): Effect.Effect<A | undefined, ReturnType<ReturnType<typeof providerError>>> => {
    requests++
    const reason = failing.get(reference)
    if (reason !== undefined) return Effect.fail(providerError(p, i)(reason, `fails ${reference}`, reason === "RateLimited" ? 429 : 503))
    return Effect.succeed(found)
  }
  const unused = (p: ProviderConfig, i: ImageRef) => Effect.fail(providerError(p, i)("Config", "not in this test"))
  const layer = Layer.succeed(TagSource, {
    list: unused,
    digest: unused,
    created: unused,
    pushTimes: unused,
    manifest: (p, i, reference) => Effect.map(serve(p, i, reference, manifests.get(reference)), Option.fromNullable),
    blob: (p, i, digest) =>
      Effect.flatMap(serve(p, i, digest, blobs.get(digest)), (blob) =>
        blob === undefined ? Effect.fail(providerError(p, i)("NotFound", `blob unknown: ${digest}`, 404)) : Effect.succeed(blob)
      ),
    // No referrers API: keyless bundles are found by the referrers tag schema.
    referrers: (p, i, digest) => Effect.as(serve(p, i, digest, undefined), Option.none())
  })
  return { manifests, blobs, failing, layer, requests: () => requests }
}
type Registry = ReturnType<typeof fakeRegistry>

const key = generateP256()
const otherKey = generateP256()
const keyFile = writeFile(tempDir("runner-signatures-"), "cosign.pub", key.publicKeyPem)

/** Attaches a cosign signature of DIGEST by `signer` in cosign's tag scheme; returns its payload's digest. */
const signWith = (registry: Registry, signer = key): string => {
  const payload = simpleSigningPayload(DIGEST, IMAGE)
  const { manifest } = signatureManifest([signatureLayer(payload, signPayload(payload, signer.privateKey))])
  registry.manifests.set(signatureTagOf(DIGEST), utf8(manifest))
  registry.blobs.set(sha256Digest(payload), payload)
  return sha256Digest(payload)
}

/** Runs `steps` with one Signatures over `registry`, on a virtual clock starting at 0. */
const run = <A>(registry: Registry, steps: (signatures: Signatures["Type"]) => Effect.Effect<A, UnusableTrust>) =>
  Effect.runPromise(
    Effect.flatMap(Signatures, steps).pipe(
      Effect.provide(Signatures.layer.pipe(Layer.provide(registry.layer), Layer.provide(NodeContext.layer))),
      Effect.provide(TestContext.TestContext)
    )
  )

/** Two verdicts on one Signatures: while the registry fails what it was told to, then once it serves again. */
const acrossOutage = (registry: Registry, verify: (signatures: Signatures["Type"]) => Effect.Effect<string, UnusableTrust>) =>
  run(registry, (signatures) =>
    Effect.gen(function* () {
      const first = yield* verify(signatures)
      registry.failing.clear()
      return [first, yield* verify(signatures)]
    })
  )

const verdict = (result: Either.Either<void, string>) => Either.match(result, { onLeft: (why) => why, onRight: () => "valid" })

describe("key-based verdicts", () => {
  const verify = (signatures: Signatures["Type"]) => Effect.map(signatures.verify(provider, image, DIGEST, keyFile), verdict)

  test.each([
    ["a 503", "Server"],
    ["a 429", "RateLimited"],
    ["a timeout", "Transport"]
  ] as const)("a signature payload the registry fails to serve (%s) is no verdict: the next check reads it again", async (_name, reason) => {
    const registry = fakeRegistry()
    const payload = signWith(registry)
    registry.failing.set(payload, reason)
    const [first, second] = await acrossOutage(registry, verify)
    expect(first).toStartWith("cannot read signatures: ")
    expect(second).toBe("valid")
  })

  test("a signature manifest the registry fails to serve is no verdict either", async () => {
    const registry = fakeRegistry()
    signWith(registry)
    registry.failing.set(signatureTagOf(DIGEST), "Server")
    const results = await acrossOutage(registry, verify)
    expect(results).toEqual([expect.stringMatching(/^cannot read signatures: /), "valid"])
  })

  test("a bad signature is kept for the provider's interval, then asked about again", async () => {
    const registry = fakeRegistry()
    signWith(registry, otherKey)
    const results = await run(registry, (signatures) =>
      Effect.gen(function* () {
        const refused = yield* verify(signatures)
        // The publisher signs again with the right key (cosign appends a layer; here, a new manifest).
        signWith(registry)
        const asked = registry.requests()
        yield* TestClock.adjust(Duration.subtract(INTERVAL, Duration.millis(1)))
        const kept = yield* verify(signatures)
        const fromMemory = registry.requests() === asked
        yield* TestClock.adjust(Duration.millis(1))
        return [refused, kept, fromMemory, yield* verify(signatures)]
      })
    )
    expect(results).toEqual(["signature does not verify", "signature does not verify", true, "valid"])
  })

  test("a valid signature is kept by digest, past any interval", async () => {
    const registry = fakeRegistry()
    signWith(registry)
    const results = await run(registry, (signatures) =>
      Effect.gen(function* () {
        const valid = yield* verify(signatures)
        registry.manifests.clear()
        const asked = registry.requests()
        yield* TestClock.adjust(Duration.times(INTERVAL, 100))
        return [valid, yield* verify(signatures), registry.requests() === asked]
      })
    )
    expect(results).toEqual(["valid", "valid", true])
  })

  // A refusal's interval runs on the monotonic clock: the wall clock stepped either way moves it neither way.
  test.each([
    { name: "set forward an hour, a minute in: still refused", step: HOUR, after: Duration.minutes(1), expected: "signature does not verify" },
    { name: "set back an hour, one interval in: asked about again", step: -HOUR, after: INTERVAL, expected: "valid" }
  ])("the wall clock $name", async ({ step, after, expected }) => {
    const registry = fakeRegistry()
    signWith(registry, otherKey)
    const time = steppedClock()
    const results = await run(registry, (signatures) =>
      Effect.gen(function* () {
        const refused = yield* verify(signatures)
        signWith(registry)
        yield* time.stepWall(step)
        yield* time.advance(after)
        return [refused, yield* verify(signatures)]
      }).pipe(Effect.withClock(time.clock))
    )
    expect(results).toEqual(["signature does not verify", expected])
  })
})

describe("keyless verdicts", () => {
  const GITHUB = "https://token.actions.githubusercontent.com"
  const WORKFLOW = "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main"
  const ca = createSigstore()
  const stranger = createSigstore("other.test")
  const gate: KeylessGate = {
    trustedRootFile: writeFile(tempDir("runner-signatures-root-"), "trusted_root.json", ca.trustedRoot),
    identity: { issuer: GITHUB, subject: WORKFLOW }
  }
  const verify = (signatures: Signatures["Type"]) => Effect.map(signatures.verifyKeyless(provider, image, DIGEST, gate), verdict)

  /** Attaches a bundle as the referrers tag schema lists it; returns the bundle blob's digest. */
  const attach = (registry: Registry, by = ca): string => {
    const bundle = signKeyless(by, { digest: DIGEST, issuer: GITHUB, subject: WORKFLOW })
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_EMPTY, size: 2, digest: sha256Digest("{}"), artifactType: BUNDLE_V03 },
      layers: [{ mediaType: BUNDLE_V03, size: Buffer.byteLength(bundle), digest: sha256Digest(bundle) }],
      subject: { mediaType: OCI_MANIFEST, size: 100, digest: DIGEST },
      artifactType: BUNDLE_V03
    })
    const referrer = sha256Digest(manifest)
    registry.manifests.set(referrer, utf8(manifest))
    registry.blobs.set(sha256Digest(bundle), utf8(bundle))
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, size: manifest.length, digest: referrer, artifactType: BUNDLE_V03 }] }
    registry.manifests.set(DIGEST.replace(":", "-"), utf8(JSON.stringify(index)))
    return sha256Digest(bundle)
  }

  test.each(["Server", "RateLimited", "Transport"] as const)("a bundle the registry fails to serve (%s) is no verdict", async (reason) => {
    const registry = fakeRegistry()
    registry.failing.set(attach(registry), reason)
    const results = await acrossOutage(registry, verify)
    expect(results).toEqual([expect.stringMatching(/^cannot read signatures: /), "valid"])
  })

  test("a refused bundle is kept for the provider's interval, then asked about again", async () => {
    const registry = fakeRegistry()
    attach(registry, stranger)
    const results = await run(registry, (signatures) =>
      Effect.gen(function* () {
        const refused = yield* verify(signatures)
        attach(registry)
        yield* TestClock.adjust(Duration.subtract(INTERVAL, Duration.millis(1)))
        const kept = yield* verify(signatures)
        yield* TestClock.adjust(Duration.millis(1))
        return [refused, kept, yield* verify(signatures)]
      })
    )
    expect(results).toEqual(["certificate not issued by the trusted root", "certificate not issued by the trusted root", "valid"])
  })
})
