import { FileSystem } from "@effect/platform"
import { Context, Effect, Either, Layer, Option } from "effect"
import { createHash } from "node:crypto"
import type { ProviderConfig } from "../config/model.ts"
import { type ImageRef, imageName } from "../domain/ImageRef.ts"
import { TagSource } from "../registry/TagSource.ts"
import { decodeSignatureManifest, parsePublicKey, signatureLayers, signatureTag, verifySignatures } from "./cosign.ts"

/** Signature layers fetched per digest: cosign appends one per signing, and a few is what real images carry. */
const MAX_LAYERS = 20
/** Verdicts kept; a digest never changes, so a verdict stays true for as long as its key does. */
const MAX_VERDICTS = 10_000

/**
 * cosign verification of image digests, in cosign's tag scheme (`sha256-<hex>.sig`). A verdict is
 * `Right` when a signature attached to the digest verifies under the key, `Left` with the reason
 * (for the report) when not. The effect fails only when the key file cannot be used at all.
 */
export class Signatures extends Context.Tag("Signatures")<
  Signatures,
  {
    readonly verify: (
      provider: ProviderConfig,
      image: ImageRef,
      digest: string,
      keyFile: string
    ) => Effect.Effect<Either.Either<void, string>, string>
  }
>() {
  /** Signatures and payloads are read through the provider, under its host's rate limiter; verdicts are kept per digest. */
  static readonly layer = Layer.effect(
    Signatures,
    Effect.gen(function* () {
      const source = yield* TagSource
      const fs = yield* FileSystem.FileSystem
      const verdicts = new Map<string, Either.Either<void, string>>()

      const lookUp = (provider: ProviderConfig, image: ImageRef, digest: string, key: Parameters<typeof verifySignatures>[0]["key"]) =>
        Effect.gen(function* () {
          const tag = signatureTag(digest)
          if (Either.isLeft(tag)) return Either.left(tag.left)
          const found = yield* source.manifest(provider, image, tag.right)
          if (Option.isNone(found)) return Either.left("no signature")
          const manifest = new TextDecoder().decode(found.value)
          const decoded = decodeSignatureManifest(manifest)
          if (Either.isLeft(decoded)) return Either.left(decoded.left)
          const blobs = new Map<string, Uint8Array>()
          for (const layer of signatureLayers(decoded.right).slice(0, MAX_LAYERS)) {
            // A payload that cannot be had counts as missing; verification says so if no other layer verifies.
            const blob = yield* source.blob(provider, image, layer.digest).pipe(Effect.option)
            if (Option.isSome(blob)) blobs.set(layer.digest, blob.value)
          }
          return Either.map(verifySignatures({ manifest, blob: (d) => blobs.get(d), key, digest }), () => undefined)
        })

      const verify = (provider: ProviderConfig, image: ImageRef, digest: string, keyFile: string) =>
        Effect.gen(function* () {
          // Read at every check, so a rotated key takes effect without a restart.
          const pem = yield* fs.readFileString(keyFile).pipe(Effect.mapError((e) => `cannot read the cosign key ${keyFile}: ${e.message}`))
          const key = parsePublicKey(pem)
          if (Either.isLeft(key)) return yield* Effect.fail(`the cosign key ${keyFile} is not usable: ${key.left}`)
          const id = `${imageName(image)}\u0000${digest}\u0000${createHash("sha256").update(pem).digest("hex")}`
          const known = verdicts.get(id)
          if (known !== undefined) return known
          const verdict = yield* lookUp(provider, image, digest, key.right).pipe(
            // A registry that fails to answer decides nothing: the next pass asks again.
            Effect.catchAll((e) => Effect.succeed({ transient: Either.left(`cannot read signatures: ${e.message}`) }))
          )
          if ("transient" in verdict) return verdict.transient
          if (verdicts.size >= MAX_VERDICTS) verdicts.clear()
          verdicts.set(id, verdict)
          return verdict
        })

      return { verify }
    })
  )

  /** For pipeline tests without a registry: `signed` says what a registry's signatures would. */
  static readonly layerTest = (signed: (image: string, digest: string, keyFile: string) => Either.Either<void, string>) =>
    Layer.succeed(Signatures, { verify: (_provider, image, digest, keyFile) => Effect.succeed(signed(imageName(image), digest, keyFile)) })
}
