/**
 * The few Kustomization features deploy/kubernetes/piped-chart/ uses, rendered without kubectl
 * (which Debian does not package, so CI has none): local `resources`, strategic-merge `patches` of
 * Deployments found by label, `images` and `replacements`. Anything else in a kustomization.yaml
 * or a patch file is refused, so an edit that needs more fails here instead of passing
 * unrendered; where kubectl exists, test/cli/pipedChart.test.ts checks this output against
 * `kubectl kustomize`'s.
 */
import { Schema } from "effect"
import { readFileSync, statSync } from "node:fs"
import { isAbsolute, join, normalize } from "node:path"
import { parseAllDocuments } from "yaml"

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v)

const Select = Schema.Struct({ kind: Schema.String, name: Schema.optional(Schema.String) })
const Kustomization = Schema.Struct({
  apiVersion: Schema.Literal("kustomize.config.k8s.io/v1beta1"),
  kind: Schema.Literal("Kustomization"),
  resources: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  patches: Schema.optionalWith(
    Schema.Array(Schema.Struct({ path: Schema.String, target: Schema.Struct({ kind: Schema.Literal("Deployment"), labelSelector: Schema.String }) })),
    { default: () => [] }
  ),
  images: Schema.optionalWith(
    Schema.Array(Schema.Struct({ name: Schema.String, newName: Schema.optional(Schema.String), newTag: Schema.optional(Schema.String) })),
    { default: () => [] }
  ),
  replacements: Schema.optionalWith(
    Schema.Array(
      Schema.Struct({
        source: Schema.Struct({ ...Select.fields, fieldPath: Schema.String }),
        targets: Schema.Array(Schema.Struct({ select: Select, fieldPaths: Schema.Array(Schema.String) }))
      })
    ),
    { default: () => [] }
  )
})
type Kustomization = typeof Kustomization.Type

/** YAML as Kubernetes' Go parser reads it: 1.2, but a 0-led integer (defaultMode: 0400) is octal. */
const octal = { identify: (v: unknown) => typeof v === "number", default: true, tag: "tag:yaml.org,2002:int", test: /^0[0-7]+$/, resolve: (s: string) => parseInt(s, 8) }
const parseDocs = (text: string, file: string): Array<unknown> =>
  parseAllDocuments(text, { customTags: (tags) => [octal, ...tags] }).flatMap((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("; ")}`)
    const value: unknown = d.toJS()
    return value === null ? [] : [value]
  })

/** A file of the kustomization's directory: local, inside it, not a directory (no remote or nested bases). */
const readLocal = (dir: string, path: string) => {
  if (isAbsolute(path) || normalize(path).startsWith("..") || path.includes("://")) throw new Error(`kustomizeLite: ${path}: only files inside the directory`)
  const file = join(dir, path)
  if (!statSync(file).isFile()) throw new Error(`kustomizeLite: ${path}: not a file (nested kustomizations are not supported)`)
  return readFileSync(file, "utf8")
}

type Resource = { readonly kind?: unknown; readonly metadata?: unknown }
const metadataOf = (o: Resource): Obj => (isObj(o.metadata) ? o.metadata : {})
const idOf = (o: Resource) => `${String(o["kind"])}/${String(metadataOf(o)["name"])}`

const resourcesOf = (dir: string, k: Kustomization): Array<Obj> => {
  const docs = k.resources.flatMap((path) =>
    parseDocs(readLocal(dir, path), path).map((d) => {
      if (!isObj(d) || typeof d["kind"] !== "string" || typeof metadataOf(d)["name"] !== "string") throw new Error(`kustomizeLite: ${path}: a document without kind or metadata.name`)
      return d
    })
  )
  const ids = docs.map(idOf)
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i)
  if (twice.length > 0) throw new Error(`kustomizeLite: resources given twice: ${twice.join(", ")}`)
  return docs
}

/** `a=b,c==d`: equality only, as this directory's patches use. */
const labelsMatch = (selector: string, o: Obj) => {
  const { labels: found } = metadataOf(o)
  const labels = isObj(found) ? found : {}
  return selector.split(",").every((term) => {
    const m = /^\s*([\w./-]+)\s*==?\s*([\w.-]*)\s*$/.exec(term)
    if (m === null) throw new Error(`kustomizeLite: label selector term not supported: ${term}`)
    return labels[m[1] ?? ""] === m[2]
  })
}

/** The strategic merge keys of the lists a pod template's patch merges (Kubernetes' patchMergeKey); other lists are replaced. */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort"
}

const refuseDirectives = (v: unknown, at: string): void => {
  if (Array.isArray(v)) v.forEach((e, i) => refuseDirectives(e, `${at}[${i}]`))
  else if (isObj(v))
    for (const [k, e] of Object.entries(v)) {
      if (k.startsWith("$")) throw new Error(`kustomizeLite: ${at}.${k}: patch directives are not supported`)
      refuseDirectives(e, `${at}.${k}`)
    }
}

const mergeList = (base: ReadonlyArray<unknown>, patch: ReadonlyArray<unknown>, key: string): Array<unknown> => {
  const keyOf = (e: unknown, side: string) => {
    if (!isObj(e) || e[key] === undefined) throw new Error(`kustomizeLite: a ${side} list element without its merge key ${key}`)
    return e[key]
  }
  const patchKeys = patch.map((e) => keyOf(e, "patch"))
  // kustomize's order: the patch's elements first (merged into the base's of the same key), then the base's others.
  const merged = patch.map((e) => {
    const same = base.find((b) => isObj(b) && b[key] === keyOf(e, "patch"))
    return same === undefined ? structuredClone(e) : merge(same, e)
  })
  return [...merged, ...base.filter((b) => !patchKeys.includes(keyOf(b, "base")))]
}

/** A strategic merge patch: maps merge key by key (null deletes), lists of MERGE_KEYS merge by their key, anything else is replaced. */
const merge = (base: unknown, patch: unknown, field?: string): unknown => {
  if (isObj(patch) && isObj(base)) return mergeMaps(base, patch)
  const key = field === undefined ? undefined : MERGE_KEYS[field]
  if (Array.isArray(patch) && Array.isArray(base) && key !== undefined) return mergeList(base, patch, key)
  return structuredClone(patch)
}

const mergeMaps = (base: Obj, patch: Obj): Obj => {
  const out: Obj = { ...base }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = k in base ? merge(base[k], v, k) : structuredClone(v)
  }
  return out
}

const applyPatches = (dir: string, k: Kustomization, resources: Array<Obj>): Array<Obj> =>
  k.patches.reduce((docs, { path, target }) => {
    const patches = parseDocs(readLocal(dir, path), path)
    const [patch] = patches
    if (patches.length !== 1 || !isObj(patch)) throw new Error(`kustomizeLite: ${path}: one strategic merge patch (a map) per file`)
    refuseDirectives(patch, path)
    // The target names the resource: the patch's own kind and name are not looked at.
    const { apiVersion: _v, kind: _k, metadata, ...rest } = patch
    const { name: _n, ...meta } = isObj(metadata) ? metadata : {}
    const body = Object.keys(meta).length > 0 ? { ...rest, metadata: meta } : rest
    const hits = docs.filter((d) => d["kind"] === target.kind && labelsMatch(target.labelSelector, d))
    if (hits.length === 0) throw new Error(`kustomizeLite: ${path}: its target matches no resource`)
    return docs.map((d) => (hits.includes(d) ? mergeMaps(d, body) : d))
  }, resources)

const splitImage = (image: string) => {
  const at = image.indexOf("@")
  const colon = image.lastIndexOf(":")
  const cut = at >= 0 ? at : colon > image.lastIndexOf("/") ? colon : image.length
  return { name: image.slice(0, cut), ref: image.slice(cut) }
}

/** `images:` on every container and init container, wherever they are in a resource. */
const setImages = (k: Kustomization, v: unknown): unknown => (Array.isArray(v) ? v.map((e) => setImages(k, e)) : isObj(v) ? setImagesOf(k, v) : v)
const setImagesOf = (k: Kustomization, v: Obj): Obj => {
  const out: Obj = Object.fromEntries(Object.entries(v).map(([key, e]) => [key, setImages(k, e)]))
  for (const field of ["containers", "initContainers"]) {
    const list = out[field]
    if (!Array.isArray(list)) continue
    out[field] = list.map((c: unknown) => {
      if (!isObj(c) || typeof c["image"] !== "string") return c
      const { name, ref } = splitImage(c["image"])
      const entry = k.images.find((i) => i.name === name)
      return entry === undefined ? c : { ...c, image: `${entry.newName ?? name}${entry.newTag === undefined ? ref : `:${entry.newTag}`}` }
    })
  }
  return out
}

type Segment = { readonly key: string } | { readonly where: string; readonly is: string }
/** `a.b.[name=x].c`: map keys and the `[key=value]` list selector, nothing else. */
const segmentsOf = (fieldPath: string): ReadonlyArray<Segment> =>
  (fieldPath.match(/\[[^\]]*\]|[^.]+/g) ?? []).map((s) => {
    const sel = /^\[([\w.-]+)=([^\]]+)\]$/.exec(s)
    if (sel !== null) return { where: sel[1] ?? "", is: sel[2] ?? "" }
    if (!/^[\w-]+$/.test(s)) throw new Error(`kustomizeLite: field path segment not supported: ${s} in ${fieldPath}`)
    return { key: s }
  })

/** The node at `fieldPath`, with a setter for it; a missing field throws, as kustomize does without `options.create`. */
const locate = (root: Obj, fieldPath: string) => {
  const missing = () => new Error(`kustomizeLite: no field ${fieldPath} in ${idOf(root)}`)
  let node: unknown = root
  let set: ((v: unknown) => void) | undefined
  for (const s of segmentsOf(fieldPath)) {
    const parent = node
    if ("key" in s) {
      if (!isObj(parent) || !(s.key in parent)) throw missing()
      node = parent[s.key]
      set = (v) => (parent[s.key] = v)
    } else {
      const list = Array.isArray(parent) ? parent : []
      const i = list.findIndex((e: unknown) => isObj(e) && e[s.where] === s.is)
      if (i < 0) throw missing()
      node = list[i]
      set = (v) => (list[i] = v)
    }
  }
  if (set === undefined) throw missing()
  return { value: node, set }
}

const selected = (docs: ReadonlyArray<Obj>, select: typeof Select.Type) =>
  docs.filter((d) => d["kind"] === select.kind && (select.name === undefined || metadataOf(d)["name"] === select.name))

const applyReplacements = (k: Kustomization, resources: Array<Obj>): Array<Obj> => {
  const docs = structuredClone(resources)
  for (const { source, targets } of k.replacements) {
    const sources = selected(docs, source)
    const [from] = sources
    if (sources.length !== 1 || from === undefined) throw new Error(`kustomizeLite: replacement source ${source.kind}/${source.name ?? "*"} matches ${sources.length} resources`)
    const value = locate(from, source.fieldPath).value
    for (const { select, fieldPaths } of targets) {
      const hits = selected(docs, select)
      if (hits.length === 0) throw new Error(`kustomizeLite: replacement target ${select.kind}/${select.name ?? "*"} matches no resource`)
      for (const d of hits) for (const path of fieldPaths) locate(d, path).set(structuredClone(value))
    }
  }
  return docs
}

/** What `kubectl kustomize dir` gives, as objects (in the resources' order; kustomize sorts by kind). */
export const kustomizeLite = (dir: string): Array<Obj> => {
  const k = Schema.decodeUnknownSync(Kustomization, { onExcessProperty: "error" })(parseDocs(readLocal(dir, "kustomization.yaml"), "kustomization.yaml")[0])
  const patched = applyPatches(dir, k, resourcesOf(dir, k))
  return applyReplacements(k, patched.map((d) => setImagesOf(k, d)))
}

/** Objects in one order (kind, then name), so two renderers' outputs compare whatever their document order. */
export const byKindAndName = <T extends Resource>(docs: ReadonlyArray<T>): Array<T> => [...docs].sort((a, b) => idOf(a).localeCompare(idOf(b)))
