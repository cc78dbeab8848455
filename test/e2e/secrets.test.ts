/** No password or token ever appears in any output, whether the credentials work or not. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { startSshd, type TestSshd } from "../support/sshd.ts"
import { ociProvider, storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { runRunner, tempDir, writeFile } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

const REGISTRY_PASSWORD = "reg-s3cret-Pa55word"
const GIT_TOKEN = "git-t0ken-abcdef123456"

let registry: TestRegistry
let git: TestGitServer

useServers(
  () => ({
    registry: startRegistry({ htpasswd: { username: "ci", password: REGISTRY_PASSWORD } }),
    git: startGitServer({ basicAuth: { username: "bot", password: GIT_TOKEN } })
  }),
  (s) => ({ registry, git } = s)
)

const setup = async (name: string, options: { registryPassword: string; gitToken: string; gitSecret: "passwordFile" | "url" | "inline" }) => {
  const image = `${registry.host}/${name}/app`
  await registry.pushImage(`${name}/app`, "1.0.0")
  await registry.pushImage(`${name}/app`, "1.1.0")
  const url = await git.createRepo(name, {
    "app.yaml": `image: ${image}:1.0.0\n`,
    ".pipe/w.yaml": `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - image: ${image}
      provider: private
      filePath: app.yaml
      field: image
`
  })
  const dir = tempDir("runner-secret-")
  const registryPasswordFile = writeFile(dir, "registry-pass", options.registryPassword + "\n")
  const gitPasswordFile = writeFile(dir, "git-pass", options.gitToken + "\n")
  // Inline, as Piped writes it: base64, for the configured username.
  const remote = {
    url: url.replace("http://", `http://bot:${options.gitToken}@`),
    passwordFile: url.replace("http://", "http://bot@"),
    inline: url
  }[options.gitSecret]
  const gitSection = {
    url: undefined,
    passwordFile: `    passwordFile: ${gitPasswordFile}\n`,
    inline: `    username: bot\n    password: ${btoa(options.gitToken)}\n`
  }[options.gitSecret]
  const config = writePipedConfig(dir, {
    repoId: name,
    remote,
    ...(gitSection === undefined ? {} : { git: gitSection }),
    providers: ociProvider("private", registry.url, { config: ["username: ci", `passwordFile: ${registryPasswordFile}`] })
  })
  const result = await runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`, "--log-level", "debug"])
  return { result, image, name }
}

const expectNoSecrets = (text: string, ...secrets: Array<string>) => {
  for (const secret of secrets) expect(text).not.toContain(secret)
}

describe("secrets", () => {
  test("right credentials from password files: the change lands and no secret is printed", async () => {
    const { result, image, name } = await setup("s1", { registryPassword: REGISTRY_PASSWORD, gitToken: GIT_TOKEN, gitSecret: "passwordFile" })
    expect(result.code).toBe(0)
    expect(await git.readFile(name, "app.yaml")).toBe(`image: ${image}:1.1.0\n`)
    expectNoSecrets(result.stdout + result.stderr, REGISTRY_PASSWORD, GIT_TOKEN)
  }, 60_000)

  test("a token in the remote URL works and is never printed", async () => {
    const { result, name, image } = await setup("s2", { registryPassword: REGISTRY_PASSWORD, gitToken: GIT_TOKEN, gitSecret: "url" })
    expect(result.code).toBe(0)
    expect(await git.readFile(name, "app.yaml")).toBe(`image: ${image}:1.1.0\n`)
    expectNoSecrets(result.stdout + result.stderr, GIT_TOKEN, REGISTRY_PASSWORD)
  }, 60_000)

  test("Piped's inline password (base64) goes with the configured username, and is never printed", async () => {
    const { result, name, image } = await setup("s6", { registryPassword: REGISTRY_PASSWORD, gitToken: GIT_TOKEN, gitSecret: "inline" })
    expect(result.code).toBe(0)
    expect(await git.readFile(name, "app.yaml")).toBe(`image: ${image}:1.1.0\n`)
    expectNoSecrets(result.stdout + result.stderr, GIT_TOKEN, btoa(GIT_TOKEN), REGISTRY_PASSWORD)
  }, 60_000)

  test("a wrong registry password is an auth failure that does not print the password", async () => {
    const wrong = "wrong-Pa55-for-registry"
    const { result } = await setup("s3", { registryPassword: wrong, gitToken: GIT_TOKEN, gitSecret: "passwordFile" })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/failed: .*auth/i)
    expectNoSecrets(result.stdout + result.stderr, wrong, REGISTRY_PASSWORD, GIT_TOKEN)
  }, 60_000)

  test("a wrong git token fails the repository without printing the token", async () => {
    const wrong = "wrong-git-t0ken-999"
    for (const [name, gitSecret] of [["s4", "passwordFile"], ["s5", "url"], ["s7", "inline"]] as const) {
      const { result } = await setup(name, { registryPassword: REGISTRY_PASSWORD, gitToken: wrong, gitSecret })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain("failed")
      expectNoSecrets(result.stdout + result.stderr, wrong, GIT_TOKEN, REGISTRY_PASSWORD)
    }
  }, 60_000)
})

describe("Piped's inline ssh key", () => {
  let sshd: TestSshd
  beforeAll(async () => {
    sshd = await startSshd()
  }, 30_000)
  afterAll(async () => {
    await sshd?.stop()
  }, SERVER_HOOK_TIMEOUT)

  test("is written for ssh, readable by its owner only, and never printed", async () => {
    // The one key the server lets in, given inline as Piped does, without its last line break
    // (which OpenSSH needs, so the runner adds it).
    const key = readFileSync(sshd.clientKeyFile, "utf8").trimEnd()
    await git.createRepo("viassh", {
      "app.yaml": "image: nginx:1.25.0\n",
      ".pipe/w.yaml": watcherFile([{ image: "nginx", provider: "ci", filePath: "app.yaml", field: "image" }])
    })
    const dir = tempDir("runner-sshkey-")
    const data = join(dir, "data")
    const config = writePipedConfig(dir, {
      repoId: "viassh",
      remote: sshd.url(join(git.root, "viassh.git")),
      git: `    sshKeyData: ${btoa(key)}\n`,
      providers: storeProvider("ci", "30s")
    })
    await runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", "1.26.0", "--data-dir", data])
    const result = await runRunner(["--once", "--config", config, "--data-dir", data, "--log-level", "debug"])
    // The server lets in no other key: the change landing is ssh having used the one written.
    expect(result.code).toBe(0)
    expect(await git.readFile("viassh", "app.yaml")).toBe("image: nginx:1.26.0\n")
    const keys = readdirSync(join(data, "keys"))
    expect(keys).toHaveLength(1)
    const keyFile = join(data, "keys", keys[0] ?? "")
    expect((statSync(keyFile).mode & 0o777).toString(8)).toBe("600")
    expect(readFileSync(keyFile, "utf8")).toBe(`${key}\n`)
    const sshConfigs = readdirSync(join(data, "ssh")).filter((f) => f.startsWith("config-"))
    expect(sshConfigs.map((f) => readFileSync(join(data, "ssh", f), "utf8"))).toEqual([expect.stringContaining(`IdentityFile "${keyFile}"`)])
    // Neither the key, nor any line of it, nor its base64 form.
    const body = key.split("\n").filter((line) => !line.startsWith("-----"))
    expect(body.length).toBeGreaterThan(0)
    for (const secret of [btoa(key), ...body]) expect(result.stdout + result.stderr).not.toContain(secret)
  }, 60_000)
})
