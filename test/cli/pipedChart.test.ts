/**
 * deploy/kubernetes/piped-chart/ adds the runner to the Deployment of PipeCD's Piped chart: the
 * chart's Deployment as `helm template` renders it (fixtures/piped-chart-deployment.yaml) goes
 * through the directory's Kustomization, and what comes out runs the runner with arguments it
 * accepts, on the chart's config and secret, meets the restricted Pod Security Standard, and
 * matches the Kubernetes API's schema. The checks read the output of kustomizeLite (which needs
 * no kubectl: CI has none); where kubectl exists, the Helm post-renderer (kubectl kustomize) must
 * give the same objects. RUNNER_TEST_NO_KUBECTL=1 runs the tests as where kubectl is missing.
 */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { cpSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseAllDocuments, stringify } from "yaml"
import { parseArgs } from "../../src/args.ts"
import { parseListen } from "../../src/server/listen.ts"
import { schemaErrors } from "../support/kubernetesTypes.ts"
import { byKindAndName, kustomizeLite } from "../support/kustomizeLite.ts"
import { tempDir } from "../support/tempDirs.ts"

const repoFile = (path: string) => Bun.fileURLToPath(new URL(`../../${path}`, import.meta.url))
const chartDeployment = readFileSync(new URL("fixtures/piped-chart-deployment.yaml", import.meta.url), "utf8")

/**
 * The fixture as the chart renders it for `release`: everything is named `<release>-piped`, or
 * the release's name when it holds "piped" (the fixture's release is "piped"). The container
 * keeps its name, piped, whatever the release.
 */
const rendered = (release: string) => {
  if (release === "piped") return chartDeployment
  const full = release.includes("piped") ? release : `${release}-piped`
  return chartDeployment
    .replace(/^ {2}name: piped$/m, `  name: ${full}`)
    .replace(/(app\.kubernetes\.io\/instance:) piped$/gm, `$1 ${release}`)
    .replace(/(serviceAccountName|secretName): piped$/gm, `$1: ${full}`)
    .replace(/(configMap:\n\s+name:) piped$/m, `$1 ${full}`)
}

interface SecurityContext {
  readonly runAsNonRoot?: boolean
  readonly runAsUser?: number
  readonly readOnlyRootFilesystem?: boolean
  readonly allowPrivilegeEscalation?: boolean
  readonly privileged?: boolean
  readonly capabilities?: { readonly drop?: ReadonlyArray<string>; readonly add?: ReadonlyArray<string> }
  readonly seccompProfile?: { readonly type: string }
}
interface Container {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly ports?: ReadonlyArray<{ readonly name: string; readonly containerPort: number }>
  readonly volumeMounts: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
  readonly livenessProbe?: { readonly httpGet: { readonly path: string } }
  readonly readinessProbe?: { readonly httpGet: { readonly path: string } }
  readonly securityContext?: SecurityContext
}
interface Volume {
  readonly name: string
  readonly secret?: { readonly secretName: string; readonly items?: ReadonlyArray<{ readonly key: string; readonly path: string }> }
  readonly configMap?: { readonly name: string }
  readonly persistentVolumeClaim?: { readonly claimName: string }
  readonly [type: string]: unknown
}
interface Manifest {
  readonly kind: string
  readonly metadata: { readonly name: string }
  readonly data?: unknown
  readonly spec: {
    readonly accessModes?: ReadonlyArray<string>
    readonly selector?: Record<string, unknown>
    readonly ports?: ReadonlyArray<{ readonly targetPort: string }>
    readonly template: {
      readonly metadata: { readonly labels: Record<string, string> }
      readonly spec: { readonly containers: ReadonlyArray<Container>; readonly volumes: ReadonlyArray<Volume>; readonly securityContext?: SecurityContext }
    }
  }
}

const docsOf = (yaml: string): ReadonlyArray<Manifest> => parseAllDocuments(yaml).map((d) => d.toJS())

/** The chart under launcher.configFromGitRepo: no piped-config mount or volume (templates/deployment.yaml's conditions). */
const fromGitRepo = (yaml: string) =>
  yaml.replace(/\n {12}- name: piped-config\n {14}mountPath: \/etc\/piped-config\n {14}readOnly: true/, "").replace(/\n {8}- name: piped-config\n {10}configMap:\n {12}name: \S+/, "")

/** The directory's Kustomization with its commented lines for launcher.configFromGitRepo taken in. */
const withConfigFromGit = (kustomization: string) => {
  const uncommented = kustomization.replace(/^ {2}# (- path: config-from-git\.yaml\n) {2}# (.+\n) {2}# (.+\n) {2}# (.+\n)/m, "  $1  $2  $3  $4")
  expect(uncommented).not.toBe(kustomization)
  return uncommented
}

/** What goes through the Kustomization: the chart's output, and for configFromGitRepo the kustomization edited as its comment says. */
const cases = {
  piped: { chart: rendered("piped"), configFromGit: false },
  dev: { chart: rendered("dev"), configFromGit: false },
  "dev with launcher.configFromGitRepo": { chart: fromGitRepo(rendered("dev")), configFromGit: true }
} as const
type Case = keyof typeof cases

/** The directory as post-render.sh lays it out: a copy of deploy/kubernetes/piped-chart/ with the chart's output as chart.yaml. */
const workDir = (name: Case) => {
  const dir = tempDir("runner-chart-")
  cpSync(repoFile("deploy/kubernetes/piped-chart"), dir, { recursive: true })
  if (cases[name].configFromGit) writeFileSync(join(dir, "kustomization.yaml"), withConfigFromGit(readFileSync(join(dir, "kustomization.yaml"), "utf8")))
  writeFileSync(join(dir, "chart.yaml"), cases[name].chart)
  return dir
}

const outputs = new Map<Case, ReadonlyArray<Manifest>>()

/** The Kustomization's output for a case, by kustomizeLite (once per case). */
const render = (name: Case): ReadonlyArray<Manifest> => {
  const done = outputs.get(name)
  if (done !== undefined) return done
  // Written and read back as YAML, as the post-renderer's output is.
  const docs = docsOf(kustomizeLite(workDir(name)).map((d) => stringify(d)).join("---\n"))
  outputs.set(name, docs)
  return docs
}

/** The same by kubectl, with what it said on stderr: the Helm post-renderer itself, or `kubectl kustomize` of the edited directory. */
const renderByKubectl = (name: Case) => {
  const run = cases[name].configFromGit
    ? Bun.spawnSync(["kubectl", "kustomize", workDir(name)])
    : Bun.spawnSync([repoFile("deploy/kubernetes/piped-chart/post-render.sh")], { stdin: new TextEncoder().encode(cases[name].chart) })
  if (run.exitCode !== 0) throw new Error(`kubectl kustomize failed: ${run.stderr.toString()}`)
  return { docs: docsOf(run.stdout.toString()), stderr: run.stderr.toString() }
}

const podOf = (docs: ReadonlyArray<Manifest>) => {
  const deployments = docs.filter((d) => d.kind === "Deployment")
  expect(deployments.length).toBe(1)
  const [deployment] = deployments
  if (deployment === undefined) throw new Error("no Deployment")
  const container = (name: string) => {
    const found = deployment.spec.template.spec.containers.find((c) => c.name === name)
    if (found === undefined) throw new Error(`no container ${name}`)
    return found
  }
  return { deployment, pod: deployment.spec.template, container }
}

/** What the restricted Pod Security Standard (v1.30) asks that a container or its pod does not give. */
const restrictedViolations = (pod: Manifest["spec"]["template"]): ReadonlyArray<string> => {
  const allowedVolumes = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"])
  const problems = pod.spec.volumes.flatMap((v) => Object.keys(v).filter((k) => k !== "name" && !allowedVolumes.has(k)).map((k) => `volume ${v.name}: ${k}`))
  for (const c of pod.spec.containers) {
    const sc = c.securityContext ?? {}
    const seccomp = sc.seccompProfile?.type ?? pod.spec.securityContext?.seccompProfile?.type
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problems.push(`${c.name}: seccompProfile`)
    if ((sc.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot) !== true) problems.push(`${c.name}: runAsNonRoot`)
    if ((sc.runAsUser ?? pod.spec.securityContext?.runAsUser) === 0) problems.push(`${c.name}: runAsUser 0`)
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${c.name}: allowPrivilegeEscalation`)
    if (sc.privileged === true) problems.push(`${c.name}: privileged`)
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) problems.push(`${c.name}: capabilities.drop ALL`)
    for (const cap of sc.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") problems.push(`${c.name}: capabilities.add ${cap}`)
  }
  return problems
}

const runCommand = (argv: ReadonlyArray<string>) => {
  const parsed = Either.getOrThrow(parseArgs(argv, {}))
  if (parsed._tag !== "Run") throw new Error(`not a run command: ${parsed._tag}`)
  expect(parsed.once).toBe(false)
  expect(Either.isRight(parseListen(parsed.listen ?? ""))).toBe(true)
  return parsed
}

const kubectl = process.env["RUNNER_TEST_NO_KUBECTL"] === "1" ? null : Bun.which("kubectl")

describe.skipIf(kubectl === null).each(Object.keys(cases) as ReadonlyArray<Case>)("the chart of %s", (name) => {
  test("kubectl kustomize gives the same objects as kustomizeLite, on which the checks run", () => {
    const { docs, stderr } = renderByKubectl(name)
    expect(stderr).toBe("")
    expect(byKindAndName(docs)).toStrictEqual(byKindAndName(render(name)))
  })
})

test("the chart alone does not meet the restricted Pod Security Standard: the patch is what does", () => {
  const { pod } = podOf(docsOf(rendered("piped")))
  expect(restrictedViolations(pod)).toEqual(["piped: seccompProfile", "piped: allowPrivilegeEscalation", "piped: capabilities.drop ALL"])
  expect(schemaErrors(docsOf(rendered("dev")))).toEqual([])
}, 30_000)

describe.each(["piped", "dev"] as const)("the chart of release %s through the Kustomization", (release) => {
  const full = release.includes("piped") ? release : `${release}-piped`

  test("the runner reads the chart's config file and only its own keys of the chart's Secret", () => {
    const docs = render(release)
    const { deployment, pod, container } = podOf(docs)
    expect(deployment.metadata.name).toBe(full)
    const [piped, runner] = [container("piped"), container("runner")]
    // Piped's container is the chart's, arguments and mounts unchanged.
    const chart = podOf(docsOf(rendered(release)))
    expect(piped.args).toEqual(chart.container("piped").args)
    expect(piped.volumeMounts).toEqual(chart.container("piped").volumeMounts)
    const cmd = runCommand(runner.args)
    // The same file Piped reads, through the chart's own volume and ConfigMap.
    expect(cmd.configs).toEqual([piped.args.find((a) => a.startsWith("--config-file="))?.slice("--config-file=".length) ?? "?"])
    const volumes = new Map(pod.spec.volumes.map((v) => [v.name, v]))
    const mountOf = (c: Container, path: string) => c.volumeMounts.find((m) => path.startsWith(`${m.mountPath}/`) || path === m.mountPath)
    expect(volumes.get(mountOf(runner, cmd.configs[0] ?? "?")?.name ?? "?")?.configMap?.name).toBe(full)
    // The chart's Secret at the chart's path, but only the keys the sidecar's config names.
    const pipedSecret = piped.volumeMounts.find((m) => m.name === "piped-secret")
    const runnerSecret = volumes.get(mountOf(runner, pipedSecret?.mountPath ?? "?")?.name ?? "?")
    expect(runnerSecret?.name).not.toBe("piped-secret")
    expect(runnerSecret?.secret?.secretName).toBe(full)
    const named = [...readFileSync(repoFile("pipelines/sidecar.yaml"), "utf8").matchAll(/^\s*(\w+):\s*\/etc\/piped-secret\/(\S+)/gm)]
      .filter((m) => m[1] !== "pipedKeyFile")
      .map((m) => m[2] ?? "")
    expect((runnerSecret?.secret?.items ?? []).map((i) => i.path).sort()).toEqual(named.sort())
    // The API token: a Secret of its own, which the output does not carry (no placeholder to overwrite it).
    expect(volumes.get(mountOf(runner, cmd.apiTokenFile ?? "?")?.name ?? "?")?.secret?.secretName).toBe("piped-runner-api-token")
    for (const d of docs) expect(d.kind).not.toBe("Secret")
  })

  test("probes on /healthz and /readyz, the data dir on a claim of the output, a Service on the chart's pods", () => {
    const docs = render(release)
    const { deployment, pod, container } = podOf(docs)
    const runner = container("runner")
    expect(runner.livenessProbe?.httpGet.path).toBe("/healthz")
    expect(runner.readinessProbe?.httpGet.path).toBe("/readyz")
    const dataDir = runCommand(runner.args).dataDir
    const claim = pod.spec.volumes.find((v) => v.name === runner.volumeMounts.find((m) => m.mountPath === dataDir)?.name)?.persistentVolumeClaim?.claimName
    expect(docs.find((d) => d.kind === "PersistentVolumeClaim" && d.metadata.name === claim)?.spec.accessModes).toEqual(["ReadWriteOnce"])
    const service = docs.find((d) => d.kind === "Service")
    expect(service?.spec.selector).toEqual(deployment.spec.selector?.["matchLabels"] as Record<string, unknown>)
    expect(service?.spec.selector).toEqual(pod.metadata.labels)
    expect(runner.ports?.map((p) => p.name)).toContain(service?.spec.ports?.[0]?.targetPort)
  })

  test("the restricted Pod Security Standard for both containers, and the API's schema", () => {
    const docs = render(release)
    const { pod, container } = podOf(docs)
    expect(restrictedViolations(pod)).toEqual([])
    expect(container("runner").securityContext).toMatchObject({ runAsUser: 65532, readOnlyRootFilesystem: true })
    expect(schemaErrors(docs)).toEqual([])
  }, 30_000)
})

test("launcher.configFromGitRepo: the commented patch gives the runner its config from a ConfigMap of its own", () => {
  const before = podOf(docsOf(cases["dev with launcher.configFromGitRepo"].chart))
  expect(before.pod.spec.volumes.map((v) => v.name)).toEqual(["piped-secret"])
  expect(before.container("piped").volumeMounts.map((m) => m.name)).toEqual(["piped-secret"])
  const { pod, container } = podOf(render("dev with launcher.configFromGitRepo"))
  const volumes = new Map(pod.spec.volumes.map((v) => [v.name, v]))
  // Every mount of the runner has its volume; Piped's container still mounts no config.
  for (const m of container("runner").volumeMounts) expect(volumes.has(m.name)).toBe(true)
  const config = runCommand(container("runner").args).configs[0] ?? "?"
  const mount = container("runner").volumeMounts.find((m) => config.startsWith(`${m.mountPath}/`))
  expect(volumes.get(mount?.name ?? "?")?.configMap?.name).toBe("piped-runner-config")
  expect(config.endsWith("/piped-config.yaml")).toBe(true)
  expect(container("piped").volumeMounts.map((m) => m.name)).toEqual(["piped-secret"])
})

test("the sidecar example (piped-with-runner.yaml) matches the API's schema too", () => {
  const docs = docsOf(readFileSync(repoFile("deploy/kubernetes/piped-with-runner.yaml"), "utf8"))
  expect(schemaErrors(docs)).toEqual([])
  expect(restrictedViolations(podOf(docs).pod)).toEqual([])
}, 30_000)
