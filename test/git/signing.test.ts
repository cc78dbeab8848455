/**
 * Signed commits from both backends, against the real `git http-backend` server, checked by
 * `git verify-commit`; and the key files the runner refuses, with what it says about them.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { ConfigProvider, Effect, Redacted } from "effect"
import { chmod, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { GitRepo, type RepoSpec } from "../../src/git/GitRepo.ts"
import { checkSigningKey, loadSigner, type Signer, signerOf, type SigningFormat } from "../../src/git/signing.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { AUTHOR, exec, specOf } from "../support/gitContract.ts"
import { git, startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { fakeWorld, pipelineOf, REMOTE, WATCHER } from "../support/inProcess.ts"
import { makeSigningKeys, type SigningKeys, verifyCommit } from "../support/signingKeys.ts"
import { tempDir } from "../support/tempDirs.ts"

let server: TestGitServer
let keys: SigningKeys
let scratch: string
let counter = 0

beforeAll(async () => {
  server = await startGitServer()
  keys = await makeSigningKeys()
  scratch = tempDir("signing-test-")
}, 60_000)

afterAll(async () => {
  await server?.stop()
  await keys?.stop()
}, SERVER_HOOK_TIMEOUT)

const withBackend = <A, E>(effect: Effect.Effect<A, E, GitRepo>, backend: "builtin" | "system") =>
  Effect.runPromise(
    effect.pipe(
      Effect.provide(GitRepo.layer),
      Effect.provide(NodeContext.layer),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["RUNNER_GIT_BACKEND", backend]])))
    )
  )

const open = (spec: RepoSpec, backend: "builtin" | "system") =>
  withBackend(Effect.flatMap(GitRepo, (repo) => repo.open(spec, join(scratch, `clone-${++counter}`))), backend)

const signer = (file: string, format: SigningFormat) => Effect.runPromise(loadSigner(file, format).pipe(Effect.provide(NodeContext.layer)))

const bare = (name: string) => join(server.root, `${name}.git`)

const FILES = { "apps/a.yaml": "image: a:1\n", "apps/b.yaml": "image: b:1\n", "README.md": "# config\n" }

/** Three commits, each changing one file, pushed; returns their oids. */
const commitThree = async (name: string, backend: "builtin" | "system", spec: Partial<RepoSpec>) => {
  const checkout = await open(specOf(await server.createRepo(name, FILES), spec), backend)
  const oids = await exec(
    checkout.commitAll([
      { files: [{ path: "apps/a.yaml", content: "image: a:2\n" }], message: "bump a", author: AUTHOR },
      { files: [{ path: "apps/b.yaml", content: "image: b:2\n" }], message: "bump b", author: AUTHOR },
      { files: [{ path: "apps/a.yaml", content: "image: a:3\n" }, { path: "new/c.yaml", content: "c\n" }], message: "bump a again\n\nand add c", author: AUTHOR }
    ])
  )
  expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
  return { checkout, oids }
}

describe.each(["builtin", "system"] as const)("signed commits, %s backend", (backend) => {
  test.each(["ssh", "openpgp"] as const)("every commit of a batch is signed with the %s key and verifies", async (format) => {
    const name = `signed-${format}-${++counter}`
    const { oids } = await commitThree(name, backend, { signer: await signer(keys.key[format], format) })
    const log = await server.log(name)
    expect(log.map((c) => c.oid)).toEqual([...[...oids].reverse(), log[3]?.oid ?? "the first commit"])
    expect(await server.readFile(name, "apps/a.yaml")).toBe("image: a:3\n")
    expect(await server.readFile(name, "new/c.yaml")).toBe("c\n")
    expect((await git(["show", "-s", "--format=%B", oids[2] ?? ""], { cwd: bare(name) })).trim()).toBe("bump a again\n\nand add c")
    for (const oid of oids) {
      const mine = await verifyCommit(bare(name), oid, keys.verifier[format])
      expect(mine.output).toContain(format === "ssh" ? 'Good "git" signature' : "GOODSIG")
      expect(mine.ok).toBe(true)
      const other = await verifyCommit(bare(name), oid, keys.otherVerifier[format])
      expect(other.ok).toBe(false)
    }
    // The objects are sound as git's strictest check reads them.
    await git(["fsck", "--strict"], { cwd: bare(name) })
  }, 60_000)

  test.each(["ssh", "openpgp"] as const)("a request branch's commits and its merge commit are signed with the %s key and verify", async (format) => {
    const name = `signed-branch-${format}-${++counter}`
    const url = await server.createRepo(name, FILES)
    const spec = specOf(url, { signer: await signer(keys.key[format], format) })
    const checkout = await open(spec, backend)
    const base = await exec(checkout.head)
    const onto = await exec(checkout.branches.commitOnto(base, [{ files: [{ path: "apps/a.yaml", content: "image: a:2\n" }], message: "bump a", author: AUTHOR }]))
    expect(await exec(checkout.branches.push("image-updates/a-2", onto[0] ?? ""))).toEqual({ _tag: "Pushed" })
    const moved = await server.commitAs(name, { "apps/b.yaml": "image: b:2\n" }, "main moves on")
    await exec(checkout.sync)
    const merged = await exec(checkout.branches.merge(onto[0] ?? "", moved, "Merge main", AUTHOR))
    if (merged._tag !== "Merged") throw new Error(`expected a merge, got ${merged._tag}`)
    expect(await exec(checkout.branches.push("image-updates/a-2", merged.oid))).toEqual({ _tag: "Pushed" })
    for (const oid of [...onto, merged.oid]) {
      const mine = await verifyCommit(bare(name), oid, keys.verifier[format])
      expect(mine.output).toContain(format === "ssh" ? 'Good "git" signature' : "GOODSIG")
      expect(mine.ok).toBe(true)
      expect((await verifyCommit(bare(name), oid, keys.otherVerifier[format])).ok).toBe(false)
    }
    await git(["fsck", "--strict"], { cwd: bare(name) })
  }, 60_000)

  test("without a signer, commits carry no signature", async () => {
    const name = `unsigned-${++counter}`
    const { oids } = await commitThree(name, backend, {})
    const text = await git(["cat-file", "commit", oids[0] ?? ""], { cwd: bare(name) })
    expect(text).not.toContain("gpgsig")
    expect((await verifyCommit(bare(name), oids[0] ?? "", keys.verifier.ssh)).ok).toBe(false)
  }, 60_000)

  test("a signer that fails: the batch fails, head and the branch stay, nothing is pushed", async () => {
    const name = `failing-${++counter}`
    const url = await server.createRepo(name, FILES)
    const failing: Signer = { format: "ssh", sign: () => Promise.reject(new Error("the signer is gone")) }
    const checkout = await open(specOf(url, { signer: failing }), backend)
    const before = await exec(checkout.head)
    const error = await exec(Effect.flip(checkout.commitAll([{ files: [{ path: "README.md", content: "x\n" }], message: "x", author: AUTHOR }])))
    expect(error.operation).toBe("commit")
    expect(error.message).toContain("the signer is gone")
    expect(await exec(checkout.head)).toBe(before)
    expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
    expect((await server.log(name)).length).toBe(1)
  }, 60_000)
})

/** Each key file the runner must refuse, with the words that tell the operator why. */
const refusals = async (): Promise<ReadonlyArray<readonly [string, { file: string; format: SigningFormat; says: RegExp }]>> => {
  const write = async (name: string, text: string) => {
    const file = join(keys.dir, name)
    await writeFile(file, text)
    return file
  }
  return [
    ["an encrypted ssh key", { file: keys.locked.ssh, format: "ssh", says: /protected by a passphrase/ }],
    ["an encrypted OpenPGP key", { file: keys.locked.openpgp, format: "openpgp", says: /protected by a passphrase/ }],
    ["an OpenPGP key given as ssh", { file: keys.key.openpgp, format: "ssh", says: /OpenPGP key: set spec\.git\.signingFormat: openpgp/ }],
    ["an ssh key given as OpenPGP", { file: keys.key.ssh, format: "openpgp", says: /ssh key: set spec\.git\.signingFormat: ssh/ }],
    ["an ssh public key", { file: `${keys.key.ssh}.pub`, format: "ssh", says: /ssh public key, not the private key/ }],
    ["garbage as ssh", { file: await write("garbage", "not a key at all\n"), format: "ssh", says: /not an OpenSSH private key/ }],
    ["garbage as OpenPGP", { file: join(keys.dir, "garbage"), format: "openpgp", says: /not an OpenPGP private key/ }],
    [
      "a cut short ssh key",
      {
        file: await write("cut", (await readFile(keys.key.ssh, "utf8")).split("\n").filter((_, i) => i !== 2).join("\n")),
        format: "ssh",
        says: /not a well-formed OpenSSH private key/
      }
    ],
    ["a missing file", { file: join(keys.dir, "missing"), format: "ssh", says: /cannot read spec\.git\.signingKeyFile/ }]
  ]
}

/** The lines of a key file long enough to be secret material. */
const secretLines = async (file: string) => {
  const text = await readFile(file, "utf8").catch(() => "")
  return text.split("\n").map((line) => line.trim()).filter((line) => line.length >= 16 && !line.startsWith("-----"))
}

describe("key files the runner refuses", () => {
  test("each is a clear error naming the setting and the file, never the key", async () => {
    for (const [name, { file, format, says }] of await refusals()) {
      const error = await Effect.runPromise(Effect.flip(loadSigner(file, format)).pipe(Effect.provide(NodeContext.layer)))
      expect(error, name).toMatch(says)
      expect(error, name).toContain(`spec.git.signingKeyFile ${file}`)
      for (const line of await secretLines(file)) expect(error, name).not.toContain(line)
    }
  }, 30_000)

  test("a pass with such a key fails the repository with that error, and writes nothing", async () => {
    for (const [name, { file, format, says }] of await refusals()) {
      const w = fakeWorld()
      w.remotes.create(REMOTE, { "app.yaml": "image: gcr.io/org/app:1.0.0\n", ".pipe/w.yaml": WATCHER })
      w.images.set("gcr.io/org/app", [{ tag: "1.0.0" }, { tag: "1.1.0" }])
      const base = pipelineOf()
      const pipeline = { ...base, git: { ...base.git, signingKeyFile: file, signingFormat: format } }
      const report = await Effect.runPromise(runOnce([pipeline], w.options).pipe(Effect.provide(w.layer)))
      const detail = report.failures.map((f) => f.failure.message).join("\n")
      expect(detail, name).toMatch(says)
      expect(detail, name).toContain(file)
      for (const line of await secretLines(file)) expect(JSON.stringify(report), name).not.toContain(line)
      expect(w.remotes.log(REMOTE).length, name).toBe(1)
    }
  }, 30_000)

  test("runner validate's check: an unusable key is an error, a missing one a warning, a good one nothing", async () => {
    const check = (file: string, format: SigningFormat) => {
      const base = pipelineOf()
      const pipeline = { ...base, git: { ...base.git, signingKeyFile: file, signingFormat: format } }
      return Effect.runPromise(checkSigningKey(pipeline).pipe(Effect.provide(NodeContext.layer)))
    }
    // A private key is private: validate warns of one its group or others may read.
    await Promise.all([keys.key.ssh, keys.key.openpgp].map((file) => chmod(file, 0o600)))
    expect(await check(keys.key.ssh, "ssh")).toEqual({ errors: [], warnings: [] })
    expect(await check(keys.key.openpgp, "openpgp")).toEqual({ errors: [], warnings: [] })
    const locked = await check(keys.locked.ssh, "ssh")
    expect(locked.errors).toEqual([`piped.yaml: spec.git.signingKeyFile ${keys.locked.ssh}: ${"the key is protected by a passphrase, which the runner cannot enter: use a key without one"}`])
    const missing = await check(join(keys.dir, "missing"), "ssh")
    expect(missing.errors).toEqual([])
    expect(missing.warnings[0]).toContain(`cannot read spec.git.signingKeyFile ${join(keys.dir, "missing")}`)
  })

  test("a signer shows no key when printed", async () => {
    const key = await readFile(keys.key.openpgp, "utf8")
    const made = await Effect.runPromise(signerOf(Redacted.make(key), "openpgp"))
    const printed = `${JSON.stringify(made)} ${String(made)} ${Bun.inspect(made)}`
    for (const line of await secretLines(keys.key.openpgp)) expect(printed).not.toContain(line)
  })
})
