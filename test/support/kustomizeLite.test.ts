/**
 * kustomizeLite: the merge, images and replacements rules as `kubectl kustomize` (kustomize v5.5)
 * applies them to the same files (its output taken as the expected value here), and a refusal of
 * whatever it does not implement.
 */
import { describe, expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { byKindAndName, kustomizeLite } from "./kustomizeLite.ts"
import { tempDir } from "./tempDirs.ts"

const dirWith = (files: Record<string, string>) => {
  const dir = tempDir("runner-kustomize-")
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const resources = `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, labels: {x: y}}
spec:
  selector: {matchLabels: {x: y}}
  template:
    spec:
      containers:
        - name: a
          image: foo:1
          ports: [{containerPort: 1, name: one}, {containerPort: 2, name: two}]
          volumeMounts: [{name: v, mountPath: /a}, {name: w, mountPath: /b}]
          args: [x, y]
        - name: b
          image: foo@sha256:abc
      volumes: [{name: a, emptyDir: {}}, {name: b, secret: {secretName: old, defaultMode: 0400}}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {selector: {}}
`
const patch = `apiVersion: apps/v1
kind: Deployment
metadata: {name: any}
spec:
  template:
    spec:
      containers:
        - name: c
          image: reg:5000/foo
        - name: a
          ports: [{containerPort: 2, name: deux}]
          volumeMounts: [{name: z, mountPath: /b}]
          args: [z]
          image: null
      volumes: [{name: c, secret: {secretName: new}}]
`
const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [r.yaml]
patches:
  - path: p.yaml
    target: {kind: Deployment, labelSelector: "x=y"}
images:
  - name: foo
    newName: example.com/foo
    newTag: "2"
replacements:
  - source: {kind: Deployment, fieldPath: "spec.template.spec.volumes.[name=b].secret.secretName"}
    targets:
      - select: {kind: Deployment}
        fieldPaths: ["spec.template.spec.volumes.[name=c].secret.secretName"]
  - source: {kind: Deployment, fieldPath: spec.selector.matchLabels}
    targets:
      - select: {kind: Service, name: s}
        fieldPaths: [spec.selector]
`

test("patches, images and replacements as kubectl kustomize renders them", () => {
  expect(byKindAndName(kustomizeLite(dirWith({ "kustomization.yaml": kustomization, "r.yaml": resources, "p.yaml": patch })))).toStrictEqual([
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { labels: { x: "y" }, name: "d" },
      spec: {
        selector: { matchLabels: { x: "y" } },
        template: {
          spec: {
            // The patch's list elements first, merged by their key (name, containerPort, mountPath), then the others;
            // null deletes; args, a list without a merge key, is replaced; images by name, tag or digest.
            containers: [
              { name: "c", image: "reg:5000/foo" },
              { name: "a", args: ["z"], ports: [{ containerPort: 2, name: "deux" }, { containerPort: 1, name: "one" }], volumeMounts: [{ mountPath: "/b", name: "z" }, { mountPath: "/a", name: "v" }] },
              { name: "b", image: "example.com/foo:2" }
            ],
            volumes: [
              { name: "c", secret: { secretName: "old" } },
              { name: "a", emptyDir: {} },
              { name: "b", secret: { defaultMode: 0o400, secretName: "old" } }
            ]
          }
        }
      }
    },
    { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { selector: { x: "y" } } }
  ])
})

describe("refused, so that a kustomization needing more cannot pass unrendered", () => {
  test.each([
    ["a transformer it does not implement", kustomization.replace("resources:", "namePrefix: x-\nresources:"), /namePrefix/],
    ["an inline patch", kustomization.replace("  - path: p.yaml\n", "  - patch: '{}'\n"), /path|patch/],
    ["a patch target by name", kustomization.replace('labelSelector: "x=y"', 'labelSelector: "x=y", name: d'), /name/],
    ["a patch of a kind other than Deployment", kustomization.replace("target: {kind: Deployment", "target: {kind: Service"), /Deployment/],
    ["a set-based label selector", kustomization.replace('"x=y"', '"x in (y)"'), /label selector/],
    ["a patch matching nothing", kustomization.replace('"x=y"', '"x=z"'), /matches no resource/],
    ["an image digest", kustomization.replace('newTag: "2"', "digest: sha256:abc"), /digest/],
    ["replacement options", kustomization.replace("fieldPaths: [spec.selector]", "fieldPaths: [spec.selector]\n        options: {create: true}"), /options/],
    ["a missing target field", kustomization.replace("[name=c].secret.secretName", "[name=c].secret.items"), /no field/],
    ["a field path index", kustomization.replace("[name=b].secret.secretName", "1.secret.secretName"), /no field/],
    ["a remote resource", kustomization.replace("resources: [r.yaml]", "resources: [r.yaml, 'https://example.com/x.yaml']"), /inside the directory/],
    ["a nested kustomization", kustomization.replace("resources: [r.yaml]", "resources: [r.yaml, base]"), /ENOENT|not a file/]
  ])("%s", (_, text, message) => {
    expect(() => kustomizeLite(dirWith({ "kustomization.yaml": text, "r.yaml": resources, "p.yaml": patch }))).toThrow(message)
  })

  test.each([
    ["$patch: delete", patch.replace("- name: c\n", "- name: c\n          $patch: delete\n")],
    ["$setElementOrder", patch.replace("      volumes:", "      $setElementOrder/volumes: [{name: c}]\n      volumes:")],
    ["two patches in one file", `${patch}---\n${patch}`],
    ["a JSON 6902 patch", "- {op: remove, path: /spec/selector}\n"]
  ])("a patch file with %s", (_, text) => {
    expect(() => kustomizeLite(dirWith({ "kustomization.yaml": kustomization, "r.yaml": resources, "p.yaml": text }))).toThrow(/patch/)
  })
})
