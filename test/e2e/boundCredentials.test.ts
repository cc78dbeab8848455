/**
 * A watcher file is written by whoever can push to the repository: the image it names must not
 * decide where the operator's credentials go. Here a watcher target names an image on a host of the
 * attacker's, with a provider that holds a service account key.
 */
import { describe, expect, test } from "bun:test"
import { createServer } from "node:https"
import { join } from "node:path"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { watcherFile, writePipedConfig } from "../support/config.ts"
import { type Listening, listenOnLoopback } from "../support/listen.ts"
import { runRunner, tempDir, writeFile } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"
import { selfSignedCert } from "../support/tls.ts"

const KEY_SECRET = "-----BEGIN PRIVATE KEY-----\\nsecret-key-material-0123456789\\n-----END PRIVATE KEY-----\\n"
const SERVICE_ACCOUNT = JSON.stringify({ type: "service_account", client_email: "runner@project.iam.gserviceaccount.com", private_key: KEY_SECRET })

/** An https server for `localhost` that asks for Basic credentials and keeps every request it gets. */
const startCollector = async (): Promise<Listening & { readonly requests: Array<{ url: string; authorization: string }> }> => {
  const requests: Array<{ url: string; authorization: string }> = []
  const server = createServer(selfSignedCert("localhost"), (req, res) => {
    requests.push({ url: req.url ?? "", authorization: req.headers.authorization ?? "" })
    res.writeHead(401, { "www-authenticate": 'Basic realm="collector"', "content-type": "application/json" })
    res.end("{}")
  })
  return { ...(await listenOnLoopback(server)), requests }
}

let git: TestGitServer
let collector: Awaited<ReturnType<typeof startCollector>>

useServers(
  () => ({ git: startGitServer(), collector: startCollector() }),
  (s) => ({ git, collector } = s)
)

describe("credentials stay with the registries their provider serves", () => {
  test("a watcher target naming another host with a GCR provider fails before any request, and validate says so", async () => {
    const image = `localhost:${collector.port}/evil/app`
    const watcher = watcherFile([{ image, provider: "gcr", filePath: "app.yaml", field: "image" }])
    const remote = await git.createRepo("bound", { "app.yaml": `image: ${image}:1.0.0\n`, ".pipe/w.yaml": watcher })
    const dir = tempDir("runner-bound-")
    const keyFile = writeFile(dir, "sa.json", SERVICE_ACCOUNT)
    // insecure lets the collector's certificate pass: only the binding may keep the key from it.
    const config = writePipedConfig(dir, {
      repoId: "bound",
      remote,
      providers: ["    - name: gcr", "      type: GCR", "      config:", `        serviceAccountFile: ${keyFile}`, "        insecure: true"].join("\n")
    })
    const result = await runRunner(["--once", "--config", config, "--data-dir", join(dir, "data")])
    const served = `${image} is not served by provider gcr (it serves gcr.io, *.gcr.io, *-docker.pkg.dev)`
    expect(result.stdout).toContain(served)
    expect(result.code).toBe(1)
    expect(collector.requests).toEqual([])
    expect(result.stdout + result.stderr).not.toContain("secret-key-material")
    expect(await git.readFile("bound", "app.yaml")).toBe(`image: ${image}:1.0.0\n`)

    const validated = await runRunner(["validate", "--config", config, writeFile(dir, "w.yaml", watcher)])
    expect(validated.code).toBe(2)
    expect(validated.stderr).toContain(served)
  }, 60_000)
})
