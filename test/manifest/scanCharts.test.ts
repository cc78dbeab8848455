import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { formatFieldPath, parseFieldPath } from "../../src/manifest/FieldPath.ts"
import { parseManifest } from "../../src/manifest/patch.ts"
import {
  type FoundChart,
  type FoundFluxRepository,
  fluxRepositoriesIn,
  isVersionRange,
  scanChartManifest,
  scanChartReferences,
  scanFluxRepositories
} from "../../src/manifest/scanCharts.ts"
import { compileTarget, fieldHits } from "../../src/pipeline/plan.ts"
import { targetConfig } from "../support/config.ts"

const chart = (
  kind: FoundChart["kind"],
  name: string,
  [repository, repositoryKind]: readonly [string, FoundChart["repositoryKind"]],
  field: string,
  version: string,
  line: number,
  document = 0
): FoundChart => ({ kind, chart: name, repository, repositoryKind, field, document, version, ranged: isVersionRange(version), line })

type Case = readonly [string, string, string, ReadonlyArray<FoundChart>]

// pipe-cd/pipecd examples/v0/kubernetes/helm-remote-chart/app.pipecd.yaml
const pipecdRemote = `# Deploy a helm chart sourced from a Helm Chart Repository without using pipeline.
apiVersion: pipecd.dev/v1beta1
kind: KubernetesApp
spec:
  name: helm-remote-chart
  labels:
    env: example
    team: product
  input:
    # Helm chart sourced from a Helm Chart Repository.
    helmChart:
      repository: oci://ghcr.io/pipe-cd
      name: chart/helloworld
      version: v0.30.0
    helmOptions:
      valueFiles:
        - values.yaml
      releaseName: helm-remote-chart
    helmVersion: 3.8.2
`
const pipecdApp = (helmChart: string) => `apiVersion: pipecd.dev/v1beta1\nkind: KubernetesApp\nspec:\n  input:\n    helmChart:\n${helmChart}`

const pipecd: ReadonlyArray<Case> = [
  ["PipeCD's remote chart example: an OCI repository", "helm-remote-chart/app.pipecd.yaml", pipecdRemote, [
    chart("pipecd", "chart/helloworld", ["oci://ghcr.io/pipe-cd", "oci"], "spec.input.helmChart.version", "v0.30.0", 14)
  ]],
  ["a Piped chart repository by name (PipeCD's docs)", "app.pipecd.yaml", pipecdApp("      repository: pipecd\n      name: helloworld\n      version: v0.5.0\n"), [
    chart("pipecd", "helloworld", ["pipecd", "name"], "spec.input.helmChart.version", "v0.5.0", 8)
  ]],
  ["any PipeCD application kind, any file name", "x.yaml",
    "apiVersion: pipecd.dev/v1beta1\nkind: Application\nspec:\n  input:\n    helmChart: {repository: pipecd, name: helloworld, version: 1.10}\n",
    [chart("pipecd", "helloworld", ["pipecd", "name"], "spec.input.helmChart.version", "1.10", 5)]],
  ["a remote git chart, a local chart, no repository, templated or empty: passed over", "app.pipecd.yaml",
    [
      pipecdApp("      gitRemote: git@github.com:pipe-cd/manifests.git\n      ref: v0.9.0\n      path: manifests/helloworld\n"),
      pipecdApp("      path: ../../local-modules/helm-charts/helloworld\n"),
      pipecdApp("      name: helloworld\n      version: 0.1.0\n"),
      pipecdApp("      repository: pipecd\n      name: helloworld\n      version: '{{ .Version }}'\n"),
      pipecdApp("      repository: pipecd\n      name: helloworld\n      version: ''\n"),
      pipecdApp("      repository: pipecd\n      name: helloworld\n"),
      pipecdApp("      repository: ssh://git.example.com/charts\n      name: helloworld\n      version: 1.0.0\n")
    ].join("---\n"),
    []],
  ["not PipeCD's", "app.yaml", "apiVersion: example.com/v1\nkind: KubernetesApp\nspec:\n  input:\n    helmChart: {repository: pipecd, name: helloworld, version: 1.0.0}\n", []]
]

const chartYaml = `apiVersion: v2
name: platform
version: 0.1.0
dependencies:
  - name: common
    version: 2.13.3
    repository: https://charts.bitnami.com/bitnami
    tags:
      - bitnami-common
  - name: postgresql
    version: "~13.2"
    repository: oci://registry-1.docker.io/bitnamicharts
    condition: postgresql.enabled
  - name: redis
    version: 18.6.1
    repository: "@bitnami"
  - name: memcached
    version: 6.14.0
    repository: alias:bitnami
  - name: local
    version: 0.1.0
    repository: file://../local
  - name: vendored
    version: 0.1.0
`

const dependencies: ReadonlyArray<Case> = [
  ["URL, OCI and alias dependencies; local ones passed over", "charts/platform/Chart.yaml", chartYaml, [
    chart("chart-dependency", "common", ["https://charts.bitnami.com/bitnami", "url"], "dependencies[0].version", "2.13.3", 6),
    chart("chart-dependency", "postgresql", ["oci://registry-1.docker.io/bitnamicharts", "oci"], "dependencies[1].version", "~13.2", 11),
    chart("chart-dependency", "redis", ["bitnami", "name"], "dependencies[2].version", "18.6.1", 15),
    chart("chart-dependency", "memcached", ["bitnami", "name"], "dependencies[3].version", "6.14.0", 18)
  ]],
  ["requirements.yaml of an apiVersion v1 chart", "chart/requirements.yaml",
    "dependencies:\n- name: mysql\n  version: 1.6.9\n  repository: https://charts.helm.sh/stable\n",
    [chart("chart-dependency", "mysql", ["https://charts.helm.sh/stable", "url"], "dependencies[0].version", "1.6.9", 3)]],
  ["dependencies in any other file are not a chart's", "values.yaml", chartYaml, []],
  ["an empty alias, an unknown scheme, a missing name", "Chart.yaml",
    "dependencies:\n- {name: a, version: 1.0.0, repository: '@'}\n- {name: b, version: 1.0.0, repository: 'alias:'}\n- {name: c, version: 1.0.0, repository: 'git://x/y'}\n- {version: 1.0.0, repository: 'https://x'}\n",
    []]
]

// Argo CD's documentation: a Helm chart from a repository, an OCI one, and a multi-source Application.
const argoApp = (spec: string) => `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\n  namespace: argocd\nspec:\n  project: default\n${spec}  destination:\n    server: "https://kubernetes.default.svc"\n    namespace: app\n`

const argocd: ReadonlyArray<Case> = [
  ["spec.source with a Helm repository", "sealed-secrets.yaml",
    argoApp("  source:\n    chart: sealed-secrets\n    repoURL: https://bitnami-labs.github.io/sealed-secrets\n    targetRevision: 1.16.1\n    helm:\n      releaseName: sealed-secrets\n"),
    [chart("argocd", "sealed-secrets", ["https://bitnami-labs.github.io/sealed-secrets", "url"], "spec.source.targetRevision", "1.16.1", 11)]],
  ["an OCI repository as Argo CD writes it, without scheme, and with oci://", "nginx.yaml",
    `${argoApp("  source:\n    chart: nginx\n    repoURL: registry-1.docker.io/bitnamicharts\n    targetRevision: 15.9.0\n")}---\n${
      argoApp("  source:\n    chart: nginx\n    repoURL: oci://ghcr.io/org/charts\n    targetRevision: 1.2.*\n")
    }`,
    [
      chart("argocd", "nginx", ["registry-1.docker.io/bitnamicharts", "oci"], "spec.source.targetRevision", "15.9.0", 11),
      chart("argocd", "nginx", ["oci://ghcr.io/org/charts", "oci"], "spec.source.targetRevision", "1.2.*", 26, 1)
    ]],
  ["spec.sources: the charts, not the git sources", "prometheus.yaml",
    argoApp(`  sources:
    - repoURL: 'https://prometheus-community.github.io/helm-charts'
      chart: prometheus
      targetRevision: 15.7.1
      helm:
        valueFiles:
        - $values/charts/prometheus/values.yaml
    - repoURL: 'https://git.example.com/org/value-files.git'
      targetRevision: dev
      ref: values
    - repoURL: registry.example.com:5000/charts
      chart: grafana
      targetRevision: ">=7.0.0 <8.0.0"
`),
    [
      chart("argocd", "prometheus", ["https://prometheus-community.github.io/helm-charts", "url"], "spec.sources[0].targetRevision", "15.7.1", 11),
      chart("argocd", "grafana", ["registry.example.com:5000/charts", "oci"], "spec.sources[2].targetRevision", ">=7.0.0 <8.0.0", 20)
    ]],
  ["spec.source is Argo CD's only while spec.sources is empty", "both.yaml",
    `${argoApp("  source: {chart: ignored, repoURL: 'https://c.example.com', targetRevision: 1.0.0}\n  sources:\n    - {chart: used, repoURL: 'https://c.example.com', targetRevision: 2.0.0}\n")}---\n${
      argoApp("  source: {chart: single, repoURL: 'https://c.example.com', targetRevision: 3.0.0}\n  sources: []\n")
    }`,
    [
      chart("argocd", "used", ["https://c.example.com", "url"], "spec.sources[0].targetRevision", "2.0.0", 10),
      chart("argocd", "single", ["https://c.example.com", "url"], "spec.source.targetRevision", "3.0.0", 22, 1)
    ]],
  ["git sources, git addresses with a chart, templated and empty revisions: passed over", "apps.yaml",
    argoApp("  source:\n    repoURL: https://github.com/argoproj/argocd-example-apps.git\n    targetRevision: HEAD\n    path: guestbook\n") + "---\n" +
    argoApp(`  sources:
    - {repoURL: 'git@github.com:org/charts.git', chart: x, targetRevision: 1.0.0}
    - {repoURL: 'ssh://git@github.com/org/charts.git', chart: x, targetRevision: 1.0.0}
    - {repoURL: 'https://charts.example.com', chart: x, targetRevision: '{{ .Values.version }}'}
    - {repoURL: 'https://charts.example.com', chart: x, targetRevision: ''}
    - {repoURL: 'https://charts.example.com', chart: x}
    - {repoURL: '{{ .Values.repo }}', chart: x, targetRevision: 1.0.0}
`),
    []],
  ["an ApplicationSet, or another group's Application, is not looked into", "set.yaml",
    "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nspec:\n  source: {chart: x, repoURL: 'https://c', targetRevision: 1.0.0}\n---\napiVersion: app.k8s.io/v1beta1\nkind: Application\nspec:\n  source: {chart: x, repoURL: 'https://c', targetRevision: 1.0.0}\n",
    []],
  ["a List's items", "list.yaml",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n- apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  spec:\n    source: {chart: x, repoURL: 'https://c.example.com', targetRevision: 1.0.0}\n",
    [chart("argocd", "x", ["https://c.example.com", "url"], "items[1].spec.source.targetRevision", "1.0.0", 9)]]
]

// Flux's podinfo example: a HelmRepository and a HelmRelease in one file, and an OCI HelmRepository.
const fluxFile = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: default
spec:
  interval: 5m
  url: https://stefanprodan.github.io/podinfo
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: default
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: '6.5.*'
      sourceRef:
        kind: HelmRepository
        name: podinfo
      interval: 5m
  releaseName: podinfo
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo-oci
spec:
  type: oci
  url: oci://ghcr.io/stefanprodan/charts
---
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: podinfo-pinned
spec:
  chart:
    spec:
      chart: podinfo
      version: 6.5.4
      sourceRef:
        kind: HelmRepository
        name: podinfo-oci
        namespace: flux-system
`

const flux: ReadonlyArray<Case> = [
  ["HelmReleases beside their HelmRepositories", "infrastructure/podinfo.yaml", fluxFile, [
    chart("flux", "podinfo", ["default/podinfo", "flux-source"], "spec.chart.spec.version", "6.5.*", 20, 1),
    chart("flux", "podinfo", ["flux-system/podinfo-oci", "flux-source"], "spec.chart.spec.version", "6.5.4", 43, 3)
  ]],
  ["a sourceRef without namespace in a release without one", "release.yaml",
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec: {chart: podinfo, version: 6.5.4, sourceRef: {kind: HelmRepository, name: podinfo}}\n",
    [chart("flux", "podinfo", ["podinfo", "flux-source"], "spec.chart.spec.version", "6.5.4", 5)]],
  ["chartRef, git and bucket sources, no version, templated: passed over", "releases.yaml",
    [
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chartRef: {kind: OCIRepository, name: podinfo}\n",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec: {chart: ./charts/podinfo, version: 1.0.0, sourceRef: {kind: GitRepository, name: repo}}\n",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec: {chart: podinfo, version: 1.0.0, sourceRef: {kind: Bucket, name: b}}\n",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}\n",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec: {chart: podinfo, version: '${VERSION}', sourceRef: {kind: HelmRepository, name: podinfo}}\n"
    ].join("---\n"),
    []]
]

const scan = (text: string, path: string): ReadonlyArray<FoundChart> => {
  const found = scanChartReferences(text, path)
  if (Either.isLeft(found)) throw new Error(found.left)
  return found.right
}

/** The scalar a chart target's field finds, read as a `format: tag` target's field is. */
const hitFor = (text: string, found: FoundChart) => {
  const segments = parseFieldPath(found.field)
  if (Either.isLeft(segments)) throw new Error(segments.left.message)
  expect(formatFieldPath(segments.right)).toBe(found.field)
  const compiled = compileTarget(targetConfig({ field: found.field, format: "tag" }))
  const manifest = parseManifest(text)
  if (Either.isLeft(compiled) || Either.isLeft(manifest)) throw new Error("unexpected")
  const hits = fieldHits(manifest.right, compiled.right)
  if (Either.isLeft(hits)) throw new Error(hits.left.detail)
  return hits.right.find((hit) => hit.document === found.document)
}

describe("scanChartReferences", () => {
  const all = [...pipecd, ...dependencies, ...argocd, ...flux]
  test.each(all)("%s", (_, path, text, expected) => {
    expect(scan(text, path)).toEqual([...expected])
  })

  test.each(all.filter(([, , , expected]) => expected.length > 0))("fields found round-trip and fieldHits finds the version: %s", (_, path, text) => {
    for (const found of scan(text, path)) {
      const hit = hitFor(text, found)
      expect(hit?.line).toBe(found.line)
      expect(hit?.value).toBe(found.version)
    }
  })

  test("a file that is not YAML is an error naming it", () => {
    expect(scanChartReferences("a: [1\n", "Chart.yaml")).toEqual(Either.left(expect.stringContaining("Chart.yaml: YAML document 1")))
    expect(scanFluxRepositories("a: [1\n", "r.yaml")).toEqual(Either.left(expect.stringContaining("r.yaml: YAML document 1")))
  })
})

describe("scanFluxRepositories", () => {
  const repo = (name: string, namespace: string | undefined, url: string, type: FoundFluxRepository["type"], document: number, line: number): FoundFluxRepository => ({
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ref: namespace === undefined ? name : `${namespace}/${name}`,
    url,
    type,
    document,
    line
  })
  test.each<readonly [string, string, ReadonlyArray<FoundFluxRepository>]>([
    ["the HelmRepositories of a multi-document file, by url line", fluxFile, [
      repo("podinfo", "default", "https://stefanprodan.github.io/podinfo", "default", 0, 8),
      repo("podinfo-oci", undefined, "oci://ghcr.io/stefanprodan/charts", "oci", 2, 33)
    ]],
    ["an oci:// url without type, in a List", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: source.toolkit.fluxcd.io/v1beta2\n  kind: HelmRepository\n  metadata: {name: r}\n  spec: {url: 'oci://ghcr.io/x'}\n", [
      repo("r", undefined, "oci://ghcr.io/x", "oci", 0, 7)
    ]],
    ["no name, no url, templated url, another group's kind", [
      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nspec: {url: 'https://x'}\n",
      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: r}\nspec: {interval: 5m}\n",
      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: r}\nspec: {url: '${URL}'}\n",
      "apiVersion: example.com/v1\nkind: HelmRepository\nmetadata: {name: r}\nspec: {url: 'https://x'}\n"
    ].join("---\n"), []]
  ])("%s", (_, text, expected) => {
    const found = scanFluxRepositories(text, "r.yaml")
    expect(found).toEqual(Either.right([...expected]))
  })
})

describe("isVersionRange", () => {
  test.each([
    ["1.2.3", false], ["v0.30.0", false], ["1.10", false], ["1.2.3-rc.1+build.5", false], ["1.2.3-x", false],
    ["~1.2", true], ["^1.2.3", true], ["*", true], ["1.2.*", true], ["1.x", true], ["1.2.X", true],
    [">=1.0.0 <2", true], [">1", true], ["<2", true], ["1.2 - 1.4", true], ["^1 || ^2", true], [">=1,<2", true], ["=1.2.3", true], ["!=1.2.3", true]
  ] as const)("%s is a range: %p", (version, ranged) => {
    expect(isVersionRange(version)).toBe(ranged)
  })
})

describe("hostile files finish fast", () => {
  // The parse is scan.test.ts's and patch's to bound; this times what the chart scan adds to it.
  const timed = (text: string, path: string): number => {
    const manifest = parseManifest(text)
    if (Either.isLeft(manifest)) throw new Error(manifest.left.message)
    const started = performance.now()
    scanChartManifest(manifest.right, path)
    fluxRepositoriesIn(manifest.right)
    return (performance.now() - started) / 1000
  }
  // About the 1.5 MiB a manifest may have (pipeline/sizeLimit.ts).
  test.each<readonly [string, string, string, number]>([
    ["25,000 dependencies", "Chart.yaml", "dependencies:\n" + Array.from({ length: 25_000 }, (_, i) => `- {name: c${i}, version: 1.0.${i}, repository: '@r'}`).join("\n"), 3],
    ["25,000 sources", "app.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  sources:\n" + Array.from({ length: 25_000 }, (_, i) => `  - {chart: c${i}, repoURL: r.io/c, targetRevision: 1.0.${i}}`).join("\n"), 3],
    ["25,000 List items", "list.yaml", "apiVersion: v1\nkind: List\nitems:\n" + Array.from({ length: 25_000 }, (_, i) => `- {apiVersion: source.toolkit.fluxcd.io/v1, kind: HelmRepository, metadata: {name: r${i}}, spec: {url: 'oci://r.io/c'}}`).join("\n"), 3],
    ["a helmChart map of 40,000 keys", "app.pipecd.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: KubernetesApp\nspec:\n  input:\n    helmChart:\n" + Array.from({ length: 40_000 }, (_, i) => `      k${i}: v`).join("\n") + "\n      repository: r\n      name: c\n      version: 1.0.0\n", 3],
    // One long scalar: a pattern that tries many ways to split its path took seconds here.
    ["a repoURL of 1 MiB that is not an OCI address", "app.yaml",
      `apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source: {chart: c, repoURL: 'a${"/a".repeat(500_000)}:', targetRevision: 1.0.0}\n`, 0.5]
  ])("%s", (_, path, text, seconds) => {
    expect(timed(text, path)).toBeLessThan(seconds)
  }, 30_000)
})
