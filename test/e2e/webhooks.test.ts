/**
 * GitHub webhook signatures through the compiled daemon, against a real docker-registry and git
 * http-backend: a signed `package` event lands the pushed tag without any API token, an unsigned or
 * altered one changes nothing, and a bad secret file stops the start.
 */
import { describe, expect, test } from "bun:test"
import { createHmac } from "node:crypto"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { type Daemon, metric, startDaemon, stopDaemon, until } from "../support/daemon.ts"
import { checkEvery, ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { runRunner, tempDir, writeFile } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

const SECRET = "gh-webhook-s3cret-5e8b2d7a"

let git: TestGitServer
let registry: TestRegistry

useServers(() => ({ git: startGitServer(), registry: startRegistry() }), (s) => ({ git, registry } = s))

/** GitHub's algorithm: HMAC-SHA256 of the exact body bytes with the webhook's secret, `sha256=` and lowercase hex. */
const sign = (body: string, secret = SECRET) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`

/** A GHCR `package` event as GitHub delivers it, trimmed to what matters plus some noise. */
const packageEvent = (owner: string, name: string, tag: string) =>
  JSON.stringify({
    action: "published",
    package: {
      id: 1,
      name,
      namespace: owner,
      package_type: "CONTAINER",
      owner: { login: owner, type: "Organization" },
      package_version: { id: 2, version: "sha256:0", container_metadata: { tag: { name: tag, digest: "sha256:0" }, labels: {} } }
    },
    sender: { login: "ci-bot" }
  })

const deliver = (d: Daemon, body: string, headers: Record<string, string>, query = "") =>
  fetch(`${d.url}/api/v1/webhooks/github${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "package", ...headers },
    body
  })

describe("GitHub webhook signatures", () => {
  test("a signed package event lands the tag without any token; unsigned, altered or wrongly signed ones are refused", async () => {
    // The target names the local registry; GitHub's event names ghcr.io/org/sig-app, matched by repository alone.
    const image = `${registry.host}/org/sig-app`
    await registry.pushImage("org/sig-app", "1.0.0")
    const remote = await git.createRepo("signed", {
      "app.yaml": `spec:\n  image: ${image}:1.0.0\n`,
      ".pipe/w.yaml": watcherFile([{ image, provider: "reg", filePath: "app.yaml", field: "spec.image" }])
    })
    const dir = tempDir("runner-webhooks-")
    const config = writePipedConfig(dir, {
      repoId: "signed",
      remote,
      providers: ociProvider("reg", registry.url, { interval: "1h" }),
      imageWatcher: checkEvery("1h")
    })
    const secretFile = writeFile(dir, "webhook-secret", `${SECRET}\n`)
    const d = await startDaemon(["--config", config, "--data-dir", `${dir}/data`, "--log-format", "json", "--webhook-secret-file", secretFile])
    try {
      await until(async () => (await fetch(`${d.url}/readyz`)).status === 200, 15_000)
      const listed = await metric(d, /^runner_registry_requests_total\{provider="reg",code="200",pipeline="[^"]*piped.yaml"\} (\d+)$/m)
      await registry.pushImage("org/sig-app", "1.1.0")
      const body = packageEvent("org", "sig-app", "1.1.0")

      const refused = [
        await deliver(d, body, {}),
        await deliver(d, body, { "x-hub-signature-256": sign(body, "not the secret") }),
        await deliver(d, body.replace("sig-app", "other-app"), { "x-hub-signature-256": sign(body) }),
        await deliver(d, body, { "x-hub-signature-256": sign(body).slice(0, -1) }),
        // A valid token would not rescue a wrong signature; here there is not even an API token.
        await deliver(d, body, { "x-hub-signature-256": sign("{}") }, "?token=anything")
      ]
      for (const r of refused) expect(r.status).toBe(401)
      await Bun.sleep(500)
      expect(await git.readFile("signed", "app.yaml")).toContain(`${image}:1.0.0`)
      expect((await git.log("signed")).length).toBe(1)

      const accepted = await deliver(d, body, { "x-hub-signature-256": sign(body) })
      expect(accepted.status).toBe(200)
      expect(await accepted.json()).toEqual({
        checked: [{ image: "ghcr.io/org/sig-app", registered: [], checked: [`${config}/signed`] }],
        ignored: []
      })
      await until(async () => (await git.readFile("signed", "app.yaml")).includes(`${image}:1.1.0`), 10_000)
      const [last] = await git.log("signed")
      expect(last?.subject).toBe(`Update ${image}:1.0.0 in app.yaml to 1.1.0`)
      // The delivery, not the one hour interval, made the runner list the tags again.
      expect(await metric(d, /^runner_registry_requests_total\{provider="reg",code="200",pipeline="[^"]*piped.yaml"\} (\d+)$/m)).toBeGreaterThan(listed)
      // Without --api-token-file the other kinds and the image API stay off.
      const dockerhub = JSON.stringify({ push_data: { tag: "1.2.0" }, repository: { repo_name: "org/sig-app" } })
      expect((await fetch(`${d.url}/api/v1/webhooks/dockerhub`, { method: "POST", body: dockerhub })).status).toBe(404)
    } finally {
      expect(await stopDaemon(d)).toBe(0)
    }
    expect(d.stderr()).not.toContain(SECRET)
    const logs = d.stderr().trim().split("\n").map((line) => JSON.parse(line))
    expect(logs.filter((l) => String(l.message).startsWith("API request refused: 401")).length).toBe(5)
    expect(logs.some((l) => l.message === "github webhook: pushed 1.1.0" && l.image === "ghcr.io/org/sig-app")).toBe(true)
  }, 60_000)

  test("an empty or unreadable secret file is a usage error naming the file, never its content", async () => {
    const dir = tempDir("runner-webhooks-")
    const config = writePipedConfig(dir, { repoId: "unused", remote: "http://127.0.0.1:1/unused.git", providers: ociProvider("reg", registry.url), imageWatcher: checkEvery("1h") })
    const cases = [
      [writeFile(dir, "empty-secret", " \n"), "the file is empty"],
      [`${dir}/missing-secret`, "cannot read"]
    ] as const
    for (const [file, why] of cases) {
      const result = await runRunner(["--config", config, "--listen", "127.0.0.1:0", "--webhook-secret-file", file])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`--webhook-secret-file ${file}: ${why}`)
    }
    const needsListen = await runRunner(["--config", config, "--webhook-secret-file", `${dir}/missing-secret`])
    expect(needsListen.code).toBe(2)
    expect(needsListen.stderr).toContain("--webhook-secret-file needs --listen")
  }, 60_000)
})
