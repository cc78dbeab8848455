/** Signed commits through the binary, against the real git server: what it pushes verifies with `git verify-commit`. */
import { describe, expect, test } from "bun:test"
import { join } from "node:path"
import { storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"
import { makeSigningKeys, type SigningKeys, verifyCommit } from "../support/signingKeys.ts"

let git: TestGitServer
let keys: SigningKeys

useServers(() => ({ git: startGitServer(), keys: makeSigningKeys() }), (s) => ({ git, keys } = s))

/** A repository with two images in two files, a tag store with newer tags, and these `spec.git` lines. */
const setUp = async (name: string, gitLines: string) => {
  await git.createRepo(name, {
    "api.yaml": "image: example.com/org/api:1.0.0\n",
    "web.yaml": "image: example.com/org/web:3.0.0\n",
    ".pipe/w.yaml": watcherFile([
      { image: "example.com/org/api", provider: "ci", filePath: "api.yaml", field: "image" },
      { image: "example.com/org/web", provider: "ci", filePath: "web.yaml", field: "image" }
    ])
  })
  const dir = tempDir("runner-signing-")
  const config = writePipedConfig(dir, {
    repoId: name,
    remote: `${git.url}/${name}.git`,
    providers: storeProvider("ci", "1m"),
    git: `    email: signer@example.com\n${gitLines}`
  })
  const dataDir = `${dir}/data`
  for (const [image, tag] of [["example.com/org/api", "1.0.1"], ["example.com/org/web", "3.0.2"]] as const) {
    await runRunner(["notify", "--config", config, "--provider", "ci", "--image", image, "--tag", tag, "--data-dir", dataDir])
  }
  return { config, run: () => runRunner(["--once", "--config", config, "--data-dir", dataDir]) }
}

describe("signed commits through the binary", () => {
  test.each(["ssh", "openpgp"] as const)("a pass with the %s signing key pushes commits that verify", async (format) => {
    const name = `signed-${format}`
    const { run } = await setUp(name, `    signingKeyFile: ${keys.key[format]}\n    signingFormat: ${format}\n`)
    const result = await run()
    expect(result.stdout).toContain("2 targets: 2 updated")
    expect(result.code).toBe(0)
    const log = await git.log(name)
    expect(log.length).toBe(3)
    for (const { oid } of log.slice(0, 2)) {
      expect((await verifyCommit(join(git.root, `${name}.git`), oid, keys.verifier[format])).ok).toBe(true)
      expect((await verifyCommit(join(git.root, `${name}.git`), oid, keys.otherVerifier[format])).ok).toBe(false)
    }
  }, 60_000)

  test("without signingFormat the key is an ssh key", async () => {
    const { run } = await setUp("signed-default", `    signingKeyFile: ${keys.key.ssh}\n`)
    expect((await run()).code).toBe(0)
    const [tip] = await git.log("signed-default")
    expect((await verifyCommit(join(git.root, "signed-default.git"), tip?.oid ?? "", keys.verifier.ssh)).ok).toBe(true)
  }, 60_000)

  test("a passphrase-protected key fails the pass with a clear error, pushes nothing, and fails validate", async () => {
    const { config, run } = await setUp("signed-locked", `    signingKeyFile: ${keys.locked.ssh}\n`)
    const result = await run()
    expect(result.code).toBe(1)
    const output = `${result.stdout}${result.stderr}`
    expect(output).toContain(`spec.git.signingKeyFile ${keys.locked.ssh}: the key is protected by a passphrase`)
    expect((await git.log("signed-locked")).length).toBe(1)
    const validated = await runRunner(["validate", "--config", config])
    expect(validated.code).toBe(2)
    expect(validated.stderr).toContain(`spec.git.signingKeyFile ${keys.locked.ssh}: the key is protected by a passphrase`)
  }, 60_000)
})
