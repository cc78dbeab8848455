import { Either } from "effect"
import { isMap, isSeq, type YAMLMap } from "yaml"
import { digestPattern, isValidTag, parseImageName, parseImageRef } from "../domain/ImageRef.ts"
import { formatFieldPath, parseFieldPath } from "./FieldPath.ts"
import { type Manifest, parseManifest } from "./patch.ts"
import {
  isTemplated,
  lineOf,
  mapAt,
  type Path,
  type ScalarText,
  scalarText,
  type ScanContext,
  stringAt,
  valueAt
} from "./scanNodes.ts"

/** An image reference found in a file, as discovery turns it into a target. */
export interface FoundReference {
  /** How a target writes it: a whole reference in a scalar, a Kustomize images: entry, a Helm values map. */
  readonly format: "image" | "kustomize" | "helm"
  /** The field path as targets write it (`spec.template.spec.containers[0].image`, `controller.image`); none for kustomize. */
  readonly field?: string
  /** The document of the file it is in, 0-based. A target's field is looked for in every document. */
  readonly document: number
  /** The image as written, without tag or digest (`ghcr.io/acme/api`, `nginx`). */
  readonly image: string
  /** The value as written (`ghcr.io/acme/api:1.2.3`), or for helm and kustomize the tag (`tag@digest`, or the digest alone). */
  readonly reference: string
  /** Pinned only by digest (no tag): discovery leaves these alone unless a target says format: digest. */
  readonly digestOnly: boolean
  /** The 1-based line of the value, for reports. */
  readonly line: number
}

/**
 * How deep into a values file Helm image maps are looked for. Real values files nest a map a few
 * levels deep; the cap bounds the walk of a hostile file (the parser already refuses nesting deep
 * enough to overflow its own stack, a few thousand levels).
 */
export const MAX_HELM_DEPTH = 64

/** Kinds whose pod template holds containers, and where the pod spec is. */
const POD_SPECS: ReadonlyMap<string, ReadonlyArray<string>> = new Map<string, ReadonlyArray<string>>([
  ["Pod", ["spec"]],
  ...["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].map((kind): [string, ReadonlyArray<string>] => [kind, ["spec", "template", "spec"]]),
  ["CronJob", ["spec", "jobTemplate", "spec", "template", "spec"]]
])
const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const
const KUSTOMIZATION_FILES = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization"])

/**
 * The image references a YAML file holds: Kubernetes workloads' containers, Kustomize `images:`,
 * Helm values image maps and docker-compose services. Values that are templated, empty or not
 * image references are passed over; a file that is not YAML is the one failure.
 */
export const scanReferences = (text: string, path: string): Either.Either<ReadonlyArray<FoundReference>, string> =>
  parseManifest(text).pipe(
    Either.mapLeft((e) => `${path}: ${e.message}`),
    Either.map((manifest) => scanManifest(manifest, path))
  )

/** `scanReferences` on a file already parsed. */
export const scanManifest = ({ documents, lines, text }: Manifest, path: string): ReadonlyArray<FoundReference> => {
  const isKubernetes = (root: unknown) => stringAt(text, root, "kind") !== undefined && stringAt(text, root, "apiVersion") !== undefined
  const kustomizationFile = KUSTOMIZATION_FILES.has(path.split("/").pop() ?? "")
  const manifestFile = documents.some((doc) => isKubernetes(doc.contents))
  const found: Array<FoundReference> = []
  for (const [document, doc] of documents.entries()) {
    const ctx: ScanContext = { document, lines, text }
    const root = doc.contents
    if (!isMap(root)) continue
    const kind = stringAt(text, root, "kind")
    if (kustomizationFile || kind === "Kustomization") found.push(...kustomizeImages(ctx, root))
    else if (isKubernetes(root)) found.push(...workloadImages(ctx, root, []))
    else {
      if (!manifestFile) found.push(...helmImages(ctx, root))
      if (kind === undefined) found.push(...composeImages(ctx, root))
    }
  }
  return found
}

/** A field path a target can name, or none (a key that cannot be written, such as the empty key). */
const fieldOf = (path: Path): string | undefined => {
  if (path.length === 0) return undefined
  const field = formatFieldPath(path)
  return Either.isRight(parseFieldPath(field)) ? field : undefined
}

/** A scalar holding a whole image reference (`ghcr.io/acme/api:1.2.3`). */
const imageAt = (ctx: ScanContext, node: unknown, path: Path): ReadonlyArray<FoundReference> => {
  const value = scalarText(ctx.text, node)
  const field = fieldOf(path)
  if (value === undefined || field === undefined || !value.isString || value.text === "" || isTemplated(value.text)) return []
  const ref = parseImageRef(value.text)
  if (Either.isLeft(ref)) return []
  const { tag, digest, written } = ref.right
  return [{
    format: "image",
    field,
    document: ctx.document,
    image: written,
    reference: value.text,
    digestOnly: tag === undefined && digest !== undefined,
    line: lineOf(ctx, value.start)
  }]
}

/** Containers of a workload, or of each workload in a `kind: List`. */
const workloadImages = (ctx: ScanContext, root: YAMLMap, prefix: Path): ReadonlyArray<FoundReference> => {
  const kind = stringAt(ctx.text, root, "kind")
  if (kind === undefined || stringAt(ctx.text, root, "apiVersion") === undefined) return []
  if (kind === "List" && prefix.length === 0) {
    const items = valueAt(ctx.text, root, "items")
    if (!isSeq(items)) return []
    return items.items.flatMap((item, i) => (isMap(item) ? workloadImages(ctx, item, ["items", i]) : []))
  }
  const specPath = POD_SPECS.get(kind)
  const spec = specPath === undefined ? undefined : mapAt(ctx.text, root, specPath)
  if (specPath === undefined || spec === undefined) return []
  return CONTAINER_LISTS.flatMap((list) => {
    const containers = valueAt(ctx.text, spec, list)
    if (!isSeq(containers)) return []
    return containers.items.flatMap((container, i) =>
      imageAt(ctx, valueAt(ctx.text, container, "image"), [...prefix, ...specPath, list, i, "image"])
    )
  })
}

/** docker-compose `services.<name>.image`, in a file whose `services` is a map of maps. */
const composeImages = (ctx: ScanContext, root: YAMLMap): ReadonlyArray<FoundReference> => {
  const services = valueAt(ctx.text, root, "services")
  if (!isMap(services) || !services.items.every((pair) => isMap(pair.value))) return []
  return services.items.flatMap((pair) => {
    const name = scalarText(ctx.text, pair.key)
    return name === undefined ? [] : imageAt(ctx, valueAt(ctx.text, pair.value, "image"), ["services", name.text, "image"])
  })
}

/**
 * A tag and digest as Kustomize and Helm write them apart: `tag`, `tag@digest` or the digest
 * alone, or nothing when both are empty or either is templated or malformed.
 */
const tagAndDigest = (
  ctx: ScanContext,
  tag: ScalarText | undefined,
  digest: ScalarText | undefined
): Pick<FoundReference, "reference" | "digestOnly" | "line"> | undefined => {
  const tagText = tag?.text ?? ""
  const digestText = digest?.isString === true ? digest.text : ""
  if ((tagText !== "" && !isValidTag(tagText)) || (digestText !== "" && !digestPattern.test(digestText))) return undefined
  const at = tagText !== "" ? tag : digestText !== "" ? digest : undefined
  if (at === undefined) return undefined
  const reference = tagText === "" ? digestText : digestText === "" ? tagText : `${tagText}@${digestText}`
  return { reference, digestOnly: tagText === "", line: lineOf(ctx, at.start) }
}

/** A name written as an image without tag or digest, and not templated. */
const imageName = (name: string | undefined): string | undefined =>
  name !== undefined && !isTemplated(name) && Either.isRight(parseImageName(name)) ? name : undefined

/** Kustomize `images:` entries: the image is `newName`, else `name`; the reference is `newTag` and `digest`. */
const kustomizeImages = (ctx: ScanContext, root: YAMLMap): ReadonlyArray<FoundReference> => {
  const images = valueAt(ctx.text, root, "images")
  if (!isSeq(images)) return []
  return images.items.flatMap((entry) => {
    const image = imageName(stringAt(ctx.text, entry, "newName") ?? stringAt(ctx.text, entry, "name"))
    const pinned = tagAndDigest(
      ctx,
      scalarText(ctx.text, valueAt(ctx.text, entry, "newTag")),
      scalarText(ctx.text, valueAt(ctx.text, entry, "digest"))
    )
    return image === undefined || pinned === undefined ? [] : [{ format: "kustomize" as const, document: ctx.document, image, ...pinned }]
  })
}

/** A Helm values image map: `repository` and `tag`, with `registry` and `digest` when set. */
const helmMap = (ctx: ScanContext, map: YAMLMap, path: Path): FoundReference | undefined => {
  const repository = stringAt(ctx.text, map, "repository")
  const tag = scalarText(ctx.text, valueAt(ctx.text, map, "tag"))
  const field = fieldOf(path)
  if (repository === undefined || tag === undefined || field === undefined || (tag.text === "" && !tag.isString)) return undefined
  const registry = stringAt(ctx.text, map, "registry")
  const image = imageName(registry === undefined ? repository : `${registry}/${repository}`)
  const pinned = tagAndDigest(ctx, tag, scalarText(ctx.text, valueAt(ctx.text, map, "digest")))
  return image === undefined || pinned === undefined ? undefined : { format: "helm", field, document: ctx.document, image, ...pinned }
}

/** Every Helm image map in a values file, at most MAX_HELM_DEPTH keys and indexes deep. */
const helmImages = (ctx: ScanContext, root: YAMLMap): ReadonlyArray<FoundReference> => {
  const found: Array<FoundReference> = []
  const walk = (node: unknown, path: Path): void => {
    if (path.length > MAX_HELM_DEPTH) return
    if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]))
      return
    }
    if (!isMap(node)) return
    const here = helmMap(ctx, node, path)
    if (here !== undefined) {
      found.push(here)
      return
    }
    for (const pair of node.items) {
      const key = scalarText(ctx.text, pair.key)
      if (key !== undefined && (isMap(pair.value) || isSeq(pair.value))) walk(pair.value, [...path, key.text])
    }
  }
  walk(root, [])
  return found
}
