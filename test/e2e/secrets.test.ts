/** No password or token ever appears in any output, whether the credentials work or not. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { ociProvider, writePipedConfig } from "../support/config.ts"
import { ensureBuilt, runRunner, tempDir, writeFile } from "../support/runner.ts"

const REGISTRY_PASSWORD = "reg-s3cret-Pa55word"
const GIT_TOKEN = "git-t0ken-abcdef123456"

let registry: TestRegistry
let git: TestGitServer

beforeAll(async () => {
  ensureBuilt()
  ;[registry, git] = await Promise.all([
    startRegistry({ htpasswd: { username: "ci", password: REGISTRY_PASSWORD } }),
    startGitServer({ basicAuth: { username: "bot", password: GIT_TOKEN } })
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), git?.stop()])
})

const setup = async (name: string, options: { registryPassword: string; gitToken: string; tokenInUrl: boolean }) => {
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
  const remote = options.tokenInUrl ? url.replace("http://", `http://bot:${options.gitToken}@`) : url.replace("http://", "http://bot@")
  const config = writePipedConfig(dir, {
    repoId: name,
    remote,
    ...(options.tokenInUrl ? {} : { git: `    passwordFile: ${gitPasswordFile}\n` }),
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
    const { result, image, name } = await setup("s1", { registryPassword: REGISTRY_PASSWORD, gitToken: GIT_TOKEN, tokenInUrl: false })
    expect(result.code).toBe(0)
    expect(await git.readFile(name, "app.yaml")).toBe(`image: ${image}:1.1.0\n`)
    expectNoSecrets(result.stdout + result.stderr, REGISTRY_PASSWORD, GIT_TOKEN)
  }, 60_000)

  test("a token in the remote URL works and is never printed", async () => {
    const { result, name, image } = await setup("s2", { registryPassword: REGISTRY_PASSWORD, gitToken: GIT_TOKEN, tokenInUrl: true })
    expect(result.code).toBe(0)
    expect(await git.readFile(name, "app.yaml")).toBe(`image: ${image}:1.1.0\n`)
    expectNoSecrets(result.stdout + result.stderr, GIT_TOKEN, REGISTRY_PASSWORD)
  }, 60_000)

  test("a wrong registry password is an auth failure that does not print the password", async () => {
    const wrong = "wrong-Pa55-for-registry"
    const { result } = await setup("s3", { registryPassword: wrong, gitToken: GIT_TOKEN, tokenInUrl: false })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/failed: .*auth/i)
    expectNoSecrets(result.stdout + result.stderr, wrong, REGISTRY_PASSWORD, GIT_TOKEN)
  }, 60_000)

  test("a wrong git token fails the repository without printing the token", async () => {
    const wrong = "wrong-git-t0ken-999"
    for (const tokenInUrl of [false, true]) {
      const { result } = await setup(tokenInUrl ? "s5" : "s4", { registryPassword: REGISTRY_PASSWORD, gitToken: wrong, tokenInUrl })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain("failed")
      expectNoSecrets(result.stdout + result.stderr, wrong, GIT_TOKEN, REGISTRY_PASSWORD)
    }
  }, 60_000)
})
