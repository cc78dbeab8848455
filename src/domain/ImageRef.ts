import { Either } from "effect"
import { createHash } from "node:crypto"
import { memoizeString } from "../memo.ts"

/** A parsed image reference, normalised the way docker does, with the user's spelling kept. */
export interface ImageRef {
  /** Registry host, with port if given (but not https's own 443); `docker.io` for Docker Hub. */
  readonly registry: string
  /** Repository path inside the registry; `library/` added for Docker Hub names without `/`. */
  readonly repository: string
  readonly tag: string | undefined
  readonly digest: string | undefined
  /** The name (registry and repository) exactly as the user wrote it, without tag and digest. */
  readonly written: string
}

export const DOCKER_HUB = "docker.io"
/** Other names of Docker Hub's registry that image references and Docker configs use. */
export const DOCKER_HUB_ALIASES: ReadonlyArray<string> = ["index.docker.io", "registry-1.docker.io"]

const componentRe = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/
const tagRe = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/
/** The OCI digest grammar: `algorithm:encoded`. */
export const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
/** A full sha256 digest: the only kind a registry's `Docker-Content-Digest` is taken as without checking the manifest. */
export const sha256DigestPattern = /^sha256:[a-f0-9]{64}$/

/** The `sha256:<hex>` digest of `bytes`, as registries name content. */
export const sha256Digest = (bytes: Uint8Array | string): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`
const hostRe = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/

/** Registries are spoken to over https: `host:443` is `host`, and one image must have one name. */
export const withoutDefaultPort = (host: string): string => (host.endsWith(":443") ? host.slice(0, -":443".length) : host)

/** True when the tag fits the OCI distribution tag grammar. */
export const isValidTag = (tag: string): boolean => tagRe.test(tag)

/** Parses `[host[:port]/]path[:tag][@digest]`. */
export const parseImageRef: (input: string) => Either.Either<ImageRef, string> = memoizeString((input) => {
  const text = input.trim()
  if (text === "") return Either.left("empty image reference")
  let rest = text
  let digest: string | undefined
  const at = rest.indexOf("@")
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!digestPattern.test(digest)) return Either.left(`invalid digest "${digest}" in "${text}"`)
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf("/")
  const colon = rest.lastIndexOf(":")
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!isValidTag(tag)) return Either.left(`invalid tag "${tag}" in "${text}"`)
  }
  const written = rest
  const parts = rest.split("/")
  let registry = DOCKER_HUB
  const first = parts[0] ?? ""
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["))) {
    if (!hostRe.test(first)) return Either.left(`invalid registry host "${first}" in "${text}"`)
    registry = withoutDefaultPort(first.toLowerCase())
    parts.shift()
  }
  if (DOCKER_HUB_ALIASES.includes(registry)) registry = DOCKER_HUB
  if (parts.length === 0 || parts.some((p) => !componentRe.test(p))) {
    return Either.left(`invalid repository name "${parts.join("/")}" in "${text}"`)
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library")
  return Either.right({ registry, repository: parts.join("/"), tag, digest, written })
})

/** `registry/repository`, the identity used to compare images. */
export const imageName = (ref: Pick<ImageRef, "registry" | "repository">): string => `${ref.registry}/${ref.repository}`

/** Writes a reference back in the user's spelling with a new tag and digest. */
export const formatImageRef = (written: string, tag: string | undefined, digest: string | undefined): string =>
  written + (tag === undefined ? "" : `:${tag}`) + (digest === undefined ? "" : `@${digest}`)

/**
 * A repository to watch or register, without tag or digest: a policy or the caller gives the tag.
 * The one check behind watcher files, the API, `notify` and `explain`.
 */
export const parseImageName = (text: string): Either.Either<ImageRef, string> =>
  Either.flatMap(parseImageRef(text), (ref) =>
    ref.tag === undefined && ref.digest === undefined
      ? Either.right(ref)
      : Either.left(`write the image without tag or digest (${JSON.stringify(text.trim())}); the tag is chosen or given apart`)
  )

/** A file name for an image's data: readable, and safe whatever characters the name holds. */
export const imageFileName = (image: Pick<ImageRef, "registry" | "repository">, extension: string): string =>
  `${encodeURIComponent(imageName(image)).replace(/%2F/g, "_")}${extension}`
