import { FileSystem } from "@effect/platform"
import { Context, Data, Duration, Effect, Either, Layer, Option } from "effect"
import { createHash } from "node:crypto"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import { makeKeptCache } from "../keptCache.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { TagSource, type TagSourceError } from "../registry/TagSource.ts"
import { decodeSignatureManifest, parsePublicKey, signatureLayers, signatureTag, verifySignatures } from "./cosign.ts"
import type { Identity, KeylessFailure, TrustedRoot } from "./keyless.ts"

/** sigstore's verifier, loaded by the first keyless check: most runners never pay its start-up. */
const loadKeyless = Effect.promise(() => import("./keyless.ts"))
import { bundleLayers, bundleReferrers, MAX_BUNDLE_BYTES, referrersTag } from "./referrers.ts"
import { fileProblem } from "../files.ts"

/** Signature layers fetched per digest: cosign appends one per signing, and a few is what real images carry. */
const MAX_LAYERS = 20
/** Bundle referrers fetched per digest: one per `cosign sign` or `cosign attest`. */
const MAX_REFERRERS = 20
/**
 * Verdicts kept. A digest never changes, so a valid signature stays valid for as long as its key
 * (or root and identity) does; a refusal is kept for one provider interval only, as a signature
 * attached later (another `cosign sign`) must be found.
 */
const MAX_VERDICTS = 10_000

/** A gate's key or trusted root cannot be used at all (unreadable, not a key): no candidate can be verified against it. */
export class UnusableTrust extends Data.TaggedError("UnusableTrust")<{ readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

/** A verdict and how long it counts: for ever when valid, one interval when refused, not at all when no signature was found yet. */
interface Kept {
  readonly verdict: Either.Either<void, string>
  readonly keptFor: number | undefined
}

const keptOf = (verdict: Either.Either<void, string>, provider: ProviderConfig, found: boolean): Kept => ({
  verdict,
  keptFor: !found ? undefined : Either.isRight(verdict) ? Infinity : Duration.toMillis(provider.interval)
})

/** A registry that fails to answer decides nothing: the verdict says so, is not kept, and the next pass asks again. */
const verdictOf = (kept: Effect.Effect<Kept, TagSourceError | UnusableTrust>): Effect.Effect<Either.Either<void, string>, UnusableTrust> =>
  kept.pipe(
    Effect.map((k) => k.verdict),
    Effect.catchIf(
      (e): e is TagSourceError => !(e instanceof UnusableTrust),
      (e) => Effect.succeed(Either.left(`cannot read signatures: ${e.message}`))
    )
  )

/** A keyless gate: the sigstore trusted root to verify against and the signer to expect. */
export interface KeylessGate {
  readonly trustedRootFile: string
  readonly identity: Identity
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

// A referrer, manifest or bundle the registry does not have is missing; anything else is the registry failing.
const orMissing = <A>(effect: Effect.Effect<A, TagSourceError>) =>
  effect.pipe(
    Effect.map(Option.some),
    Effect.catchIf((e) => e._tag === "RegistryError" && e.reason === "NotFound", () => Effect.succeed(Option.none<A>()))
  )

/**
 * The bundles attached to `digest`: listed by the referrers API, else by the referrers tag
 * schema's index; Left with why when referrers are listed but none yields a bundle.
 */
const bundlesOf = (source: TagSource["Type"], provider: ProviderConfig, image: ImageRef, digest: string) =>
  Effect.gen(function* () {
    const tag = referrersTag(digest)
    if (Either.isLeft(tag)) return Either.left(tag.left)
    const api = yield* source.referrers(provider, image, digest)
    const index = Option.isSome(api) ? api : yield* source.manifest(provider, image, tag.right)
    if (Option.isNone(index)) return Either.right([])
    const listed = bundleReferrers(text(index.value))
    if (Either.isLeft(listed)) return Either.left(listed.left)
    const bundles: Array<Uint8Array> = []
    let why: string | undefined
    for (const referrer of listed.right.slice(0, MAX_REFERRERS)) {
      const manifest = yield* orMissing(source.manifest(provider, image, referrer.digest)).pipe(Effect.map(Option.flatten))
      const layers = Option.isNone(manifest) ? Either.left("referrer manifest missing") : bundleLayers(text(manifest.value), digest)
      if (Either.isLeft(layers)) why = layers.left
      for (const layer of Either.getOrElse(layers, () => [])) {
        const blob = yield* orMissing(source.blob(provider, image, layer.digest))
        if (Option.isSome(blob) && blob.value.byteLength <= MAX_BUNDLE_BYTES) bundles.push(blob.value)
        else why = "bundle layer missing"
      }
    }
    return bundles.length === 0 && why !== undefined ? Either.left(why) : Either.right(bundles)
  })

const NO_SIGNATURE = "no signature"

/**
 * cosign verification of image digests: key-based in cosign's tag scheme (`sha256-<hex>.sig`),
 * keyless with sigstore bundles attached as OCI referrers. A verdict is `Right` when a signature
 * attached to the digest verifies, `Left` with the reason (for the report) when not. The effect
 * fails only when the key or trusted root file cannot be used at all.
 */
export class Signatures extends Context.Tag("Signatures")<
  Signatures,
  {
    readonly verify: (
      provider: ProviderConfig,
      image: ImageRef,
      digest: string,
      keyFile: string
    ) => Effect.Effect<Either.Either<void, string>, UnusableTrust>
    readonly verifyKeyless: (
      provider: ProviderConfig,
      image: ImageRef,
      digest: string,
      gate: KeylessGate
    ) => Effect.Effect<Either.Either<void, string>, UnusableTrust>
  }
>() {
  /** Signatures and payloads are read through the provider, under its host's rate limiter; verdicts are kept per digest. */
  static readonly layer = Layer.effect(
    Signatures,
    Effect.gen(function* () {
      const source = yield* TagSource
      const fs = yield* FileSystem.FileSystem
      // Verdicts on what the registry served only, reused by later checks of the same digest, key or root and identity.
      const verdicts = yield* makeKeptCache<Kept, TagSourceError | UnusableTrust>({ keptFor: (kept) => kept.keptFor, max: MAX_VERDICTS })

      const lookUp = (provider: ProviderConfig, image: ImageRef, digest: string, key: Parameters<typeof verifySignatures>[0]["key"]) =>
        Effect.gen(function* () {
          const tag = signatureTag(digest)
          if (Either.isLeft(tag)) return Either.left(tag.left)
          const found = yield* source.manifest(provider, image, tag.right)
          if (Option.isNone(found)) return Either.left(NO_SIGNATURE)
          const manifest = new TextDecoder().decode(found.value)
          const decoded = decodeSignatureManifest(manifest)
          if (Either.isLeft(decoded)) return Either.left(decoded.left)
          const blobs = new Map<string, Uint8Array>()
          for (const layer of signatureLayers(decoded.right).slice(0, MAX_LAYERS)) {
            // A payload the registry does not have counts as missing; verification says so if no other layer
            // verifies. One it failed to serve (5xx, 429, a timeout) fails the look-up: that is no verdict.
            const blob = yield* orMissing(source.blob(provider, image, layer.digest))
            if (Option.isSome(blob)) blobs.set(layer.digest, blob.value)
          }
          return Either.map(verifySignatures({ manifest, blob: (d) => blobs.get(d), key, digest }), () => undefined)
        })

      const verify = (provider: ProviderConfig, image: ImageRef, digest: string, keyFile: string) =>
        Effect.gen(function* () {
          // Read at every check, so a rotated key takes effect without a restart.
          const pem = yield* fs.readFileString(keyFile).pipe(Effect.mapError((e) => new UnusableTrust({ detail: `cannot read the cosign key ${keyFile}: ${fileProblem(e)}` })))
          const key = parsePublicKey(pem)
          if (Either.isLeft(key)) return yield* new UnusableTrust({ detail: `the cosign key ${keyFile} is not usable: ${key.left}` })
          const id = `${imageName(image)}\u0000${digest}\u0000${createHash("sha256").update(pem).digest("hex")}`
          // Signing often lands seconds after the push: "not signed yet" is asked again next pass.
          const looked = () =>
            Effect.map(lookUp(provider, image, digest, key.right), (verdict) => keptOf(verdict, provider, !(Either.isLeft(verdict) && verdict.left === NO_SIGNATURE)))
          return yield* verdictOf(verdicts.get(id, looked))
        })

      const lookUpKeyless = (provider: ProviderConfig, image: ImageRef, digest: string, root: TrustedRoot, identity: Identity) =>
        Effect.gen(function* () {
          const { needsManifest, verifyBundles } = yield* loadKeyless
          const bundles = yield* bundlesOf(source, provider, image, digest)
          if (Either.isLeft(bundles)) return { found: false, verdict: Either.left<KeylessFailure>({ reason: bundles.left, fatal: false }) }
          // A message signature signs the image manifest itself: only then is it fetched.
          const manifest = needsManifest(bundles.right) ? yield* source.manifest(provider, image, digest) : Option.none<Uint8Array>()
          const verdict = verifyBundles(root, { bundles: bundles.right, identity, digest, artifact: Option.getOrUndefined(manifest) })
          return { found: bundles.right.length > 0, verdict }
        })

      const verifyKeyless = (provider: ProviderConfig, image: ImageRef, digest: string, gate: KeylessGate) =>
        Effect.gen(function* () {
          const file = gate.trustedRootFile
          // Read at every check, so an updated root (new CA, rotated log key) takes effect without a restart.
          const json = yield* fs.readFileString(file).pipe(Effect.mapError((e) => new UnusableTrust({ detail: `cannot read the trusted root ${file}: ${fileProblem(e)}` })))
          const hash = createHash("sha256").update(json).digest("hex")
          const { issuer, subject, subjectPattern } = gate.identity
          const signer = subject === undefined ? `~${subjectPattern ?? ""}` : `=${subject}`
          const id = ["keyless", imageName(image), digest, hash, issuer, signer].join("\u0000")
          // A verdict is kept only for a root that parsed: the parse is needed on a miss alone.
          const looked = () =>
            Effect.gen(function* () {
              const root = (yield* loadKeyless).parseTrustedRoot(json)
              if (Either.isLeft(root)) return yield* new UnusableTrust({ detail: `the trusted root ${file} is not usable: ${root.left}` })
              const { found, verdict } = yield* lookUpKeyless(provider, image, digest, root.right, gate.identity)
              if (Either.isLeft(verdict) && verdict.left.fatal) return yield* new UnusableTrust({ detail: verdict.left.reason })
              // Signing often follows the push by seconds: a digest with no bundle yet is asked again next pass.
              return keptOf(Either.mapLeft(verdict, (failure) => failure.reason), provider, found)
            })
          return yield* verdictOf(verdicts.get(id, looked))
        })

      return { verify, verifyKeyless }
    })
  )

  /**
   * For pipeline tests without a registry: `signed` says what a registry's signatures would for a
   * key, `keyless` for a keyless gate (by default, that no bundle is attached).
   */
  static readonly layerTest = (
    signed: (image: string, digest: string, keyFile: string) => Either.Either<void, string>,
    keyless: (image: string, digest: string, gate: KeylessGate) => Either.Either<void, string> = () => Either.left("no sigstore bundle")
  ) =>
    Layer.succeed(Signatures, {
      verify: (_provider, image, digest, keyFile) => Effect.succeed(signed(imageName(image), digest, keyFile)),
      verifyKeyless: (_provider, image, digest, gate) => Effect.succeed(keyless(imageName(image), digest, gate))
    })
}
