/** Chart discovery: which chart repository a found chart comes from, which chart versions become targets, and the cache. */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Either } from "effect"
import type { WatcherFile } from "../../src/config/model.ts"
import type { ChartRepository } from "../../src/domain/ChartSource.ts"
import type { DiscoverRule } from "../../src/domain/DiscoverRule.ts"
import { chartGlobs } from "../../src/domain/glob.ts"
import { DEFAULT_EXCLUDE_TAGS, type DeclaredTarget } from "../../src/domain/Target.ts"
import type { Blob, Checkout, TreeEntry } from "../../src/git/GitRepo.ts"
import type { FoundChart, FoundFluxRepository } from "../../src/manifest/scanCharts.ts"
import { EMPTY_SCAN } from "../../src/manifest/scanFile.ts"
import { discoverTargets } from "../../src/pipeline/discover.ts"
import { compileRules, discoveredTargets } from "../../src/pipeline/discovered.ts"
import { chartRepositoryFor, fluxSourceOf } from "../../src/pipeline/discoveredCharts.ts"
import { parseCache } from "../../src/pipeline/ParseCache.ts"

const source = { file: "piped.yaml", line: 1 }
const http = (name: string, address: string): ChartRepository => ({ type: "HTTP", name, address, insecure: false, interval: Duration.minutes(5), source })
const repositories: ReadonlyArray<ChartRepository> = [
  http("bitnami", "https://charts.example.com/bitnami"),
  http("local", "http://127.0.0.1:8080"),
  { type: "GIT", name: "in-git", gitRemote: "https://git.example.com/charts.git", source }
]
const flux = (name: string, url: string, namespace?: string): FoundFluxRepository => ({
  name, ...(namespace === undefined ? {} : { namespace }), ref: namespace === undefined ? name : `${namespace}/${name}`, url,
  type: url.startsWith("oci://") ? "oci" : "default", document: 0, line: 1
})
const fluxRepositories = [
  flux("bitnami", "https://charts.example.com/bitnami/", "flux-system"),
  flux("bitnami", "https://other.example.com/bitnami", "team"),
  flux("podinfo", "oci://ghcr.io/stefanprodan/charts", "flux-system"),
  flux("loose", "http://127.0.0.1:8080/")
]

describe("chartRepositoryFor", () => {
  test.each([
    ["a name of spec.chartRepositories", "name", "bitnami", "bitnami"],
    ["a name no entry has", "name", "stable", "no chart repository for stable"],
    ["a git repository's name", "name", "in-git", "chart repository in-git is a git repository: chart versions are not tags"],
    ["a URL equal to an address", "url", "https://charts.example.com/bitnami", "bitnami"],
    ["a URL with a trailing slash", "url", "https://charts.example.com/bitnami/", "bitnami"],
    ["a URL with the host in capitals", "url", "https://Charts.Example.com/bitnami", "bitnami"],
    ["a URL on a path below an address", "url", "https://charts.example.com/bitnami/sub", "no chart repository for https://charts.example.com/bitnami/sub"],
    ["an OCI repository", "oci", "oci://registry.example.com/charts", "oci://registry.example.com/charts"],
    ["an OCI repository as Argo CD writes it, without scheme", "oci", "Registry.example.com/charts/", "oci://registry.example.com/charts"],
    ["an OCI repository whose host has no dot", "oci", "oci://registry/charts", "chart repository oci://registry/charts: registry host registry has no dot: give it a domain or a port, or it reads as a Docker Hub name"],
    ["a Flux source by namespace and name, its url an address", "flux-source", "flux-system/bitnami", "bitnami"],
    ["a Flux source of another namespace: another url", "flux-source", "team/bitnami", "no chart repository for https://other.example.com/bitnami"],
    ["a Flux source without namespace: the repository of that name has none", "flux-source", "apps/loose", "local"],
    ["a Flux OCI source", "flux-source", "flux-system/podinfo", "oci://ghcr.io/stefanprodan/charts"],
    ["a Flux source no file holds", "flux-source", "flux-system/missing", "no chart repository for HelmRepository flux-system/missing"]
  ] as const)("%s", (_, repositoryKind, repository, expected) => {
    const found = chartRepositoryFor({ chart: "nginx", repository, repositoryKind }, repositories, fluxRepositories)
    expect(Either.match(found, { onLeft: (note) => note, onRight: (r) => (r._tag === "Http" ? r.repository.name : `oci://${r.address}`) })).toBe(expected)
  })

  test("a note shows at most 200 characters of what the file wrote", () => {
    const found = chartRepositoryFor({ chart: "nginx", repository: `https://x.example/${"a".repeat(500)}`, repositoryKind: "url" }, repositories, [])
    expect(Either.isLeft(found) && found.left.length).toBe("no chart repository for ".length + 201)
  })
})

describe("fluxSourceOf", () => {
  test.each([
    ["the release's namespace and name", "flux-system/bitnami", "https://charts.example.com/bitnami/"],
    ["a name alone finds one of that name when every one has the same url", "loose", "http://127.0.0.1:8080/"],
    ["a name alone with several urls under it is a note", "bitnami", "HelmRepository bitnami: several in the repository with other urls; give the release's sourceRef a namespace"],
    ["another namespace, when both sides have one, is not the same", "apps/podinfo", "no chart repository for HelmRepository apps/podinfo"]
  ] as const)("%s", (_, ref, expected) => {
    expect(Either.match(fluxSourceOf(ref, fluxRepositories), { onLeft: (note) => note, onRight: (r) => r.url })).toBe(expected)
  })
})

describe("chartGlobs", () => {
  test.each([
    [["nginx"], "nginx", true],
    [["nginx"], "nginx-ingress", false],
    [["ingress-*"], "ingress-nginx", true],
    [["{redis,valkey}"], "valkey", true],
    [["!postgresql"], "nginx", true],
    [["!postgresql"], "postgresql", false],
    [["*", "!postgres*"], "postgresql-ha", false]
  ] as const)("%j on %s: %p", (patterns, chart, expected) => {
    expect(Either.map(chartGlobs(patterns), (match) => match(chart))).toEqual(Either.right(expected))
  })

  test.each([
    [["bitnami/nginx"], `invalid chart glob "bitnami/nginx": a chart name has no /: match the name alone`],
    [["a b"], `invalid chart glob "a b": it has white space`],
    [["!"], `invalid chart glob "!": it names no chart`]
  ] as const)("%j is refused", (patterns, message) => {
    expect(chartGlobs(patterns)).toEqual(Either.left(message))
  })
})

const rule = (extra: Partial<DiscoverRule> = {}): DiscoverRule => ({
  paths: ["**"], excludeTags: DEFAULT_EXCLUDE_TAGS, allowDowngrade: false, source: { file: ".pipe/w.yaml", line: 10 }, ...extra
})
const chart = (name: string, field: string, extra: Partial<FoundChart> = {}): FoundChart => ({
  kind: "chart-dependency", chart: name, repository: "bitnami", repositoryKind: "name", field, document: 0, version: "1.0.0", ranged: false, line: 5, ...extra
})
const declaredChart = (filePath: string, field: string): DeclaredTarget => ({
  image: "nginx", chart: "nginx", provider: "bitnami", filePath, field, excludeTags: DEFAULT_EXCLUDE_TAGS, allowDowngrade: false, format: "tag",
  source: { file: ".pipe/w.yaml", line: 5 }
})
const D0 = "dependencies[0].version"

describe("discoveredTargets: chart versions", () => {
  const cases: ReadonlyArray<{
    name: string
    targets?: ReadonlyArray<DeclaredTarget>
    rules?: ReadonlyArray<DiscoverRule>
    charts: ReadonlyArray<FoundChart>
    expected: ReadonlyArray<string>
    notes?: ReadonlyArray<string>
  }> = [
    { name: "a pinned version becomes a chart target of its repository", charts: [chart("nginx", D0)], expected: [`Chart.yaml ${D0} nginx bitnami tag 10`] },
    { name: "a range is left alone", charts: [chart("nginx", D0, { version: "~1.0", ranged: true })], expected: [] },
    { name: "a declared target wins its field", targets: [declaredChart("Chart.yaml", `$.${D0}`)], charts: [chart("nginx", D0)], expected: [] },
    { name: "outside the rule's charts", rules: [rule({ charts: ["!nginx"] })], charts: [chart("nginx", D0), chart("redis", "dependencies[1].version")], expected: ["Chart.yaml dependencies[1].version redis bitnami tag 10"] },
    { name: "the rule's images do not filter charts", rules: [rule({ images: ["ghcr.io/acme/*"] })], charts: [chart("nginx", D0)], expected: [`Chart.yaml ${D0} nginx bitnami tag 10`] },
    { name: "a name that is no chart name (the file is untrusted): no target", charts: [chart("../Nginx", D0)], expected: [] },
    { name: "an unmatched repository: a note, once", charts: [chart("a", D0, { repository: "stable" }), chart("b", "dependencies[1].version", { repository: "stable" })], expected: [], notes: ["no chart repository for stable"] },
    { name: "the same chart in several documents: one target", charts: [chart("nginx", D0), chart("nginx", D0, { document: 1 })], expected: [`Chart.yaml ${D0} nginx bitnami tag 10`] },
    {
      name: "different charts at one field in several documents: none, and a note",
      charts: [chart("nginx", D0), chart("redis", D0, { document: 1 })],
      expected: [],
      notes: [`Chart.yaml ${D0}: different charts in several documents (nginx, redis), not discovered: a target writes its field in every document`]
    }
  ]
  test.each(cases)("$name", ({ targets = [], rules = [rule()], charts, expected, notes = [] }) => {
    const files: ReadonlyArray<WatcherFile> = [{ path: ".pipe/w.yaml", targets, discover: rules }]
    const scans = new Map([["Chart.yaml", { ...EMPTY_SCAN, charts }]])
    const discovery = discoveredTargets(files, compileRules(files), scans, [], repositories)
    expect(discovery.discovered.map((t) => `${t.filePath} ${t.field} ${t.chart} ${t.provider} ${t.format} ${t.source.line}`)).toEqual([...expected])
    expect(discovery.notes).toEqual([...notes])
  })

  test("a chart target takes the rule's selection; its policy is left to the pipeline's default, else version auto", () => {
    const selection = { policy: { _tag: "semver", range: "^1" } as const, filterTags: { pattern: "^1", extract: "" }, excludeTags: ["rc"], allowDowngrade: true, minAge: Duration.hours(2) }
    const files: ReadonlyArray<WatcherFile> = [{ path: ".pipe/w.yaml", targets: [], discover: [rule({ ...selection, paths: ["a/**"] }), rule()] }]
    const scans = new Map([["a/Chart.yaml", { ...EMPTY_SCAN, charts: [chart("nginx", D0)] }], ["b/Chart.yaml", { ...EMPTY_SCAN, charts: [chart("nginx", D0)] }]])
    const [first, second] = discoveredTargets(files, compileRules(files), scans, [], repositories).discovered
    expect(first).toMatchObject({ image: "nginx", chart: "nginx", provider: "bitnami", format: "tag", ...selection })
    expect(second?.policy).toBeUndefined()
  })
})

const CHART_FILE = "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: nginx\n    version: 1.0.0\n    repository: https://charts.example.com/bitnami\n"
const SOURCE_FILE = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: bitnami, namespace: flux-system}\nspec: {url: https://charts.example.com/bitnami}\n"
const RELEASE_FILE = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: web}\nspec:\n  chart:\n    spec:\n      chart: redis\n      version: 17.3.0\n      sourceRef: {kind: HelmRepository, name: bitnami, namespace: flux-system}\n"

describe("chart discovery and the parse cache", () => {
  test("a warm pass reads no file and finds the same chart targets, the Flux source included", async () => {
    const files = { "app/Chart.yaml": CHART_FILE, "infra/source.yaml": SOURCE_FILE, "apps/release.yaml": RELEASE_FILE }
    const reads: Array<string> = []
    const tree: ReadonlyArray<TreeEntry> = Object.keys(files).map((path) => ({ path, oid: `oid-${path}`, kind: "file" }))
    const checkout = {
      listTree: Effect.succeed(tree),
      readFiles: (paths: ReadonlyArray<string>) =>
        Effect.sync(() => paths.map((path) => {
          reads.push(path)
          const text = files[path as keyof typeof files]
          return { _tag: "Some", value: { oid: `oid-${path}`, text, kind: "text", size: text.length } as Blob } as const
        }))
    } as unknown as Checkout
    const watchers: ReadonlyArray<WatcherFile> = [{ path: ".pipe/w.yaml", targets: [], discover: [rule()] }]
    const sources = { providers: [], chartRepositories: repositories }
    const cold = parseCache(undefined)
    const one = await Effect.runPromise(discoverTargets(checkout, watchers, sources, cold))
    expect([one.scanned, one.discovered.map((t) => `${t.filePath} ${t.chart} ${t.provider}`)]).toEqual([3, ["app/Chart.yaml nginx bitnami", "apps/release.yaml redis bitnami"]])
    reads.length = 0
    const two = await Effect.runPromise(discoverTargets(checkout, watchers, sources, parseCache(cold.save())))
    expect([two.scanned, reads]).toEqual([0, []])
    expect(two.discovered).toEqual(one.discovered)
  })

  test("a rule's charts globs are kept with it", () => {
    const cache = parseCache(undefined)
    const kept = [rule({ charts: ["nginx", "!redis"] })]
    cache.keepWatcherRules(".pipe/w.yaml", "oid", kept)
    expect(parseCache(cache.save()).watcherRules(".pipe/w.yaml", "oid")).toEqual(kept)
  })
})
