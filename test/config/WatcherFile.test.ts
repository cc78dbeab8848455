import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { readFileSync } from "node:fs"
import type { DeclaredTarget } from "../../src/domain/Target.ts"
import { DEFAULT_EXCLUDE_TAGS, resolveTarget } from "../../src/domain/Target.ts"
import { decodeWatcherFile, decodeWatcherTargets } from "../../src/config/WatcherFile.ts"

const FILE = ".pipe/imagewatcher-dev.yaml"
const header = "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  targets:\n"
/** One target whose first key is on line 5; `extra` lines are indented as its keys. */
const target = (extra: string, base = "image: gcr.io/pipecd/foo\n      provider: my-gcr\n      filePath: foo/deployment.yaml\n      field: spec.containers[0].image\n") =>
  `${header}    - ${base}${extra.split("\n").filter((l) => l !== "").map((l) => `      ${l}\n`).join("")}`

const decodeOne = (text: string): DeclaredTarget => {
  const result = decodeWatcherFile(FILE, text)
  if (Either.isLeft(result)) throw new Error(result.left.map((e) => e.display).join("\n"))
  expect(result.right.path).toBe(FILE)
  expect(result.right.targets).toHaveLength(1)
  const [only] = result.right.targets
  if (only === undefined) throw new Error("no target")
  return only
}

describe("decodeWatcherFile: valid targets", () => {
  // Without a policy of its own or its file's, the pipeline's default decides at prepare.
  test("the defaults", () => {
    expect(decodeOne(target(""))).toEqual({
      image: "gcr.io/pipecd/foo",
      provider: "my-gcr",
      filePath: "foo/deployment.yaml",
      field: "spec.containers[0].image",
      excludeTags: DEFAULT_EXCLUDE_TAGS,
      allowDowngrade: false,
      format: "image",
      source: { file: FILE, line: 5 }
    })
  })

  const options: ReadonlyArray<readonly [string, string, Partial<DeclaredTarget>]> = [
    ["RFC field spelling", "", { field: "spec.containers[0].image" }],
    [
      "$.-prefixed field spelling",
      "",
      { field: "$.spec.containers[0].image" }
    ],
    ["semver range", `policy: { semver: ">=1.0.0-0" }`, { policy: { _tag: "semver", range: ">=1.0.0-0" } }],
    ["version across majors", `policy: { version: "*" }`, { policy: { _tag: "version", range: "*" } }],
    ["version range", `policy: { version: ">=1.2 <3" }`, { policy: { _tag: "version", range: ">=1.2 <3" } }],
    ["version auto", `policy: { version: "auto" }`, { policy: { _tag: "version", range: "auto" } }],
    ["version of the current line", `policy: { version: "~" }`, { policy: { _tag: "version", range: "~" } }],
    ["alphabetical", "policy: { alphabetical: desc }", { policy: { _tag: "alphabetical", order: "desc" } }],
    ["numerical", "policy:\n  numerical: asc", { policy: { _tag: "numerical", order: "asc" } }],
    ["newest", "policy: { newest: true }", { policy: { _tag: "newest" } }],
    ["filterTags with defaults", "filterTags: { pattern: '^main-(\\d+)$' }", { filterTags: { pattern: "^main-(\\d+)$", extract: "" } }],
    ["filterTags with extract", "filterTags: { pattern: '^v(?P<v>.*)$', extract: '$v' }", { filterTags: { pattern: "^v(?P<v>.*)$", extract: "$v" } }],
    ["excludeTags replaces the default", "excludeTags: ['^dev-']", { excludeTags: ["^dev-"] }],
    ["an empty excludeTags drops nothing", "excludeTags: []", { excludeTags: [] }],
    ["allowDowngrade", "allowDowngrade: true", { allowDowngrade: true }],
    ["format tag", "format: tag", { format: "tag" }],
    ["format digest", "format: digest", { format: "digest" }],
    ["docker hub short name", "", { image: "nginx" }],
    ["registry with port", "", { image: "127.0.0.1:5000/team/app" }],
    ["suspend on the target", "suspend: true", { suspended: "target" }]
  ]

  test.each(options)("%s", (_, extra, expected) => {
    const base = `image: ${expected.image ?? "gcr.io/pipecd/foo"}\n      provider: my-gcr\n      filePath: foo/deployment.yaml\n      field: ${expected.field ?? "spec.containers[0].image"}\n`
    expect(decodeOne(target(extra, base))).toMatchObject(expected)
  })

  const suspends: ReadonlyArray<readonly [string, string, string, DeclaredTarget["suspended"]]> = [
    ["neither", "", "", undefined],
    ["the target's suspend: false", "", "suspend: false", undefined],
    ["the target's suspend: true", "", "suspend: true", "target"],
    ["the file's spec.suspend: false", "  suspend: false\n", "", undefined],
    ["the file's spec.suspend: true", "  suspend: true\n", "", "watcher file"],
    ["both: the file's says it", "  suspend: true\n", "suspend: true", "watcher file"]
  ]
  test.each(suspends)("suspend: %s", (_, fileKeys, targetKeys, suspended) => {
    const text = target(targetKeys).replace("spec:\n", `spec:\n${fileKeys}`)
    expect(decodeOne(text).suspended).toBe(suspended)
  })

  test.each([
    ["foo/deployment.yaml", "foo/deployment.yaml"],
    ["./foo/deployment.yaml", "foo/deployment.yaml"],
    ["foo/../bar/x.yaml", "bar/x.yaml"],
    ["a//b/./c.yaml", "a/b/c.yaml"]
  ])("filePath %p is kept as %p", (written, normalised) => {
    const base = `image: nginx\n      provider: hub\n      filePath: ${written}\n      field: image\n`
    expect(decodeOne(target("", base)).filePath).toBe(normalised)
  })

  test("concatenates the targets of several ImageWatcher documents and skips other kinds", () => {
    const text = `${target("")}---\napiVersion: pipecd.dev/v1beta1\nkind: KubernetesApp\nspec: {x: 1}\n---\n${header}    - image: nginx\n      provider: hub\n      filePath: b.yaml\n      field: a\n`
    const result = decodeWatcherFile(FILE, text)
    expect(Either.isRight(result) && result.right.targets.map((t) => [t.image, t.source.line])).toEqual([
      ["gcr.io/pipecd/foo", 5],
      ["nginx", 18]
    ])
  })

  test.each([
    ["an empty targets list", "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  targets: []\n"],
    ["no targets key", "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec: {}\n"],
    ["no ImageWatcher document", "apiVersion: pipecd.dev/v1beta1\nkind: KubernetesApp\nspec: {}\n"]
  ])("%s gives no targets", (_, text) => {
    expect(decodeWatcherFile(FILE, text)).toEqual(Either.right({ path: FILE, targets: [] }))
  })

  test("the example in pipelines/ decodes", () => {
    const text = readFileSync(new URL("../../pipelines/imagewatcher-example.yaml", import.meta.url), "utf8")
    const result = decodeWatcherFile(FILE, text)
    expect(Either.isRight(result) && result.right.targets.map((t) => [t.provider, resolveTarget(t, undefined).policy._tag, t.format])).toEqual([
      ["my-gcr", "version", "image"],
      ["my-dockerhub", "numerical", "image"],
      ["my-gcr", "semver", "tag"]
    ])
  })
})

const invalid: ReadonlyArray<readonly [string, string, ReadonlyArray<readonly [number, string, string]>]> = [
  ["a bad policy value", "policy: { alphabetical: up }", [[9, "spec.targets[0].policy.alphabetical", `expected one of asc, desc, got "up"`]]],
  ["newest: false", "policy: { newest: false }", [[9, "spec.targets[0].policy.newest", "only `newest: true` is allowed"]]],
  ["two policies", "policy: { semver: '*', numerical: asc }", [[9, "spec.targets[0].policy", "exactly one of version, semver, alphabetical, numerical, newest, got semver and numerical"]]],
  ["no policy", "policy: {}", [[9, "spec.targets[0].policy", "exactly one of"]]],
  [
    "an invalid version range",
    "policy: { version: latest }",
    [[9, "spec.targets[0].policy.version", `invalid version range "latest": use "auto", "~", "^", "*" or a semver range`]]
  ],
  ["an unknown policy", "policy: { latest: true }", [[9, "spec.targets[0].policy.latest", "unknown key"]]],
  ["an unknown key", "tagPattern: x", [[9, "spec.targets[0].tagPattern", "unknown key (allowed: image, chart, repository, provider"]]],
  ["an unknown format", "format: name", [[9, "spec.targets[0].format", "expected one of image, tag, digest, kustomize, helm"]]],
  ["allowDowngrade not a boolean", "allowDowngrade: yes", [[9, "spec.targets[0].allowDowngrade", "expected true or false"]]],
  ["unknown key in filterTags", "filterTags: { regex: x }", [[9, "spec.targets[0].filterTags.regex", "unknown key"]]],
  ["a field with format: kustomize", "format: kustomize", [[8, "spec.targets[0].field", "format: kustomize finds the images: entry of its image in filePath, so it takes no field"]]],
  ["a field and another bad key with format: kustomize", "format: kustomize\nallowDowngrade: yes", [
    [8, "spec.targets[0].field", "takes no field"],
    [10, "spec.targets[0].allowDowngrade", "expected true or false"]
  ]]
]

const invalidBase: ReadonlyArray<readonly [string, string, readonly [number, string, string]]> = [
  ["an absolute filePath", "filePath: /etc/passwd", [7, "spec.targets[0].filePath", "must be relative"]],
  ["a filePath leaving the repo", "filePath: foo/../../x.yaml", [7, "spec.targets[0].filePath", "must stay inside the repository"]],
  ["a filePath naming the root", "filePath: ./", [7, "spec.targets[0].filePath", "must name a file"]],
  ["a Windows path", "filePath: C:/x.yaml", [7, "spec.targets[0].filePath", "must be relative"]],
  ["an empty filePath", "filePath: ''", [7, "spec.targets[0].filePath", "expected a non-empty string"]],
  ["an image that does not parse", "image: Gcr.io/Foo", [5, "spec.targets[0].image", `invalid repository name "Foo" in "Gcr.io/Foo"`]],
  ["an image with a tag", "image: gcr.io/pipecd/foo:1.0.0", [5, "spec.targets[0].image", "without tag or digest"]],
  ["an image with a bad tag", "image: foo:-x", [5, "spec.targets[0].image", "invalid tag"]],
  ["a provider without a value", "provider:", [6, "spec.targets[0].provider", "required key is missing"]]
]

describe("decodeWatcherFile: the map formats", () => {
  const kustomize = "image: nginx\n      provider: hub\n      filePath: overlays/prod/kustomization.yaml\n      format: kustomize\n"
  test.each([
    ["kustomize: known by its image's entry", kustomize, "kustomize", "images[nginx].newTag"],
    ["helm: known by its map's tag", "image: bitnami/nginx\n      provider: hub\n      filePath: values.yaml\n      field: controller.image\n      format: helm\n", "helm", "controller.image.tag"]
  ])("%s", (_, base, format, field) => {
    const decoded = decodeOne(target("", base))
    expect([decoded.format, decoded.field]).toEqual([format, field])
  })

  test("helm without field: required", () => {
    const result = decodeWatcherFile(FILE, target("", "image: nginx\n      provider: hub\n      filePath: values.yaml\n      format: helm\n"))
    expect(Either.isLeft(result) ? result.left.map((e) => e.display) : []).toEqual([`${FILE}:5: spec.targets[0].field: required key is missing`])
  })
})

describe("decodeWatcherFile: errors carry file, line and key path", () => {
  const check = (text: string, expected: ReadonlyArray<readonly [number, string, string]>) => {
    const result = decodeWatcherFile(FILE, text)
    if (Either.isRight(result)) throw new Error("expected errors")
    expect(result.left.map((e) => [e.file, e.line, e.path])).toEqual(expected.map(([line, path]) => [FILE, line, path]))
    result.left.forEach((e, i) => expect(e.reason).toContain(expected[i]?.[2] ?? "?"))
  }

  test.each(invalid)("%s", (_, extra, expected) => check(target(extra), expected))

  test.each(invalidBase)("%s", (_, replacement, expected) => {
    const key = replacement.slice(0, replacement.indexOf(":"))
    const base = "image: gcr.io/pipecd/foo\n      provider: my-gcr\n      filePath: foo/deployment.yaml\n      field: spec.containers[0].image\n"
      .split("\n")
      .map((line) => (line.trim().startsWith(`${key}:`) ? line.replace(/\S.*$/, replacement) : line))
      .join("\n")
    check(target("", base), [expected])
  })

  test("missing required keys, on the line of the target", () => {
    check(`${header}    - image: nginx\n    - field: x\n`, [
      [5, "spec.targets[0].provider", "required key is missing"],
      [5, "spec.targets[0].filePath", "required key is missing"],
      [5, "spec.targets[0].field", "required key is missing"],
      [6, "spec.targets[1].image", "required key is missing"],
      [6, "spec.targets[1].provider", "required key is missing"],
      [6, "spec.targets[1].filePath", "required key is missing"]
    ])
  })

  test("an unknown key in spec", () => {
    check("apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  target: []\n", [[4, "spec.target", "unknown key (allowed: targets, discover, defaultPolicy, suspend)"]])
  })
})

describe("decodeWatcherTargets: a bad target fails alone", () => {
  const text = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - image: gcr.io/a/good
      provider: p
      filePath: good.yaml
      field: image
    - image: gcr.io/a/bad
      provider: p
      filePath: ../outside.yaml
      field: image
    - image: gcr.io/a/also-good
      provider: p
      filePath: also.yaml
      field: image
      colour: blue
`
  test("keeps the valid targets and rejects the others, each with its file, line and key", () => {
    const file = Either.getOrThrow(decodeWatcherTargets("w.yaml", text))
    expect(file.targets.map((t) => t.image)).toEqual(["gcr.io/a/good"])
    expect(file.rejected.map((e) => [e.line, e.path])).toEqual([
      [11, "spec.targets[1].filePath"],
      [17, "spec.targets[2].colour"]
    ])
  })

  test("the strict decoder refuses the whole file", () => {
    const decoded = decodeWatcherFile("w.yaml", text)
    expect(Either.isLeft(decoded) ? decoded.left.length : 0).toBe(2)
  })
})

describe("decodeWatcherFile: repeated keys, found in linear time", () => {
  test.each([
    ["a key repeated in a target", `${header}    - image: a\n      image: b\n`, 6],
    ["a key repeated at the top", `${header}    - image: a\nspec: {}\n`, 6],
    ["one key in two targets is no repeat", undefined, undefined]
  ])("%s", (_name, text, line) => {
    const twoTargets = `${header}    - image: a\n      provider: p\n      filePath: f.yaml\n      field: image\n    - image: b\n      provider: p\n      filePath: f.yaml\n      field: image\n`
    const decoded = decodeWatcherFile(FILE, text ?? twoTargets)
    if (line === undefined) return expect(Either.isRight(decoded)).toBe(true)
    if (Either.isRight(decoded)) throw new Error("expected an error")
    expect(decoded.left.map((e) => [e.line, e.reason])).toEqual([[line, "invalid YAML: Map keys must be unique"]])
  })

  test("a watcher file of 50,000 keys with one repeated fails at once, at its line", () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `  k${i}: ${i}\n`).join("")
    const started = performance.now()
    const decoded = decodeWatcherFile(FILE, `${header}    - image: a\nextra:\n${keys}  k7: again\n`)
    expect(performance.now() - started).toBeLessThan(5_000)
    if (Either.isRight(decoded)) throw new Error("expected an error")
    expect(decoded.left.map((e) => [e.line, e.reason])).toEqual([[50_007, "invalid YAML: Map keys must be unique"]])
  })
})

describe("decodeWatcherFile: a bare * is a YAML alias, and the error says how to quote it", () => {
  const target = (policyLines: string) => `${header}    - image: a\n      provider: p\n      filePath: f.yaml\n      field: image\n${policyLines}`
  const hint = (written: string) => `invalid YAML: a value that starts with * is an alias (a reference to an &anchor) in YAML; quote it: ${written}`
  test.each([
    ["a block map", target("      policy:\n        semver: *\n"), 10, hint('semver: "*"')],
    ["a flow map", target("      policy: { semver: * }\n"), 9, hint('semver: "*"')],
    ["a flow list", target("      policy: { version: \"^\" }\n      excludeTags: [*]\n"), 10, hint('"*"')],
    ["an alias to no anchor", target("      policy:\n        semver: *1.x\n"), 10, hint('semver: "*1.x"')]
  ])("%s", (_name, text, line, reason) => {
    const decoded = decodeWatcherFile(FILE, text)
    if (Either.isRight(decoded)) throw new Error("expected an error")
    expect(decoded.left.map((e) => [e.line, e.reason])).toEqual([[line, reason]])
  })

  test("a quoted * is a range like any other", () => {
    expect(Either.isRight(decodeWatcherFile(FILE, target("      policy:\n        semver: \"*\"\n")))).toBe(true)
  })
})

describe("decodeWatcherFile: chart targets", () => {
  const chart = (keys: string) => `${header}    - ${keys.split("\n").filter((l) => l !== "").join("\n      ")}\n`
  const base = "chart: nginx\nprovider: bitnami\nfilePath: Chart.yaml\nfield: dependencies[0].version"
  /** A chart in an OCI registry, its repository's address to follow. */
  const oci = "chart: nginx\nfilePath: Chart.yaml\nfield: dependencies[0].version\nrepository: oci://"

  test.each([
    ["the defaults: format tag, known by the chart's name until prepare", base, {}],
    ["format: tag given", `${base}\nformat: tag`, {}],
    ["a name with dots, underscores and dashes", base.replace("nginx", "ingress-nginx_v2.x"), { image: "ingress-nginx_v2.x", chart: "ingress-nginx_v2.x" }],
    ["an OCI chart: no provider, its repository's address as its label", `${oci}registry.example.com:5000/charts`, { repository: "registry.example.com:5000/charts", provider: "oci://registry.example.com:5000/charts" }],
    ["an OCI address in lower case, without trailing slash", `${oci}Registry.Example.com/Team/Charts/`, { repository: "registry.example.com/team/charts", provider: "oci://registry.example.com/team/charts" }],
    ["an OCI registry without path", `${oci}registry.example.com`, { repository: "registry.example.com", provider: "oci://registry.example.com" }],
    ["localhost needs no dot", `${oci}localhost/charts`, { repository: "localhost/charts", provider: "oci://localhost/charts" }]
  ] as const)("%s", (_, keys, changed) => {
    expect(decodeOne(chart(keys))).toEqual({
      image: "nginx",
      chart: "nginx",
      provider: "bitnami",
      filePath: "Chart.yaml",
      field: "dependencies[0].version",
      excludeTags: DEFAULT_EXCLUDE_TAGS,
      allowDowngrade: false,
      format: "tag",
      source: { file: FILE, line: 5 },
      ...changed
    })
  })

  const refused: ReadonlyArray<readonly [string, string, ReadonlyArray<readonly [number, string, string]>]> = [
    ["image and chart", `image: nginx\n${base}`, [[6, "spec.targets[0].chart", "a target watches an image or a chart, not both"]]],
    ["neither image nor chart", "provider: bitnami\nfilePath: Chart.yaml\nfield: version", [[5, "spec.targets[0].image", "required key is missing (or chart, for a Helm chart's versions)"]]],
    ["a chart name with a slash", base.replace("nginx", "bitnami/nginx"), [[5, "spec.targets[0].chart", `expected a chart name: lower-case letters and digits, with -, _ or . between them, got "bitnami/nginx"`]]],
    ["a chart name in upper case", base.replace("nginx", "Nginx"), [[5, "spec.targets[0].chart", "expected a chart name"]]],
    ["a chart name ending in a dash", base.replace("nginx", "nginx-"), [[5, "spec.targets[0].chart", "expected a chart name"]]],
    ["a chart name with a tag", base.replace("nginx", "nginx:1.2.0"), [[5, "spec.targets[0].chart", "expected a chart name"]]],
    ["format: image", `${base}\nformat: image`, [[9, "spec.targets[0].format", `a chart target's field holds the version alone: format must be tag (its default), got "image"`]]],
    ["format: helm", `${base}\nformat: helm`, [[9, "spec.targets[0].format", "format must be tag"]]],
    ["without field", base.replace("\nfield: dependencies[0].version", ""), [[5, "spec.targets[0].field", "required key is missing"]]],
    ["an OCI chart with a provider", `${base}\nrepository: oci://registry.example.com/charts`, [[6, "spec.targets[0].provider", "takes no provider: its credentials come from spec.chartRegistries or imageProviders"]]],
    ["a chart with neither provider nor repository", "chart: nginx\nfilePath: Chart.yaml\nfield: version", [[5, "spec.targets[0].provider", "required key is missing (or repository: oci://…, for a chart in an OCI registry)"]]],
    ["repository that is not oci://", `${base}\nrepository: https://charts.example.com`, [[9, "spec.targets[0].repository", "expected oci://HOST[:PORT]/PATH (an HTTP chart repository is named by provider)"]]],
    ["repository on an image target", "image: nginx\nprovider: hub\nfilePath: a.yaml\nfield: image\nrepository: oci://r.example.com/x", [[9, "spec.targets[0].repository", "it goes with chart, not image"]]],
    ["an OCI host without dot or port", `${oci}registry/charts`, [[8, "spec.targets[0].repository", "registry host registry has no dot: give it a domain or a port"]]],
    ["credentials in the repository", `${oci}bot:pw@registry.example.com/charts`, [[8, "spec.targets[0].repository", "expected oci://HOST[:PORT]/PATH with a lower-case host and path, without credentials"]]],
    ["a tag in the repository", `${oci}registry.example.com/charts:1.0`, [[8, "spec.targets[0].repository", "expected oci://HOST[:PORT]/PATH"]]],
    ["a port beyond five digits", `${oci}registry.example.com:123456/charts`, [[8, "spec.targets[0].repository", "expected oci://HOST[:PORT]/PATH"]]]
  ]

  test.each(refused)("%s", (_, keys, expected) => {
    const result = decodeWatcherFile(FILE, chart(keys))
    if (Either.isRight(result)) throw new Error("expected errors")
    expect(result.left.map((e) => [e.line, e.path])).toEqual(expected.map(([line, path]) => [line, path]))
    result.left.forEach((e, i) => expect(e.reason).toContain(expected[i]?.[2] ?? "?"))
  })
})
