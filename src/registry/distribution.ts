import { Either, Option, Schema } from "effect"
import type { ProviderType } from "../domain/ProviderConfig.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { sha256Digest, sha256DigestPattern } from "../domain/ImageRef.ts"
import { decodeJsonValue, parseJsonText } from "../json.ts"

/** The documents of the OCI distribution API this client reads, and how it reads them: pure, no I/O. */

/** An OCI image index: what a multi-platform image and the referrers API answer with. */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json"

/** Every manifest and index media type, so that the registry serves what was pushed as it is. */
export const MANIFEST_ACCEPT = [
  OCI_INDEX,
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ")

/**
 * The `rel="next"` target of a `Link` header, resolved against the request URL. A next page on
 * another origin is refused: following it would send our credentials there.
 */
export const parseNextLink = (header: string | undefined, requestUrl: string): Either.Either<Option.Option<string>, string> => {
  if (header === undefined) return Either.right(Option.none())
  for (const [, target = "", params = ""] of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params)
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/)
    if (!relations.includes("next")) continue
    let next: URL
    try {
      next = new URL(target, requestUrl)
    } catch {
      return Either.left(`Link header has an invalid next URL "${target}"`)
    }
    const base = new URL(requestUrl)
    if (next.origin !== base.origin) {
      return Either.left(`Link header points the next page to another host (${next.origin}), refused`)
    }
    return Either.right(Option.some(next.href))
  }
  return Either.right(Option.none())
}

/** GCR adds a `manifest` map (digest -> tags and upload time in epoch milliseconds, as a string). */
const GcrManifest = Schema.Struct({
  tag: Schema.optional(Schema.Array(Schema.String)),
  timeUploadedMs: Schema.optional(Schema.String),
})

/** One page of `GET /v2/<name>/tags/list`. */
export const TagList = Schema.Struct({
  name: Schema.String,
  tags: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  manifest: Schema.optional(Schema.Record({ key: Schema.String, value: GcrManifest })),
})

const isTagArray = (value: unknown): value is ReadonlyArray<string> => Array.isArray(value) && value.every((tag) => typeof tag === "string")

/**
 * One page of a tag list. The plain shape, `{"name": ..., "tags": [...]}`, that nearly every page of
 * every registry has, is read by hand: it is read once per image and page, and the schema's decoder
 * costs far more than the parse. Anything else (GCR's `manifest` map, a malformed page) goes
 * through the schema, which also says what is wrong.
 */
export const readTagList = (text: string): Either.Either<typeof TagList.Type, string> =>
  Either.flatMap(parseJsonText(text), (value) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && !("manifest" in value)) {
      const { name, tags } = value as Record<string, unknown>
      if (typeof name === "string" && (tags === undefined || tags === null || isTagArray(tags))) return Either.right({ name, tags })
    }
    return decodeJsonValue(TagList, value)
  })

/**
 * The tags of one page, with upload time and digest where GCR's `manifest` map gives them. The map
 * is read only from a GCR provider: any other registry may write one too, and its times are then
 * whatever that registry chose, not a push time the gates can trust over a first sighting.
 */
export const tagInfos = (list: typeof TagList.Type, provider: ProviderType): ReadonlyArray<TagInfo> => {
  const known = new Map<string, { created?: Date; pushed?: Date; digest: string }>()
  for (const [digest, entry] of Object.entries(provider === "GCR" ? (list.manifest ?? {}) : {})) {
    const millis = Number(entry.timeUploadedMs ?? "")
    const created = Number.isFinite(millis) && millis > 0 ? { created: new Date(millis), pushed: new Date(millis) } : {}
    for (const tag of entry.tag ?? []) known.set(tag, { ...created, digest })
  }
  // Tags outside the OCI grammar are kept: the selector drops them, and `runner explain` says why.
  return (list.tags ?? []).map((tag): TagInfo => ({ tag, ...known.get(tag) }))
}

/** The platform of an index entry or an image config: `os`, `architecture` and maybe `variant` (arm/v7). */
const PlatformFields = { architecture: Schema.optional(Schema.String), os: Schema.optional(Schema.String), variant: Schema.optional(Schema.String) }

const Descriptor = Schema.Struct({
  digest: Schema.String,
  platform: Schema.optional(Schema.Struct(PlatformFields)),
})

/** Either an index (`manifests`) or an image manifest (`config`); both shapes share one decoder. */
export const Manifest = Schema.Struct({
  manifests: Schema.optional(Schema.Array(Descriptor)),
  config: Schema.optional(Schema.Struct({ digest: Schema.String })),
})

/** The part of an image's config blob that says when it was built. */
export const ImageConfig = Schema.Struct({ created: Schema.optional(Schema.String) })

/** The part of an image's config blob that says which platform it is for. */
export const PlatformConfig = Schema.Struct(PlatformFields)

/** The platform an index resolves to: linux/amd64 when present, else the first entry. */
export const pickPlatform = (manifests: ReadonlyArray<typeof Descriptor.Type>): Option.Option<string> =>
  Option.orElse(
    Option.fromNullable(manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64")),
    () => Option.fromNullable(manifests[0]),
  ).pipe(Option.map((m) => m.digest))

/** An image's `created`, if it is a real date: builds that want reproducible images write 1970. */
export const createdDate = (value: string | undefined): Option.Option<Date> => {
  if (value === undefined) return Option.none()
  const millis = Date.parse(value)
  return Number.isFinite(millis) && millis > Date.UTC(1970, 0, 2) ? Option.some(new Date(millis)) : Option.none()
}

/** The manifest digest a registry states in `Docker-Content-Digest`, when it is a sha256 digest. */
export const headerDigest = (reply: { readonly headers: Readonly<Record<string, string>> }): Option.Option<string> =>
  Option.filter(Option.fromNullable(reply.headers["docker-content-digest"]), (d) => sha256DigestPattern.test(d))

/** A served manifest's digest: the one stated, else the sha256 of the bytes exactly as served. */
export const servedDigest = (reply: { readonly headers: Readonly<Record<string, string>>; readonly body: Uint8Array }): string =>
  Option.getOrElse(headerDigest(reply), () => sha256Digest(reply.body))
