import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { formatFieldPath, parseFieldPath } from "../../src/manifest/FieldPath.ts"
import { parseManifest } from "../../src/manifest/patch.ts"
import { type FoundReference, MAX_HELM_DEPTH, scanReferences } from "../../src/manifest/scan.ts"
import { compileTarget, fieldHits } from "../../src/pipeline/plan.ts"
import { targetConfig } from "../support/config.ts"

const DIGEST = `sha256:${"a".repeat(64)}`

const image = (field: string, reference: string, img: string, line: number, document = 0): FoundReference => ({
  format: "image",
  field,
  document,
  image: img,
  reference,
  digestOnly: reference.startsWith(`${img}@`),
  line
})
const helm = (field: string, img: string, reference: string, line: number, digestOnly = false): FoundReference => ({
  format: "helm",
  field,
  document: 0,
  image: img,
  reference,
  digestOnly,
  line
})
const kustomize = (img: string, reference: string, line: number, digestOnly = false): FoundReference => ({
  format: "kustomize",
  document: 0,
  image: img,
  reference,
  digestOnly,
  line
})

const workload = (kind: string, apiVersion: string, specLines: string, indent: string): string =>
  `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n${specLines}\n${indent}containers:\n${indent}- name: app\n${indent}  image: ghcr.io/acme/api:1.2.3\n`

type Case = readonly [string, string, string, ReadonlyArray<FoundReference>]

const workloads: ReadonlyArray<Case> = [
  ["Pod", "pod.yaml", workload("Pod", "v1", "spec:", "  "), [image("spec.containers[0].image", "ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api", 8)]],
  ...["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].map((kind): Case => [
    kind,
    "w.yaml",
    workload(kind, "apps/v1", "spec:\n  template:\n    spec:", "      "),
    [image("spec.template.spec.containers[0].image", "ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api", 10)]
  ]),
  ["Job", "job.yaml", workload("Job", "batch/v1", "spec:\n  template:\n    spec:", "      "), [
    image("spec.template.spec.containers[0].image", "ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api", 10)
  ]],
  ["CronJob", "cron.yaml", workload("CronJob", "batch/v1", "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:", "          "), [
    image("spec.jobTemplate.spec.template.spec.containers[0].image", "ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api", 12)
  ]],
  ["init and ephemeral containers, and several of each", "pod.yaml",
    "apiVersion: v1\nkind: Pod\nspec:\n  initContainers:\n  - image: busybox:1.36\n  containers:\n  - image: nginx:1.25\n  - {name: side, image: 'quay.io/x/y:2'}\n  ephemeralContainers:\n  - image: debug@" + DIGEST + "\n",
    [
      image("spec.containers[0].image", "nginx:1.25", "nginx", 7),
      image("spec.containers[1].image", "quay.io/x/y:2", "quay.io/x/y", 8),
      image("spec.initContainers[0].image", "busybox:1.36", "busybox", 5),
      image("spec.ephemeralContainers[0].image", `debug@${DIGEST}`, "debug", 10)
    ]],
  ["a tag and a digest is not digest-only", "pod.yaml", `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25@${DIGEST}\n`, [
    image("spec.containers[0].image", `nginx:1.25@${DIGEST}`, "nginx", 5)
  ]],
  ["a List's items", "list.yaml",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data: {image: 'x:1'}\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    template:\n      spec:\n        containers:\n        - image: nginx:1\n",
    [image("items[1].spec.template.spec.containers[0].image", "nginx:1", "nginx", 13)]],
  ["multi-document file: every document, the same path in each", "all.yaml",
    `${workload("Deployment", "apps/v1", "spec:\n  template:\n    spec:", "      ")}---\napiVersion: v1\nkind: Service\nspec: {}\n---\n${workload("Deployment", "apps/v1", "spec:\n  template:\n    spec:", "      ").replace("1.2.3", "2.0.0")}`,
    [
      image("spec.template.spec.containers[0].image", "ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api", 10, 0),
      image("spec.template.spec.containers[0].image", "ghcr.io/acme/api:2.0.0", "ghcr.io/acme/api", 25, 2)
    ]],
  ["a Deployment without containers", "d.yaml", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec: {}\n", []],
  ["a kind that holds no pod template", "s.yaml", "apiVersion: v1\nkind: Service\nspec:\n  containers:\n  - image: nginx:1\n", []],
  ["a workload kind without apiVersion", "p.yaml", "kind: Pod\nspec:\n  containers:\n  - image: nginx:1\n", []],
  ["a kind named like an object's own property", "p.yaml", "apiVersion: v1\nkind: constructor\nspec:\n  containers:\n  - image: nginx:1\n", []],
  ["templated, empty and broken values are passed over", "p.yaml",
    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: '{{ .Values.image }}'\n  - image: ${IMAGE}\n  - image: \"\"\n  - image:\n  - image: 'nginx:{{ .Chart.AppVersion }}'\n  - image: Not An Image\n  - image: 12\n  - image: nginx:1\n",
    [image("spec.containers[7].image", "nginx:1", "nginx", 12)]]
]

const kustomizations: ReadonlyArray<Case> = [
  ["block entries: newName over name, tag and digest", "base/kustomization.yaml",
    `resources: [d.yaml]\nimages:\n- name: nginx\n  newTag: "1.25"\n- name: app\n  newName: ghcr.io/acme/api\n  newTag: 1.2.3\n  digest: ${DIGEST}\n- name: pinned\n  digest: ${DIGEST}\n- name: renamed-only\n  newName: x/y\n`,
    [kustomize("nginx", "1.25", 4), kustomize("ghcr.io/acme/api", `1.2.3@${DIGEST}`, 7), kustomize("pinned", DIGEST, 10, true)]],
  ["flow entries, and a number tag keeps its spelling", "kustomization.yml", "images: [{name: nginx, newTag: 1.10}, {name: redis, newTag: '{{ tag }}'}]\n",
    [kustomize("nginx", "1.10", 1)]],
  ["any file name with kind Kustomization", "k.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- {name: nginx, newTag: '1'}\n",
    [kustomize("nginx", "1", 4)]],
  ["a file named Kustomization without kind", "dir/Kustomization", "images:\n- {name: nginx, newTag: '1'}\n", [kustomize("nginx", "1", 2)]],
  ["images: in another file is not Kustomize's", "values.yaml", "images:\n- {name: nginx, newTag: '1'}\n", []]
]

const bitnami = `image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.3-debian-11-r0\n  digest: ""\n  pullPolicy: IfNotPresent\n`

const helmValues: ReadonlyArray<Case> = [
  ["Bitnami map with registry", "values.yaml", bitnami, [helm("image", "docker.io/bitnami/nginx", "1.25.3-debian-11-r0", 4)]],
  ["plain map, number tag", "values.yaml", "image:\n  repository: nginx\n  tag: 1.10\n", [helm("image", "nginx", "1.10", 3)]],
  ["nested and in lists", "values.yaml",
    "controller:\n  image:\n    repository: registry.k8s.io/ingress-nginx/controller\n    tag: v1.9.4\n    digest: " + DIGEST + "\nsidecars:\n- name: x\n  image: {repository: busybox, tag: '1.36'}\n",
    [
      helm("controller.image", "registry.k8s.io/ingress-nginx/controller", `v1.9.4@${DIGEST}`, 4),
      helm("sidecars[0].image", "busybox", "1.36", 8)
    ]],
  ["digest only", "values.yaml", `image: {repository: nginx, tag: "", digest: "${DIGEST}"}\n`, [helm("image", "nginx", DIGEST, 1, true)]],
  ["a key needing quotes", "values.yaml", "images:\n  example.com/api:\n    repository: acme/api\n    tag: '2'\n", [helm("images['example.com/api']", "acme/api", "2", 4)]],
  ["templated, empty, or not a map of strings", "values.yaml",
    "a: {repository: '{{ .Values.repo }}', tag: '1'}\nb: {repository: nginx, tag: '{{ .Chart.AppVersion }}'}\nc: {repository: nginx, tag: ''}\nd: {repository: nginx, tag: }\ne: {repository: nginx}\nf: {registry: '${REG}', repository: nginx, tag: '1'}\ng: {repository: [nginx], tag: '1'}\n",
    []],
  ["not in a Kubernetes manifest file", "all.yaml", `apiVersion: v1\nkind: ConfigMap\n---\n${bitnami}`, []],
  ["a map at the top of the file has no field path", "values.yaml", "repository: nginx\ntag: '1'\n", []]
]

const compose: ReadonlyArray<Case> = [
  ["services' images", "docker-compose.yaml",
    "services:\n  web:\n    image: nginx:1.25\n  api:\n    build: .\n  my.db:\n    image: postgres@" + DIGEST + "\n  cache:\n    image: ${CACHE_IMAGE}\n",
    [image("services.web.image", "nginx:1.25", "nginx", 3), image("services['my.db'].image", `postgres@${DIGEST}`, "postgres", 7)]],
  ["services that are not maps", "c.yaml", "services:\n  web:\n    image: nginx:1\n  other: [1]\n", []],
  ["a file with a kind is not compose", "c.yaml", "kind: Thing\nservices:\n  web:\n    image: nginx:1\n", []]
]

const scan = (text: string, path: string): ReadonlyArray<FoundReference> => {
  const found = scanReferences(text, path)
  if (Either.isLeft(found)) throw new Error(found.left)
  return found.right
}

/** The scalar fieldHits finds for a reference's field: the image's own, or a Helm map's tag (or digest). */
const hitFor = (text: string, ref: FoundReference) => {
  const field = ref.field ?? ""
  const segments = parseFieldPath(field)
  if (Either.isLeft(segments)) throw new Error(segments.left.message)
  const scalarField = ref.format === "helm" ? formatFieldPath([...segments.right, ref.digestOnly ? "digest" : "tag"]) : field
  expect(formatFieldPath(segments.right)).toBe(field)
  const compiled = compileTarget(targetConfig({ image: ref.image, field: scalarField }))
  const manifest = parseManifest(text)
  if (Either.isLeft(compiled) || Either.isLeft(manifest)) throw new Error("unexpected")
  const hits = fieldHits(manifest.right, compiled.right)
  if (Either.isLeft(hits)) throw new Error(hits.left.detail)
  return hits.right.find((hit) => hit.document === ref.document)
}

describe("scanReferences", () => {
  const all = [...workloads, ...kustomizations, ...helmValues, ...compose]
  test.each(all)("%s", (_, path, text, expected) => {
    expect(scan(text, path)).toEqual([...expected])
  })

  test.each(all.filter(([, , , expected]) => expected.some((ref) => ref.field !== undefined)))(
    "fields found round-trip and fieldHits finds the same scalar: %s",
    (_, path, text) => {
      for (const ref of scan(text, path).filter((r) => r.field !== undefined)) {
        const hit = hitFor(text, ref)
        expect(hit?.line).toBe(ref.line)
        expect(ref.format === "helm" ? ref.reference.startsWith(hit?.value ?? "-") : hit?.value === ref.reference).toBe(true)
      }
    }
  )

  test("a file that is not YAML is an error naming it", () => {
    expect(scanReferences("a: [1\n", "bad.yaml")).toEqual(Either.left(expect.stringContaining("bad.yaml: YAML document 1")))
  })
})

describe("hostile files finish fast", () => {
  const timed = (text: string): number => {
    const started = performance.now()
    const found = scanReferences(text, "values.yaml")
    expect(Either.isRight(found) || Either.isLeft(found)).toBe(true)
    return (performance.now() - started) / 1000
  }
  const deepMaps = (depth: number, leaf: string) => Array.from({ length: depth }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n") + ` ${leaf}\n`

  test.each([
    ["maps nested 2,000 deep", deepMaps(2_000, "{repository: nginx, tag: '1'}")],
    ["flow lists nested 100,000 deep", "[".repeat(100_000) + "]".repeat(100_000)],
    // About the 1.5 MiB a manifest may have (pipeline/sizeLimit.ts), each key a Helm map.
    ["40,000 keys in one map", Array.from({ length: 40_000 }, (_, i) => `k${i}: {repository: nginx, tag: '${i}'}`).join("\n")]
  ])("%s", (_, text) => {
    expect(timed(text)).toBeLessThan(10)
  }, 30_000)

  test(`Helm maps deeper than ${MAX_HELM_DEPTH} keys are not looked for`, () => {
    expect(scan(deepMaps(MAX_HELM_DEPTH, "{repository: nginx, tag: '1'}"), "values.yaml")).toHaveLength(1)
    expect(scan(deepMaps(MAX_HELM_DEPTH + 1, "{repository: nginx, tag: '1'}"), "values.yaml")).toEqual([])
  })
})
