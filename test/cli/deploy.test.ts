/**
 * The deployment examples in deploy/ start the runner with arguments it accepts, probe what it
 * serves, and keep the hardening an audit asks for: the restricted Pod Security Standard, only the
 * secrets the runner reads, no placeholder Secret, pinned base images, a small build context, a
 * hardened systemd unit; and build.ts names its outputs as their platforms expect.
 */
import { expect, test } from "bun:test"
import { Either } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseAllDocuments } from "yaml"
import { outfileFor, versionOf } from "../../build.ts"
import { parseArgs } from "../../src/args.ts"
import { UNUSABLE } from "../../src/exitCodes.ts"
import { PACKAGE_VERSION } from "../../src/version.ts"
import { parseListen } from "../../src/server/listen.ts"
import { tempDir } from "../support/tempDirs.ts"

const repoFile = (path: string) => new URL(`../../${path}`, import.meta.url)
const read = (path: string) => readFileSync(repoFile(`deploy/${path}`), "utf8")

const runCommand = (argv: ReadonlyArray<string>) => {
  const parsed = Either.getOrThrow(parseArgs(argv, {}))
  if (parsed._tag !== "Run") throw new Error(`not a run command: ${parsed._tag}`)
  expect(parsed.once).toBe(false)
  expect(Either.isRight(parseListen(parsed.listen ?? ""))).toBe(true)
  expect(parsed.apiTokenFile).toBeDefined()
  return parsed
}

interface SecurityContext {
  readonly runAsNonRoot?: boolean
  readonly runAsUser?: number
  readonly readOnlyRootFilesystem?: boolean
  readonly allowPrivilegeEscalation?: boolean
  readonly capabilities?: { readonly drop?: ReadonlyArray<string>; readonly add?: ReadonlyArray<string> }
  readonly seccompProfile?: { readonly type: string }
}
interface Container {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly ports: ReadonlyArray<{ readonly name: string; readonly containerPort: number }>
  readonly volumeMounts: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
  readonly livenessProbe: { readonly httpGet: { readonly path: string } }
  readonly readinessProbe: { readonly httpGet: { readonly path: string } }
  readonly resources: { readonly requests: { readonly memory: string }; readonly limits: { readonly memory: string } }
  readonly securityContext?: SecurityContext
}
interface Volume {
  readonly name: string
  readonly secret?: { readonly secretName: string; readonly items?: ReadonlyArray<{ readonly key: string; readonly path: string }> }
  readonly emptyDir?: unknown
  readonly persistentVolumeClaim?: { readonly claimName: string }
}
interface Manifest {
  readonly kind: string
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> }
  readonly data?: unknown
  readonly stringData?: unknown
  readonly spec: {
    readonly accessModes?: ReadonlyArray<string>
    readonly template: {
      readonly metadata: { readonly annotations?: Record<string, string> }
      readonly spec: { readonly containers: ReadonlyArray<Container>; readonly volumes: ReadonlyArray<Volume>; readonly securityContext?: SecurityContext }
    }
    readonly ports: ReadonlyArray<{ readonly targetPort: string; readonly port: number }>
  }
}

const manifest = () => {
  const docs: ReadonlyArray<Manifest> = parseAllDocuments(read("kubernetes/piped-with-runner.yaml")).map((d) => d.toJS())
  const deployment = docs.find((d) => d.kind === "Deployment")
  if (deployment === undefined) throw new Error("no Deployment")
  const pod = deployment.spec.template
  const [runner, piped] = [pod.spec.containers.find((c) => c.name === "runner"), pod.spec.containers.find((c) => c.name === "piped")]
  if (runner === undefined || piped === undefined) throw new Error("no runner or piped container")
  return { docs, pod, runner, piped }
}

test("the Kubernetes sidecar: accepted arguments, probes on /healthz and /readyz, Piped's config and secret paths", () => {
  const { docs, pod, runner, piped } = manifest()
  const cmd = runCommand(runner.args)
  expect(runner.livenessProbe.httpGet.path).toBe("/healthz")
  expect(runner.readinessProbe.httpGet.path).toBe("/readyz")
  const byPath = (c: Container) => new Map(c.volumeMounts.map((m) => [m.mountPath, m.name]))
  const byName = (c: Container) => new Map(c.volumeMounts.map((m) => [m.name, m.mountPath]))
  // Same paths: the paths inside Piped's config file hold in the sidecar too.
  for (const path of byPath(piped).keys()) expect(byPath(runner).has(path)).toBe(true)
  expect(cmd.configs[0]?.startsWith(byName(runner).get("piped-config") ?? "?")).toBe(true)
  expect(cmd.apiTokenFile?.startsWith(byName(runner).get("runner-api-token") ?? "?")).toBe(true)
  expect(cmd.dataDir).toBe(byName(runner).get("runner-data"))
  const service = docs.find((d) => d.kind === "Service" && d.spec.ports[0]?.targetPort === runner.ports[0]?.name)
  expect(service).toBeDefined()
  // Piped's scrape annotations stay Piped's; the runner's metrics go through its Service.
  expect(pod.metadata.annotations?.["prometheus.io/port"]).not.toBe(String(runner.ports[0]?.containerPort))
  expect(service?.metadata.annotations?.["prometheus.io/port"]).toBe(String(runner.ports[0]?.containerPort))
})

test("the Kubernetes sidecar: the data dir is on a PersistentVolumeClaim of the file, so first sightings survive a restart", () => {
  const { docs, pod, runner } = manifest()
  const dataDir = runCommand(runner.args).dataDir
  const mount = runner.volumeMounts.find((m) => m.mountPath === dataDir)
  const volume = pod.spec.volumes.find((v) => v.name === mount?.name)
  expect(volume?.emptyDir).toBeUndefined()
  const claimName = volume?.persistentVolumeClaim?.claimName
  expect(claimName).toBeDefined()
  const claim = docs.find((d) => d.kind === "PersistentVolumeClaim" && d.metadata.name === claimName)
  expect(claim?.spec.accessModes).toEqual(["ReadWriteOnce"])
})

test("the Kubernetes sidecar: only the secret files the runner reads, and no placeholder Secret", () => {
  const { docs, pod, runner, piped } = manifest()
  // No Secret with data: `kubectl apply` of the example would overwrite the real one.
  for (const d of docs) if (d.kind === "Secret") expect({ name: d.metadata.name, data: d.data ?? d.stringData }).toEqual({ name: d.metadata.name, data: undefined })
  const volumes = new Map(pod.spec.volumes.map((v) => [v.name, v]))
  const pipedSecretPath = piped.volumeMounts.find((m) => m.name === "piped-secret")?.mountPath ?? "?"
  const mount = runner.volumeMounts.find((m) => m.mountPath === pipedSecretPath)
  const volume = volumes.get(mount?.name ?? "?")
  expect(volume?.secret?.secretName).toBe(volumes.get("piped-secret")?.secret?.secretName ?? "?")
  // The keys are the files under Piped's secret path that the sidecar's config names, except Piped's own key.
  const named = [...readFileSync(repoFile("pipelines/sidecar.yaml"), "utf8").matchAll(/^\s*(\w+):\s*\/etc\/piped-secret\/(\S+)/gm)]
    .filter((m) => m[1] !== "pipedKeyFile")
    .map((m) => m[2])
  expect(named.length).toBeGreaterThan(0)
  expect((volume?.secret?.items ?? []).map((i) => i.path).sort()).toEqual(named.sort() as Array<string>)
  expect((volume?.secret?.items ?? []).some((i) => i.key === "piped-key")).toBe(false)
})

test("the Kubernetes sidecar: the restricted Pod Security Standard, memory above the measured peak", () => {
  const { pod, runner, piped } = manifest()
  for (const c of [runner, piped]) {
    const seccomp = c.securityContext?.seccompProfile?.type ?? pod.spec.securityContext?.seccompProfile?.type
    expect(seccomp).toBe("RuntimeDefault")
    expect(c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot).toBe(true)
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false)
    expect(c.securityContext?.capabilities?.drop).toContain("ALL")
    expect(c.securityContext?.capabilities?.add ?? []).toEqual([])
  }
  expect(runner.securityContext?.readOnlyRootFilesystem).toBe(true)
  expect(runner.securityContext?.runAsUser).toBe(65532)
  const bytes = (q: string) => {
    const m = /^(\d+)(Mi|Gi|M|G)$/.exec(q)
    if (m === null) throw new Error(`unexpected quantity ${q}`)
    return Number(m[1]) * { Mi: 2 ** 20, Gi: 2 ** 30, M: 1e6, G: 1e9 }[m[2] as "Mi" | "Gi" | "M" | "G"]
  }
  // The README's Performance section: about 160 MB peak RSS for the 2,000-image pass.
  expect(bytes(runner.resources.requests.memory)).toBeGreaterThanOrEqual(160e6)
  expect(bytes(runner.resources.limits.memory)).toBeGreaterThan(bytes(runner.resources.requests.memory))
})

test("the image: base images pinned by digest by default, a user whose home is the data dir, a small build context", () => {
  const dockerfile = read("Dockerfile")
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] ?? "")
  expect(froms.length).toBe(2)
  // Each base image is a build argument whose default is NAME:TAG@sha256:DIGEST: a build with no
  // arguments is pinned, and one argument moves it.
  for (const from of froms) {
    const arg = /^\$\{(\w+)\}$/.exec(from)?.[1] ?? "?"
    expect(dockerfile).toMatch(new RegExp(`^ARG ${arg}=[a-z0-9./-]+:[\\w.-]+@sha256:[0-9a-f]{64}$`, "m"))
  }
  expect(dockerfile).toMatch(/useradd [^\n]*--uid 65532 [^\n]*--home-dir \/var\/cache\/runner /)
  expect(dockerfile).toMatch(/^ENV HOME=\/var\/cache\/runner\b/m)
  expect(dockerfile).toMatch(/^USER 65532:65532$/m)
  const dataDir = runCommand(manifest().runner.args).dataDir
  expect(dataDir).toBe("/var/cache/runner")

  const ignore = readFileSync(repoFile(".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))
  // Everything out, then only what the Dockerfile copies back in.
  expect(ignore[0]).toBe("*")
  for (const name of [".git", "node_modules"]) expect(ignore.includes(`!${name}`) || ignore.includes(`!${name}/`)).toBe(false)
  expect(ignore).toContain(".git")
  expect(ignore).toContain("node_modules")
  const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? "").split(/\s+/))
  const allowed = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""))
  expect(copied.sort()).toEqual(allowed.sort())
})

/** The Dockerfile's instructions, continuation lines joined. */
const instructions = () =>
  read("Dockerfile")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))

test("the image: the build installs production dependencies only, with the base image's bun", () => {
  const runs = instructions().filter((l) => l.startsWith("RUN "))
  const install = runs.filter((l) => /\b(bun|npm) (install|ci)\b/.test(l))
  expect(install.length).toBe(1)
  expect(install[0]).toMatch(/bun install --frozen-lockfile --production --ignore-scripts/)
  // bun, typescript and deno are development dependencies: a production install leaves them out.
  const pkg = JSON.parse(readFileSync(repoFile("package.json"), "utf8"))
  for (const tool of ["bun", "typescript", "deno"]) expect(Object.keys(pkg.devDependencies)).toContain(tool)
  expect(runs.some((l) => /\bbun build\.ts\b/.test(l))).toBe(true)
})

test("the image: a proxy's CA and an npm mirror as build arguments, OCI labels, the version with its commit", () => {
  const lines = instructions()
  const args = new Set(lines.flatMap((l) => /^ARG (\w+)/.exec(l)?.[1] ?? []))
  const runs = lines.filter((l) => l.startsWith("RUN ")).join("\n")
  for (const arg of ["EXTRA_CA_CERT", "NPM_REGISTRY", "RUNNER_VERSION", "REVISION", "CREATED", "SOURCE"]) expect(args.has(arg)).toBe(true)
  expect(runs).toMatch(/NPM_CONFIG_REGISTRY="\$\{NPM_REGISTRY\}"[^\n]*bun install/)
  expect(lines).toContain("ENV NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem")
  expect(runs).toMatch(/"\$\{EXTRA_CA_CERT\}" > \/usr\/local\/share\/ca-certificates\/[\w-]+\.crt && update-ca-certificates/)
  // The context has no .git: build.ts takes the version from RUNNER_VERSION.
  expect(runs).toMatch(/RUNNER_VERSION="\$\{RUNNER_VERSION\}" bun build\.ts/)
  const label = lines.find((l) => l.startsWith("LABEL ")) ?? ""
  const labels = new Map([...label.matchAll(/(org\.opencontainers\.image\.[\w.]+)="([^"]*)"/g)].map((m) => [m[1] ?? "", m[2] ?? ""]))
  expect(labels.get("org.opencontainers.image.version")).toBe("${RUNNER_VERSION}")
  expect(labels.get("org.opencontainers.image.revision")).toBe("${REVISION}")
  expect(labels.get("org.opencontainers.image.created")).toBe("${CREATED}")
  expect(labels.get("org.opencontainers.image.source")).toBe("${SOURCE}")
  for (const name of ["title", "licenses", "description"]) expect(labels.get(`org.opencontainers.image.${name}`)).toMatch(/\S/)
})

test("the image: the build commands in the files' headers name the Dockerfile, the context and its arguments", () => {
  const args = new Set(instructions().flatMap((l) => /^ARG (\w+)/.exec(l)?.[1] ?? []))
  const headers = ["Dockerfile", "kubernetes/piped-with-runner.yaml", "kubernetes/piped-chart/kustomization.yaml"].map(read)
  const commands = headers.flatMap((text) =>
    [...text.replace(/\\\n#\s*/g, " ").matchAll(/docker build (.+)$/gm)].map((m) => (m[1] ?? "").trim().split(/\s+/))
  )
  expect(commands.length).toBe(headers.length)
  for (const command of commands) {
    expect(command[command.indexOf("-f") + 1]).toBe("deploy/Dockerfile")
    // Run from the repository root: the context is "." and the only positional argument, last.
    expect(command.at(-1)).toBe(".")
    for (const [i, word] of command.entries()) if (word === "--build-arg") expect(args.has((command[i + 1] ?? "").split("=")[0] ?? "")).toBe(true)
  }
})

const unit = () => read("systemd/runner.service")

test("the systemd unit: accepted arguments", () => {
  const execStart = /^ExecStart=(.+)$/m.exec(unit())?.[1] ?? ""
  const [binary, ...argv] = execStart.replace("${CREDENTIALS_DIRECTORY}", "/run/credentials/runner.service").split(/\s+/)
  expect(binary).toBe("/usr/local/bin/runner")
  expect(runCommand(argv).logFormat).toBe("json")
})

test("the systemd unit: hardening directives", () => {
  const directives = unit()
  for (const line of [
    "DynamicUser=yes",
    "NoNewPrivileges=yes",
    "CapabilityBoundingSet=",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @resources",
    "UMask=0077",
  ]) expect(directives.split("\n")).toContain(line)
  // Bun's JIT needs writable and executable memory.
  expect(directives).not.toMatch(/^MemoryDenyWriteExecute=(yes|true|1)/m)
})

test("the systemd unit: `systemctl reload` sends SIGHUP, a config error (exit 2) is not restarted", () => {
  const lines = unit().split("\n")
  expect(lines).toContain("ExecReload=/bin/kill -HUP $MAINPID")
  expect(lines).toContain(`RestartPreventExitStatus=${UNUSABLE}`)
  expect(lines).toContain("Restart=on-failure")
  // journald takes the <N> prefix the runner writes as the priority (the default, spelled out).
  expect(lines).toContain("SyslogLevelPrefix=yes")
})

test("the systemd unit: every secret file pipelines/vm.yaml names is a credential of the unit", () => {
  const credentials = new Map([...unit().matchAll(/^LoadCredential=([\w.-]+):(\S+)$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]))
  const config = readFileSync(repoFile("pipelines/vm.yaml"), "utf8")
  // Uncommented keys ending in File: the files the runner reads.
  const files = [...config.matchAll(/^\s*(?:-\s+)?(\w+File):\s*(\S+)/gm)].map((m) => m[2] ?? "")
  expect(files.length).toBeGreaterThan(1)
  const dir = "/run/credentials/runner.service/"
  for (const file of files) {
    expect(file.startsWith(dir)).toBe(true)
    // Loaded from a root-only file under /etc/runner.
    expect(credentials.get(file.slice(dir.length))).toStartWith("/etc/runner/")
  }
  // The API token too, by the same directory.
  expect(/^ExecStart=.* --api-token-file \$\{CREDENTIALS_DIRECTORY\}\/(\S+)/m.exec(unit())?.[1]).toBe("api-token")
  expect(credentials.has("api-token")).toBe(true)
  // The header's command line matches the unit's.
  expect(config).toContain("runner --config /etc/runner/piped.yaml --data-dir /var/cache/runner")
})

// systemd-analyze (Debian's systemd package) is not installed by .ci/run: where it is missing, skip.
const analyze = Bun.which("systemd-analyze")

test.skipIf(analyze === null)("the systemd unit: systemd-analyze verify finds nothing to say", () => {
  // verify wants the ExecStart binary to exist: a copy of the unit runs /bin/true instead.
  const dir = tempDir("runner-unit-")
  const copy = join(dir, "runner.service")
  writeFileSync(copy, unit().replaceAll("/usr/local/bin/runner", "/bin/true"))
  const out = Bun.spawnSync(["systemd-analyze", "verify", copy])
  // An unknown or misplaced key is only a warning ("Unknown key ..., ignoring"): no output at all.
  expect(`${out.stdout.toString()}${out.stderr.toString()}`).toBe("")
  expect(out.exitCode).toBe(0)
})

test.skipIf(analyze === null)("the systemd unit: systemd-analyze security scores it 1.5 or lower", () => {
  const out = Bun.spawnSync(["systemd-analyze", "security", "--offline=yes", Bun.fileURLToPath(repoFile("deploy/systemd/runner.service"))])
  const text = `${out.stdout.toString()}${out.stderr.toString()}`
  const score = /Overall exposure level for runner\.service: ([\d.]+)/.exec(text)?.[1]
  if (score === undefined) throw new Error(`no score in:\n${text}`)
  expect(Number(score)).toBeLessThanOrEqual(1.5)
})

test("build.ts: output names, .exe for Windows", () => {
  expect(outfileFor(undefined, false)).toBe("dist/runner")
  expect(outfileFor("bun-windows-x64", false)).toBe("dist/runner-windows-x64.exe")
  expect(outfileFor("bun-linux-arm64", false)).toBe("dist/runner-linux-arm64")
})

const sha = "94dfee3cd705929fd68ba0fcc3fa6a5215b34154"

test.each([
  ["the commit of a clean checkout", undefined, { sha, dirty: false }, "0.1.0+94dfee3cd705"],
  ["uncommitted changes", undefined, { sha, dirty: true }, "0.1.0+94dfee3cd705.dirty"],
  ["RUNNER_VERSION (a container build, no .git)", "0.2.0+94dfee3cd705", undefined, "0.2.0+94dfee3cd705"],
  ["RUNNER_VERSION over the checkout's commit", "v0.2.0", { sha, dirty: false }, "v0.2.0"],
  ["an empty RUNNER_VERSION is unset", "", { sha, dirty: false }, "0.1.0+94dfee3cd705"],
  ["no checkout, no RUNNER_VERSION", undefined, undefined, "0.1.0"],
  ["a space (it goes into a header and a label)", "0.2.0 beta", undefined, "error"],
  ["a quote", '0.2.0"', undefined, "error"]
] as const)("build.ts: the version, %s", (_name, given, commit, expected) => {
  const version = (() => {
    try {
      return versionOf(given, "0.1.0", commit)
    } catch {
      return "error"
    }
  })()
  expect(version).toBe(expected)
})

test("build.ts: the executable reports the commit it was built from", () => {
  const root = Bun.fileURLToPath(repoFile(""))
  const built = Bun.spawnSync([process.execPath, "build.ts"], { cwd: root, env: { ...process.env, RUNNER_VERSION: "" } })
  expect(built.exitCode).toBe(0)
  const head = Bun.spawnSync(["git", "rev-parse", "HEAD"], { cwd: root }).stdout.toString().trim()
  expect(head).toMatch(/^[0-9a-f]{40}$/)
  const version = Bun.spawnSync([join(root, "dist/runner"), "--version"]).stdout.toString()
  expect(version).toMatch(new RegExp(`^runner ${PACKAGE_VERSION.replaceAll(".", "\\.")}\\+${head.slice(0, 12)}(\\.dirty)?\n$`))
}, 120_000)
