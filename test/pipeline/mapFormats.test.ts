import { expectPlan, planOn } from "../support/planExpect.ts"
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { DEFAULT_EXCLUDE_TAGS, helmField, kustomizeField, type Target } from "../../src/domain/Target.ts"
import { targetConfig } from "../support/config.ts"

const A = `sha256:${"a".repeat(64)}`
const B = `sha256:${"b".repeat(64)}`

const kustomize = (image: string): Partial<Target> => ({ image, format: "kustomize", field: kustomizeField(image) })
const helm = (image: string, map = "image"): Partial<Target> => ({ image, format: "helm", field: helmField(map) })

interface Case {
  readonly name: string
  readonly text: string
  readonly target: Partial<Target>
  readonly tags: ReadonlyArray<string | { tag: string; digest: string }>
  /** A gate pins the verified digest. */
  readonly pin?: boolean
  /** The patched text, or `error: <substring>`, or `same` for nothing to do. */
  readonly expect: string
}

const kustomizeCases: ReadonlyArray<Case> = [
  {
    name: "block entry by name",
    text: "images:\n  - name: redis\n    newTag: 6.0.0\n  - name: nginx\n    newTag: 1.0.0 # web\n",
    target: kustomize("nginx"),
    tags: ["1.0.0", "1.0.1"],
    expect: "images:\n  - name: redis\n    newTag: 6.0.0\n  - name: nginx\n    newTag: 1.0.1 # web\n"
  },
  {
    name: "newName wins over name",
    text: "images:\n  - name: nginx\n    newName: registry.example.com/web\n    newTag: 1.0.0\n",
    target: kustomize("registry.example.com/web"),
    tags: ["1.0.1"],
    expect: "images:\n  - name: nginx\n    newName: registry.example.com/web\n    newTag: 1.0.1\n"
  },
  {
    name: "name is not matched when newName replaces it",
    text: "images:\n  - name: nginx\n    newName: registry.example.com/web\n    newTag: 1.0.0\n",
    target: kustomize("nginx"),
    tags: ["1.0.1"],
    expect: "error: no images: entry of nginx in f.yaml (by newName, else name): it has nginx (newName registry.example.com/web)"
  },
  {
    name: "docker normalisation",
    text: "images:\n- name: docker.io/library/nginx\n  newTag: 1.0.0\n",
    target: kustomize("nginx"),
    tags: ["1.0.1"],
    expect: "images:\n- name: docker.io/library/nginx\n  newTag: 1.0.1\n"
  },
  {
    name: "no matching entry names the entries",
    text: "images:\n  - name: redis\n    newTag: 6.0.0\n  - {name: app, newName: gcr.io/org/app}\n",
    target: kustomize("nginx"),
    tags: ["1.0.1"],
    expect: "error: no images: entry of nginx in f.yaml (by newName, else name): it has redis, app (newName gcr.io/org/app)"
  },
  {
    name: "no images at all",
    text: "resources:\n  - deployment.yaml\n",
    target: kustomize("nginx"),
    tags: ["1.0.1"],
    expect: "error: it has none"
  },
  {
    name: "flow entry",
    text: "images:\n  - {name: redis, newTag: 6.0.0}\n  - {name: nginx, newTag: 1.0.0}\n",
    target: kustomize("nginx"),
    tags: ["1.0.1"],
    expect: "images:\n  - {name: redis, newTag: 6.0.0}\n  - {name: nginx, newTag: 1.0.1}\n"
  },
  {
    name: "newTag inserted in a block entry, after its last key",
    text: "images:\n  - name: nginx\n    newName: mirror.example.com/nginx # mirrored\n  - name: redis\n",
    target: kustomize("mirror.example.com/nginx"),
    tags: ["1.2.3"],
    expect: "images:\n  - name: nginx\n    newName: mirror.example.com/nginx # mirrored\n    newTag: 1.2.3\n  - name: redis\n"
  },
  {
    name: "newTag inserted in a flow entry, before its brace",
    text: "images:\n  - { name: nginx, newName: mirror.example.com/nginx }\n",
    target: kustomize("mirror.example.com/nginx"),
    tags: ["1.2.3"],
    expect: "images:\n  - { name: nginx, newName: mirror.example.com/nginx, newTag: 1.2.3 }\n"
  },
  {
    name: "inserted tag quoted when it would read as a number",
    text: "images:\n  - name: nginx\n",
    target: kustomize("nginx"),
    tags: ["1.10"],
    expect: 'images:\n  - name: nginx\n    newTag: "1.10"\n'
  },
  {
    name: "inserted tag quoted as the entry quotes its values",
    text: "images:\n- name: 'nginx'\n",
    target: kustomize("nginx"),
    tags: ["1.2.3"],
    expect: "images:\n- name: 'nginx'\n  newTag: '1.2.3'\n"
  },
  {
    name: "inserted in a file of CRLF lines, last line unterminated",
    text: "images:\r\n  - name: redis\r\n  - name: nginx",
    target: kustomize("nginx"),
    tags: ["1.2.3"],
    expect: "images:\r\n  - name: redis\r\n  - name: nginx\n    newTag: 1.2.3"
  },
  {
    name: "CRLF line breaks kept by an insertion",
    text: "images:\r\n  - name: nginx\r\n  - name: redis\r\n",
    target: kustomize("nginx"),
    tags: ["1.2.3"],
    expect: "images:\r\n  - name: nginx\r\n    newTag: 1.2.3\r\n  - name: redis\r\n"
  },
  {
    name: "digest-pinned entry: tag and digest move together",
    text: `images:\n  - name: nginx\n    newTag: 1.0.0\n    digest: ${A}\n`,
    target: kustomize("nginx"),
    tags: [{ tag: "1.0.1", digest: B }],
    expect: `images:\n  - name: nginx\n    newTag: 1.0.1\n    digest: ${B}\n`
  },
  {
    name: "digest-pinned entry up to date",
    text: `images:\n  - name: nginx\n    newTag: 1.0.1\n    digest: ${B}\n`,
    target: kustomize("nginx"),
    tags: [{ tag: "1.0.1", digest: B }],
    expect: "same"
  },
  {
    name: "digest-pinned entry: unknown digest asked for",
    text: `images:\n  - name: nginx\n    newTag: 1.0.0\n    digest: ${A}\n`,
    target: kustomize("nginx"),
    tags: ["1.0.1"],
    expect: "needs digest 1.0.1"
  },
  {
    name: "a pinning gate writes the digest the entry holds",
    text: 'images:\n  - name: nginx\n    newTag: 1.0.0\n    digest: ""\n',
    target: kustomize("nginx"),
    tags: [{ tag: "1.0.1", digest: B }],
    pin: true,
    expect: `images:\n  - name: nginx\n    newTag: 1.0.1\n    digest: "${B}"\n`
  },
  {
    name: "a pinning gate and an entry without digest",
    text: "images:\n  - name: nginx\n    newTag: 1.0.0\n",
    target: kustomize("nginx"),
    tags: [{ tag: "1.0.1", digest: B }],
    pin: true,
    expect: "error: has no digest key to hold it"
  }
]

const helmCases: ReadonlyArray<Case> = [
  {
    name: "Bitnami's registry and repository",
    text: "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.0 # pinned\n  pullPolicy: IfNotPresent\n",
    target: helm("bitnami/nginx"),
    tags: ["1.25.0", "1.25.1"],
    expect: "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.1 # pinned\n  pullPolicy: IfNotPresent\n"
  },
  {
    name: "repository alone, nested map",
    text: 'controller:\n  image:\n    repository: ghcr.io/org/app\n    tag: "1.0.0"\n',
    target: helm("ghcr.io/org/app", "controller.image"),
    tags: ["1.0.1"],
    expect: 'controller:\n  image:\n    repository: ghcr.io/org/app\n    tag: "1.0.1"\n'
  },
  {
    name: "docker normalisation of a short repository",
    text: "image: {repository: nginx, tag: 1.0.0}\n",
    target: helm("docker.io/library/nginx"),
    tags: ["1.0.1"],
    expect: "image: {repository: nginx, tag: 1.0.1}\n"
  },
  {
    name: "another image is refused",
    text: "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.0.0\n",
    target: helm("bitnami/nginx"),
    tags: ["7.0.1"],
    expect: "error: line 2: the field holds docker.io/bitnami/redis, not the watched image bitnami/nginx"
  },
  {
    name: "a tag that reads as a number is written quoted",
    text: "image:\n  repository: ghcr.io/org/app\n  tag: 1.9\n",
    target: helm("ghcr.io/org/app"),
    tags: ["1.9", "1.10"],
    expect: 'image:\n  repository: ghcr.io/org/app\n  tag: "1.10"\n'
  },
  {
    name: "digest beside the tag",
    text: `image:\n  repository: ghcr.io/org/app\n  tag: 1.0.0\n  digest: ${A}\n`,
    target: helm("ghcr.io/org/app"),
    tags: [{ tag: "1.0.1", digest: B }],
    expect: `image:\n  repository: ghcr.io/org/app\n  tag: 1.0.1\n  digest: ${B}\n`
  },
  {
    name: "no tag in the map: not added",
    text: "image:\n  repository: ghcr.io/org/app\n",
    target: helm("ghcr.io/org/app"),
    tags: ["1.0.1"],
    expect: "error: the map of ghcr.io/org/app has no tag; one is not added"
  },
  {
    name: "no repository in the map",
    text: "image:\n  tag: 1.0.0\n",
    target: helm("ghcr.io/org/app"),
    tags: ["1.0.1"],
    expect: "error: line 2: the map has no repository"
  },
  {
    name: "the field is a scalar, not a map",
    text: "image: ghcr.io/org/app:1.0.0\n",
    target: helm("ghcr.io/org/app"),
    tags: ["1.0.1"],
    expect: "error: image in YAML document 1 is a scalar value, not a map"
  },
  {
    name: "the map is missing",
    text: "other: {}\n",
    target: helm("ghcr.io/org/app"),
    tags: ["1.0.1"],
    expect: "error: field image.tag not found"
  }
]

const run = (c: Case) =>
  planOn(
    targetConfig({ provider: "p", filePath: "f.yaml", policy: { _tag: "semver", range: "*" }, excludeTags: DEFAULT_EXCLUDE_TAGS, ...c.target }),
    c.text,
    c.tags.map((x) => (typeof x === "string" ? { tag: x } : x)),
    c.pin === true
  )

const check = (c: Case) => expectPlan(c.text, run(c), c.expect)

describe("format: kustomize", () => {
  test.each(kustomizeCases.map((c) => [c.name, c] as const))("%s", (_name, c) => check(c))

  test("the entry's place in the list does not matter", () => {
    const entries = ["  - name: redis\n    newTag: 6.0.0\n", "  - name: nginx\n    newTag: 1.0.0\n", "  - {name: app, newName: gcr.io/org/app}\n"]
    for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
      const text = `images:\n${order.map((i) => entries[i]).join("")}`
      check({ name: "", text, target: kustomize("nginx"), tags: ["1.0.1"], expect: text.replace("newTag: 1.0.0", "newTag: 1.0.1") })
    }
  })

  test("the plan names the image as the entry deploys it", () => {
    const plan = Either.getOrThrow(run({ name: "", text: "images:\n  - name: nginx\n    newName: mirror.example.com/nginx\n    newTag: 1.0.0\n", target: kustomize("mirror.example.com/nginx"), tags: ["1.0.1"], expect: "" }))
    if (plan._tag !== "Planned") throw new Error("not planned")
    expect([plan.plan.oldImage, plan.plan.image, plan.plan.oldTag, plan.plan.newTag]).toEqual(["mirror.example.com/nginx:1.0.0", "mirror.example.com/nginx", "1.0.0", "1.0.1"])
  })
})

describe("format: helm", () => {
  test.each(helmCases.map((c) => [c.name, c] as const))("%s", (_name, c) => check(c))
})
