/**
 * Which platforms the manifest behind a digest has images for: an index (OCI image index, Docker
 * manifest list) names them in its entries; a single image says it in its config blob.
 */
import { Effect, Either, Option } from "effect"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import { type ImageRef, sha256Digest } from "../domain/ImageRef.ts"
import { statedPlatform } from "../domain/platform.ts"
import { providerError } from "../domain/RegistryError.ts"
import { decodeJsonText } from "../json.ts"
import { Manifest, PlatformConfig } from "./distribution.ts"
import type { TagSource, TagSourceError } from "./TagSource.ts"

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/**
 * The platforms (canonical spelling) of the manifest or index `digest` names, read through the
 * provider (its credentials, its host's rate limiter). An index costs one request, a single image
 * two (its manifest, then its config). The manifest must hash to the digest: the answer is kept
 * by it for ever.
 */
export const readPlatforms = (source: TagSource["Type"], provider: ProviderConfig, image: ImageRef, digest: string): Effect.Effect<ReadonlySet<string>, TagSourceError> =>
  Effect.gen(function* () {
    const fail = providerError(provider, image)
    const served = yield* source.manifest(provider, image, digest)
    if (Option.isNone(served)) return yield* fail("NotFound", `manifest ${digest} does not exist`, 404)
    if (sha256Digest(served.value) !== digest) return yield* fail("Protocol", `manifest ${digest} does not match its digest`)
    const manifest = decodeJsonText(Manifest, text(served.value))
    if (Either.isLeft(manifest)) return yield* fail("Protocol", `manifest ${digest} is not valid: ${manifest.left}`)
    const { manifests, config } = manifest.right
    if (manifests !== undefined) {
      // Entries without a platform (attestations of some builders, nested indexes) offer none.
      return new Set(manifests.flatMap((entry) => {
        const platform = entry.platform === undefined ? undefined : statedPlatform(entry.platform)
        return platform === undefined ? [] : [platform]
      }))
    }
    if (config === undefined) return yield* fail("Protocol", `manifest ${digest} is neither an index nor an image manifest`)
    const blob = yield* source.blob(provider, image, config.digest)
    const stated = decodeJsonText(PlatformConfig, text(blob))
    if (Either.isLeft(stated)) return yield* fail("Protocol", `config blob of manifest ${digest} is not valid: ${stated.left}`)
    const platform = statedPlatform(stated.right)
    return new Set(platform === undefined ? [] : [platform])
  })
