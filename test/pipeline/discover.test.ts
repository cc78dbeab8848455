/** Discovery: which provider serves a found image, which targets win a place, and what a pass reads again. */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Either, Option } from "effect"
import type { WatcherFile } from "../../src/config/model.ts"
import type { DiscoverRule } from "../../src/domain/DiscoverRule.ts"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { DEFAULT_EXCLUDE_TAGS, type DeclaredTarget } from "../../src/domain/Target.ts"
import type { Blob, Checkout, TreeEntry } from "../../src/git/GitRepo.ts"
import type { FoundReference } from "../../src/manifest/scan.ts"
import { EMPTY_SCAN } from "../../src/manifest/scanFile.ts"
import { discoverTargets } from "../../src/pipeline/discover.ts"
import { compileRules, discoveredTargets, providerForHost } from "../../src/pipeline/discovered.ts"
import { parseCache } from "../../src/pipeline/ParseCache.ts"
import { MAX_MANIFEST_BYTES } from "../../src/pipeline/sizeLimit.ts"
import { providerConfig } from "../support/config.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const hub: ProviderConfig = { name: "hub", type: "DOCKER_HUB", interval: Duration.minutes(5), source: { file: "piped.yaml", line: 1 } }
const anonymous = providerConfig({ name: "anonymous" })
const ghcr = providerConfig({ name: "ghcr", address: "https://ghcr.io" })
const local = providerConfig({ name: "local", address: "http://127.0.0.1:5000/" })
const store: ProviderConfig = { name: "store", type: "STORE", interval: Duration.minutes(5), source: { file: "piped.yaml", line: 1 } }

describe("providerForHost", () => {
  test.each([
    ["ghcr.io by its address", [anonymous, ghcr], "ghcr.io", "ghcr"],
    ["a host with port by its address", [local, ghcr], "127.0.0.1:5000", "local"],
    ["docker.io: the DOCKER_HUB provider first", [anonymous, hub], "docker.io", "hub"],
    ["docker.io: else a registry provider without address", [store, ghcr, anonymous], "docker.io", "anonymous"],
    ["docker.io: none when every provider has an address", [ghcr, store], "docker.io", undefined],
    ["another host: a provider without address does not serve it", [anonymous, hub], "quay.io", undefined],
    ["another host: not served by an address on another port", [local], "127.0.0.1:5001", undefined]
  ] as const)("%s", (_, providers, host, expected) => {
    expect(providerForHost(providers, host)?.name).toBe(expected)
  })
})

const rule = (paths: ReadonlyArray<string>, extra: Partial<DiscoverRule> = {}, line = 10): DiscoverRule => ({
  paths, excludeTags: DEFAULT_EXCLUDE_TAGS, allowDowngrade: false, source: { file: ".pipe/w.yaml", line }, ...extra
})
const declared = (filePath: string, field: string, extra: Partial<DeclaredTarget> = {}): DeclaredTarget => ({
  image: "nginx", provider: "hub", filePath, field, excludeTags: DEFAULT_EXCLUDE_TAGS, allowDowngrade: false, format: "image",
  source: { file: ".pipe/w.yaml", line: 5 }, ...extra
})
const ref = (image: string, field: string | undefined, extra: Partial<FoundReference> = {}): FoundReference => ({
  format: "image", image, reference: `${image}:1.0.0`, digestOnly: false, document: 0, line: 3, ...(field === undefined ? {} : { field }), ...extra
})

const F = "apps/a.yaml"
const C = "spec.containers[0].image"

describe("discoveredTargets: one target per place, declared first", () => {
  const cases: ReadonlyArray<{
    name: string
    targets?: ReadonlyArray<DeclaredTarget>
    rules: ReadonlyArray<DiscoverRule>
    found: Record<string, ReadonlyArray<FoundReference>>
    expected: ReadonlyArray<string>
    notes?: ReadonlyArray<string>
  }> = [
    { name: "a reference becomes a target of its rule's line", rules: [rule(["apps/**"])], found: { [F]: [ref("nginx", C)] }, expected: [`${F} ${C} nginx hub 10`] },
    { name: "a declared target wins its field", targets: [declared(F, "$.spec.containers[0].image")], rules: [rule(["apps/**"])], found: { [F]: [ref("nginx", C)] }, expected: [] },
    {
      name: "a declared kustomize target wins its image by normalisation",
      targets: [declared("k/kustomization.yaml", "images[nginx].newTag", { format: "kustomize" })],
      rules: [rule(["k/*"])],
      found: { "k/kustomization.yaml": [ref("docker.io/library/nginx", undefined, { format: "kustomize" }), ref("redis", undefined, { format: "kustomize" })] },
      expected: ["k/kustomization.yaml images[redis].newTag redis hub 10"]
    },
    {
      name: "the first rule wins a place two rules find",
      rules: [rule(["apps/**"], { provider: "first" }, 10), rule(["**"], { provider: "second" }, 20)],
      found: { [F]: [ref("nginx", C)] },
      expected: [`${F} ${C} nginx first 10`]
    },
    { name: "a field in several documents: one target", rules: [rule(["apps/**"])], found: { [F]: [ref("nginx", C), ref("nginx", C, { document: 1 })] }, expected: [`${F} ${C} nginx hub 10`] },
    { name: "pinned only by digest: no target", rules: [rule(["apps/**"])], found: { [F]: [ref("nginx", C, { digestOnly: true })] }, expected: [] },
    { name: "outside the rule's images: no target", rules: [rule(["apps/**"], { images: ["ghcr.io/acme/*"] })], found: { [F]: [ref("nginx", C), ref("ghcr.io/acme/api", "x")] }, expected: [`${F} x ghcr.io/acme/api ghcr 10`] },
    { name: "excluded paths: no target", rules: [rule(["apps/**", "!apps/a.yaml"])], found: { [F]: [ref("nginx", C)] }, expected: [] },
    {
      name: "a registry no provider serves: a note, once",
      rules: [rule(["apps/**"])],
      found: { [F]: [ref("quay.io/x/a", "a"), ref("quay.io/x/b", "b"), ref("nginx", C)] },
      expected: [`${F} ${C} nginx hub 10`],
      notes: ["no provider for quay.io"]
    },
    { name: "helm maps are known by their tag", rules: [rule(["**"])], found: { "values.yaml": [ref("ghcr.io/acme/w", "worker.image", { format: "helm" })] }, expected: ["values.yaml worker.image.tag ghcr.io/acme/w ghcr 10"] }
  ]
  test.each(cases)("$name", ({ targets = [], rules, found, expected, notes = [] }) => {
    const files: ReadonlyArray<WatcherFile> = [{ path: ".pipe/w.yaml", targets, discover: rules }]
    const scans = new Map(Object.entries(found).map(([path, references]) => [path, { ...EMPTY_SCAN, references }]))
    const discovery = discoveredTargets(files, compileRules(files), scans, [hub, ghcr])
    expect(discovery.discovered.map((t) => `${t.filePath} ${t.field} ${t.image} ${t.provider} ${t.source.line}`)).toEqual([...expected])
    expect(discovery.files[0]?.targets.length).toBe(targets.length + expected.length)
    expect(discovery.notes).toEqual([...notes])
  })
})

const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: ${image}\n`

/** A checkout at a fixed head that counts the paths it is asked to read. */
const countingCheckout = (files: Record<string, { oid: string; text: string; kind?: Blob["kind"]; size?: number }>) => {
  const reads: Array<string> = []
  const blobOf = (path: string): Option.Option<Blob> =>
    Option.map(Option.fromNullable(files[path]), (f) => ({ oid: f.oid, text: f.text, kind: f.kind ?? "text", size: f.size ?? f.text.length }))
  const tree: ReadonlyArray<TreeEntry> = Object.entries(files).map(([path, f]) => ({ path, oid: f.oid, kind: f.kind === "symlink" ? "symlink" : "file" }))
  const checkout = {
    readFiles: (paths: ReadonlyArray<string>) => Effect.sync(() => paths.map((path) => (reads.push(path), blobOf(path)))),
    listTree: Effect.succeed(tree)
  } as Pick<Checkout, "readFiles" | "listTree">
  return { checkout: checkout as Checkout, reads }
}

describe("discoverTargets and the parse cache", () => {
  const files: ReadonlyArray<WatcherFile> = [{ path: ".pipe/w.yaml", targets: [], discover: [rule(["apps/**"])] }]
  const tree = {
    "apps/a.yaml": { oid: "a1", text: deployment("nginx:1.0.0") },
    "apps/b.yaml": { oid: "b1", text: deployment("redis:7.0.0") },
    "apps/link.yaml": { oid: "l1", text: "a.yaml", kind: "symlink" as const },
    "apps/huge.yaml": { oid: "h1", text: deployment("busybox:1.0.0"), size: MAX_MANIFEST_BYTES + 1 },
    "other/c.yaml": { oid: "c1", text: deployment("nginx:1.0.0") }
  }

  test("a second pass over the same tree reads and scans nothing; a changed blob is scanned alone", async () => {
    const first = countingCheckout(tree)
    const cache = parseCache(undefined)
    const run = (checkout: Checkout, kept = cache) => Effect.runPromise(discoverTargets(checkout, files, { providers: [hub], chartRepositories: [] }, kept))
    const one = await run(first.checkout)
    // The link is not read; the file too large is read, and kept as holding nothing.
    expect([one.scanned, [...first.reads].sort()]).toEqual([3, ["apps/a.yaml", "apps/b.yaml", "apps/huge.yaml"]])
    expect(one.discovered.map((t) => t.image)).toEqual(["nginx", "redis"])

    const second = countingCheckout(tree)
    // Through the saved text, as the next pass loads it.
    const two = await run(second.checkout, parseCache(cache.save()))
    expect([two.scanned, second.reads]).toEqual([0, []])
    expect(two.discovered).toEqual(one.discovered)

    const changed = countingCheckout({ ...tree, "apps/b.yaml": { oid: "b2", text: deployment("redis:7.2.0") } })
    const three = await run(changed.checkout)
    expect([three.scanned, changed.reads]).toEqual([1, ["apps/b.yaml"]])
  })

  test("without rules the tree is not listed", async () => {
    const listing = { readFiles: () => Effect.die("read"), listTree: Effect.die("listed") } as Pick<Checkout, "readFiles" | "listTree">
    const result = await Effect.runPromise(Effect.either(discoverTargets(listing as Checkout, [{ path: ".pipe/w.yaml", targets: [] }], { providers: [hub], chartRepositories: [] }, parseCache(undefined))))
    expect(Either.isRight(result) && result.right.scanned).toBe(0)
  })
})

describe("a watcher file's rules in the parse cache", () => {
  test("kept beside its targets, through the saved text, with every setting", () => {
    const cache = parseCache(undefined)
    const kept: ReadonlyArray<DiscoverRule> = [
      rule(["apps/**", "!apps/legacy/**"], { images: ["ghcr.io/acme/*"], provider: "ghcr", policy: { _tag: "semver", range: "^1" }, minAge: Duration.hours(1) }),
      rule(["**/*.yaml"], { filterTags: { pattern: "^v", extract: "" }, suspended: "watcher file" }, 20)
    ]
    cache.keepWatcherTargets(".pipe/w.yaml", "oid", [])
    cache.keepWatcherRules(".pipe/w.yaml", "oid", kept)
    const next = parseCache(cache.save())
    expect(next.watcherRules(".pipe/w.yaml", "oid")).toEqual(kept)
    expect(next.watcherRules(".pipe/w.yaml", "other")).toBeUndefined()
  })
})

describe("discovery from one pass to the next", () => {
  test("a watcher file the parse cache knows still discovers: a new tag is written in the next pass", async () => {
    const w = fakeWorld()
    const watcher = "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  discover:\n    - paths: [\"apps/**\"]\n      provider: registry\n"
    w.remotes.create(REMOTE, { ".pipe/w.yaml": watcher, "apps/a.yaml": deployment("ghcr.io/acme/api:1.0.0") })
    w.images.set("ghcr.io/acme/api", [{ tag: "1.0.0" }, { tag: "1.1.0" }])
    const pass = () => Effect.runPromise(runOnce([pipelineOf()], w.options).pipe(Effect.provide(w.layer)))
    expect((await pass()).targets.map((t) => t.outcome._tag)).toEqual(["Updated"])
    expect((await pass()).targets.map((t) => t.outcome._tag)).toEqual(["UpToDate"])
    w.images.set("ghcr.io/acme/api", [{ tag: "1.0.0" }, { tag: "1.1.0" }, { tag: "1.2.0" }])
    expect((await pass()).targets.map((t) => [t.field, t.outcome._tag])).toEqual([["spec.template.spec.containers[0].image", "Updated"]])
    expect(w.remotes.readFile(REMOTE, "apps/a.yaml")).toBe(deployment("ghcr.io/acme/api:1.2.0"))
  })
})
