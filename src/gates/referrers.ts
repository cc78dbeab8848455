/**
 * Finding the sigstore bundles attached to an image as OCI 1.1 referrers, the way cosign writes
 * them (`cosign sign` with the new bundle format, `ociremote.WriteAttestationNewBundleFormat`): an
 * image manifest with `artifactType` the bundle media type, the empty config, and one layer holding
 * the bundle JSON. Registries without the referrers API (distribution 2.8) list them in an OCI index
 * tagged `sha256-<hex>` (the referrers tag schema of the distribution spec). Pure: the caller fetches.
 */
import { Either, Schema } from "effect"
import { sha256DigestPattern } from "../domain/ImageRef.ts"
import { decodeJsonText } from "../json.ts"

export const SIGSTORE_BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
/** The spelling of the same media type older sigstore clients used. */
export const SIGSTORE_BUNDLE_TYPE_LEGACY = "application/vnd.dev.sigstore.bundle+json;version=0.3"
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

/** A bundle is a few kilobytes (a certificate, a signature, a log entry); a layer declaring more is not fetched. */
export const MAX_BUNDLE_BYTES = 1024 * 1024
/** A referrers index or referrer manifest larger than this is refused unread. */
export const MAX_REFERRER_JSON_CHARS = 4 * 1024 * 1024
const MAX_INDEX_ENTRIES = 10_000
const MAX_MANIFEST_LAYERS = 100

const isBundleType = (mediaType: string | undefined): boolean =>
  mediaType === SIGSTORE_BUNDLE_TYPE || mediaType === SIGSTORE_BUNDLE_TYPE_LEGACY

/** `sha256:<hex>` → `sha256-<hex>`, the tag of the referrers index for registries without the API. */
export const referrersTag = (digest: string): Either.Either<string, string> =>
  sha256DigestPattern.test(digest)
    ? Either.right(`sha256-${digest.slice("sha256:".length)}`)
    : Either.left("cannot look up referrers: not a sha256 digest")

const Descriptor = Schema.Struct({
  mediaType: Schema.String,
  digest: Schema.String,
  size: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  artifactType: Schema.optional(Schema.String),
  annotations: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
})
export type Descriptor = typeof Descriptor.Type

/** The OCI index the referrers API answers, and the referrers tag schema stores. */
export const ReferrersIndex = Schema.Struct({
  schemaVersion: Schema.Literal(2),
  mediaType: Schema.optional(Schema.String),
  manifests: Schema.Array(Descriptor).pipe(Schema.maxItems(MAX_INDEX_ENTRIES)),
})
export type ReferrersIndex = typeof ReferrersIndex.Type

/** A referrer's image manifest: `subject` names the image it is attached to. */
export const ReferrerManifest = Schema.Struct({
  schemaVersion: Schema.Literal(2),
  mediaType: Schema.optional(Schema.String),
  artifactType: Schema.optional(Schema.String),
  config: Descriptor,
  layers: Schema.Array(Descriptor).pipe(Schema.maxItems(MAX_MANIFEST_LAYERS)),
  subject: Schema.optional(Descriptor),
})
export type ReferrerManifest = typeof ReferrerManifest.Type

export interface BundleReferrer {
  readonly digest: string
  readonly artifactType: string
}

const decodeBounded = <A, I>(schema: Schema.Schema<A, I>, text: string, what: string): Either.Either<A, string> =>
  text.length > MAX_REFERRER_JSON_CHARS
    ? Either.left(`${what} too large`)
    : Either.mapLeft(decodeJsonText(schema, text), () => `malformed ${what}`)

/** The referrer manifests of an index that carry sigstore bundles, by their declared artifactType. */
export const bundleReferrers = (indexJson: string): Either.Either<ReadonlyArray<BundleReferrer>, string> =>
  Either.map(decodeBounded(ReferrersIndex, indexJson, "referrers index"), (index) =>
    index.manifests.flatMap((m) =>
      isBundleType(m.artifactType) && m.mediaType === OCI_MANIFEST && sha256DigestPattern.test(m.digest) && m.size <= MAX_REFERRER_JSON_CHARS
        ? [{ digest: m.digest, artifactType: m.artifactType ?? "" }]
        : []
    )
  )

/**
 * The layers of a referrer manifest to fetch as bundles: it must be a sigstore bundle artifact
 * attached to `subject` (the candidate's digest), and each layer a bundle of at most 1 MiB.
 */
export const bundleLayers = (manifestJson: string, subject: string): Either.Either<ReadonlyArray<Descriptor>, string> =>
  Either.flatMap(decodeBounded(ReferrerManifest, manifestJson, "referrer manifest"), (manifest) => {
    // cosign sets both; a registry-side copy may carry only the config's media type (image-spec 1.1 allows either).
    if (!isBundleType(manifest.artifactType ?? manifest.config.mediaType)) return Either.left("referrer is not a sigstore bundle")
    if (manifest.subject !== undefined && manifest.subject.digest !== subject) return Either.left("referrer is attached to another image")
    const bundles = manifest.layers.filter((layer) => isBundleType(layer.mediaType) && sha256DigestPattern.test(layer.digest))
    if (bundles.length === 0) return Either.left("referrer has no bundle layer")
    const small = bundles.filter((layer) => layer.size <= MAX_BUNDLE_BYTES)
    if (small.length === 0) return Either.left(`bundle layer too large (${bundles[0]?.size ?? 0} bytes)`)
    return Either.right(small)
  })
