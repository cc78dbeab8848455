/**
 * What a target's hits hold, read by its format: the tag and digest found, the image as written,
 * and the edits that write a new tag. A field holds one image reference, tag or digest; a map
 * format (kustomize, helm) reads one map's keys together.
 */
import { Either } from "effect"
import type { Target } from "../domain/Target.ts"
import { digestPattern, formatImageRef, type ImageRef, imageName, parseImageRef } from "../domain/ImageRef.ts"
import type { MapShape } from "../manifest/maps.ts"
import type { Edit, ScalarHit } from "../manifest/patch.ts"

export interface Occurrence {
  /** The scalar that holds the tag (or the digest, where no tag is written). */
  readonly hit: ScalarHit
  /** The tag the field names; unknown for a bare digest. */
  readonly tag: string | undefined
  /** The digest the field pins, if it pins one. */
  readonly digest: string | undefined
  /** The edits that make it name `tag`, pinned by `digest` where it can hold one. */
  readonly write: (tag: string, digest: string | undefined) => ReadonlyArray<Edit>
  /** Whether a digest can be written beside the tag. */
  readonly pinnable: boolean
  readonly asImage: string
  /** The repository as written, without tag or digest. */
  readonly name: string
}

export const KUSTOMIZE: MapShape = { list: true, keys: ["name", "newName", "newTag", "digest"], insertable: "newTag" }
export const HELM: MapShape = { list: false, keys: ["registry", "repository", "tag", "digest"] }

/** The shape a map format reads; undefined for a format whose field is one scalar. */
export const shapeOf = (target: Pick<Target, "format">): MapShape | undefined =>
  target.format === "kustomize" ? KUSTOMIZE : target.format === "helm" ? HELM : undefined

const scalarOccurrence = (target: Target, watched: ImageRef, hit: ScalarHit): Either.Either<Occurrence, string> => {
  const one = (rewrite: (tag: string, digest: string | undefined) => string) => (tag: string, digest: string | undefined) => [{ hit, value: rewrite(tag, digest) }]
  switch (target.format) {
    case "digest":
      return digestPattern.test(hit.value)
        ? Either.right({ hit, tag: undefined, digest: hit.value, write: one((_tag, digest) => digest ?? hit.value), pinnable: true, asImage: `${target.image}@${hit.value}`, name: target.image })
        : Either.left(`line ${hit.line}: the field holds ${JSON.stringify(hit.value)}, not a digest`)
    case "image":
      return parseImageRef(hit.value).pipe(
        Either.mapLeft((e) => `line ${hit.line}: the field holds ${JSON.stringify(hit.value)}, not an image reference (${e})`),
        Either.flatMap((ref) =>
          imageName(ref) === imageName(watched)
            ? Either.right({ hit, tag: ref.tag, digest: ref.digest, write: one((tag, digest) => formatImageRef(ref.written, tag, digest)), pinnable: true, asImage: hit.value, name: ref.written })
            : Either.left(`line ${hit.line}: the field holds ${hit.value}, not the watched image ${target.image}`)
        )
      )
    default:
      return Either.right({ hit, tag: hit.value, digest: undefined, write: one((tag) => tag), pinnable: false, asImage: `${target.image}:${hit.value}`, name: target.image })
  }
}

type Keys = ReadonlyMap<string, ScalarHit>

/** The hits of each map, by key, in the order the file holds the maps. */
const mapsOf = (hits: ReadonlyArray<ScalarHit>): ReadonlyArray<Keys> => {
  const maps = new Map<string, Map<string, ScalarHit>>()
  for (const hit of hits) {
    const id = `${hit.document}:${hit.map ?? hit.start}`
    const keys = maps.get(id) ?? new Map<string, ScalarHit>()
    maps.set(id, keys)
    if (hit.key !== undefined) keys.set(hit.key, hit)
  }
  return [...maps.values()]
}

const valueOf = (keys: Keys, key: string): string | undefined => {
  const hit = keys.get(key)
  return hit === undefined || hit.missing === true || hit.value === "" ? undefined : hit.value
}

/** One map's tag and digest, with the name it is known by: what kustomize and helm share once the image matched. */
const mapOccurrence = (keys: Keys, name: string, tagKey: string, line: number): Either.Either<Occurrence, string> => {
  const tagHit = keys.get(tagKey)
  const digestHit = keys.get("digest")
  const hit = tagHit ?? digestHit
  if (hit === undefined) return Either.left(`line ${line}: ${name} has no ${tagKey}, and none can be added after its last key (a block scalar or a nested value)`)
  const tag = valueOf(keys, tagKey)
  const digest = valueOf(keys, "digest")
  // A digest pinned alone is moved alone, as a field of the digest is; a tag is written where one is, or can be added.
  const writesTag = tagHit !== undefined && !(tagHit.missing === true && digest !== undefined)
  return Either.right({
    hit,
    tag,
    digest,
    write: (newTag, newDigest) => [
      ...(writesTag ? [{ hit: tagHit, value: newTag }] : []),
      ...(digestHit !== undefined && newDigest !== undefined ? [{ hit: digestHit, value: newDigest }] : [])
    ],
    pinnable: digestHit !== undefined,
    asImage: formatImageRef(name, tag, digest),
    name
  })
}

const lineOf = (keys: Keys): number => Math.min(...[...keys.values()].map((hit) => hit.line))

const kustomizeOccurrences = (target: Target, watched: ImageRef, hits: ReadonlyArray<ScalarHit>): Either.Either<ReadonlyArray<Occurrence>, string> => {
  const entries = mapsOf(hits).flatMap((keys) => {
    const name = valueOf(keys, "name")
    const deployed = valueOf(keys, "newName") ?? name
    return deployed === undefined ? [] : [{ keys, name, deployed }]
  })
  const matching = entries.filter(({ deployed }) => Either.match(parseImageRef(deployed), { onLeft: () => false, onRight: (ref) => imageName(ref) === imageName(watched) }))
  if (matching.length === 0) {
    const seen = entries.map(({ name, deployed }) => (name === deployed || name === undefined ? deployed : `${name} (newName ${deployed})`))
    return Either.left(
      `no images: entry of ${target.image} in ${target.filePath} (by newName, else name): ` +
        (seen.length === 0 ? "it has none" : `it has ${seen.join(", ")}`)
    )
  }
  return Either.all(matching.map(({ keys, deployed }) => mapOccurrence(keys, deployed, "newTag", lineOf(keys))))
}

const helmOccurrences = (target: Target, watched: ImageRef, hits: ReadonlyArray<ScalarHit>): Either.Either<ReadonlyArray<Occurrence>, string> =>
  Either.all(
    mapsOf(hits).map((keys) => {
      const line = lineOf(keys)
      const repository = valueOf(keys, "repository")
      const registry = valueOf(keys, "registry")
      if (repository === undefined) return Either.left(`line ${line}: the map has no repository`)
      const name = registry === undefined ? repository : `${registry.replace(/\/+$/, "")}/${repository}`
      const matches = Either.match(parseImageRef(name), { onLeft: () => false, onRight: (ref) => imageName(ref) === imageName(watched) })
      if (!matches) return Either.left(`line ${line}: the field holds ${name}, not the watched image ${target.image}`)
      if (!keys.has("tag")) {
        return Either.left(`line ${line}: the map of ${name} has no tag; one is not added (the chart's default, often its appVersion, applies without it): write tag: in the map`)
      }
      return mapOccurrence(keys, name, "tag", line)
    })
  )

/** What each of a target's hits holds, or why one cannot be read as its format. */
export const occurrencesOf = (target: Target, watched: ImageRef, hits: ReadonlyArray<ScalarHit>): Either.Either<ReadonlyArray<Occurrence>, string> => {
  switch (target.format) {
    case "kustomize":
      return kustomizeOccurrences(target, watched, hits)
    case "helm":
      return helmOccurrences(target, watched, hits)
    default:
      return Either.all(hits.map((hit) => scalarOccurrence(target, watched, hit)))
  }
}
