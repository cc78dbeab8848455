/** The deployment examples in deploy/ start the runner with arguments it accepts, and probe what it serves. */
import { expect, test } from "bun:test"
import { Either } from "effect"
import { readFileSync } from "node:fs"
import { parseAllDocuments } from "yaml"
import { parseArgs } from "../../src/args.ts"
import { parseListen } from "../../src/server/Http.ts"

const read = (path: string) => readFileSync(new URL(`../../deploy/${path}`, import.meta.url), "utf8")

const runCommand = (argv: ReadonlyArray<string>) => {
  const parsed = Either.getOrThrow(parseArgs(argv, {}))
  if (parsed._tag !== "Run") throw new Error(`not a run command: ${parsed._tag}`)
  expect(parsed.once).toBe(false)
  expect(Either.isRight(parseListen(parsed.listen ?? ""))).toBe(true)
  expect(parsed.apiTokenFile).toBeDefined()
  return parsed
}

interface Container {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly ports: ReadonlyArray<{ readonly name: string }>
  readonly volumeMounts: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
  readonly livenessProbe: { readonly httpGet: { readonly path: string } }
  readonly readinessProbe: { readonly httpGet: { readonly path: string } }
}
interface Manifest {
  readonly kind: string
  readonly spec: { readonly template: { readonly spec: { readonly containers: ReadonlyArray<Container> } }; readonly ports: ReadonlyArray<{ readonly targetPort: string }> }
}

test("the Kubernetes sidecar: accepted arguments, probes on /healthz and /readyz, Piped's config mounted", () => {
  const docs: ReadonlyArray<Manifest> = parseAllDocuments(read("kubernetes/piped-with-runner.yaml")).map((d) => d.toJS())
  const containers = docs.find((d) => d.kind === "Deployment")?.spec.template.spec.containers ?? []
  const [runner, piped] = [containers.find((c) => c.name === "runner"), containers.find((c) => c.name === "piped")]
  if (runner === undefined || piped === undefined) throw new Error("no runner or piped container")
  const cmd = runCommand(runner.args)
  expect(runner.livenessProbe.httpGet.path).toBe("/healthz")
  expect(runner.readinessProbe.httpGet.path).toBe("/readyz")
  const mounts = (c: Container) => new Map(c.volumeMounts.map((m) => [m.name, m.mountPath]))
  // Same volumes, same paths: the paths inside Piped's config file hold in the sidecar too.
  for (const [name, path] of mounts(piped)) expect(mounts(runner).get(name)).toBe(path)
  expect(cmd.configs[0]?.startsWith(mounts(runner).get("piped-config") ?? "?")).toBe(true)
  expect(cmd.apiTokenFile?.startsWith(mounts(runner).get("runner-api-token") ?? "?")).toBe(true)
  expect(cmd.dataDir).toBe(mounts(runner).get("runner-data"))
  expect(docs.some((d) => d.kind === "Service" && d.spec.ports[0]?.targetPort === runner.ports[0]?.name)).toBe(true)
})

test("the systemd unit: accepted arguments", () => {
  const execStart = /^ExecStart=(.+)$/m.exec(read("systemd/runner.service"))?.[1] ?? ""
  const [binary, ...argv] = execStart.replace("${CREDENTIALS_DIRECTORY}", "/run/credentials/runner.service").split(/\s+/)
  expect(binary).toBe("/usr/local/bin/runner")
  expect(runCommand(argv).logFormat).toBe("json")
})
