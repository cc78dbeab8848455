/**
 * Git over ssh against a real sshd, through `GitRepo.layer` and the system git, with the ssh
 * settings `gitAccess` makes for a pipeline: host keys right, wrong, unknown and changed, and
 * Piped's host alias.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { Effect, Either, Logger } from "effect"
import { execFile } from "node:child_process"
import { existsSync, statSync } from "node:fs"
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import type { GitConfig } from "../../src/config/model.ts"
import { gitAccess } from "../../src/git/access.ts"
import { type Checkout, type GitError, GitRepo, type RepoSpec } from "../../src/git/GitRepo.ts"
import { AUTHOR, commitOne } from "../support/gitContract.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startSshd, type TestSshd } from "../support/sshd.ts"

const ORIGINAL = "image: app:1\n"

let server: TestGitServer
let sshd: TestSshd
let scratch: string
let counter = 0
const savedHome = process.env.HOME
/** The ssh directory of the home in the password database, which ssh itself would use. */
const passwdSsh = join(userInfo().homedir, ".ssh")
let passwdSshBefore: string

/** The names and modification times under a directory, or "absent". */
const snapshot = async (dir: string) =>
  existsSync(dir) ? JSON.stringify((await readdir(dir)).sort().map((f) => [f, statSync(join(dir, f)).mtimeMs])) : "absent"

beforeAll(async () => {
  ;[server, sshd] = await Promise.all([startGitServer(), startSshd()])
  scratch = await mkdtemp(join(tmpdir(), "ssh-test-"))
  // Anything that still looked at $HOME/.ssh would show up here.
  process.env.HOME = join(scratch, "home")
  passwdSshBefore = await snapshot(passwdSsh)
}, 30_000)

afterAll(async () => {
  process.env.HOME = savedHome
  await Promise.all([server?.stop(), sshd?.stop()])
  await rm(scratch, { recursive: true, force: true })
}, SERVER_HOOK_TIMEOUT)

const collecting = (into: Array<string>) =>
  Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => void into.push(`${logLevel.label} ${[message].flat().join(" ")}`)))

const exec = <A, E>(effect: Effect.Effect<A, E>, logs: Array<string> = []) => Effect.runPromise(effect.pipe(Effect.provide(collecting(logs))))

const run = <A, E>(effect: Effect.Effect<A, E, GitRepo>, logs: Array<string> = []) =>
  exec(effect.pipe(Effect.provide(GitRepo.layer), Effect.provide(NodeContext.layer)), logs)

const open = (spec: RepoSpec, dir: string, logs?: Array<string>) => run(Effect.flatMap(GitRepo, (git) => git.open(spec, dir)), logs)
const openError = (spec: RepoSpec, dir: string, logs?: Array<string>): Promise<GitError> =>
  run(Effect.flatMap(GitRepo, (git) => Effect.flip(git.open(spec, dir))), logs)

/** A new data dir. */
const dataDir = () => join(scratch, `data-${++counter}`)

/** A bare repository on disk holding app.yaml, and its ssh URL. */
const repo = async (name: string) => {
  await server.createRepo(name, { "app.yaml": ORIGINAL })
  return sshd.url(join(server.root, `${name}.git`))
}

/** The spec a pass gives `GitRepo.open`: the pipeline's git section through `gitAccess`, as the runner does. */
const specFor = async (remote: string, data: string, git: Partial<GitConfig> = {}): Promise<RepoSpec> => {
  const config: GitConfig = { username: "piped", email: "pipecd.dev@gmail.com", sshKeyFile: sshd.clientKeyFile, ...git }
  const access = await Effect.runPromise(gitAccess(config, data, [{ remote }]).pipe(Effect.provide(NodeContext.layer)))
  if (Either.isLeft(access)) throw new Error(access.left.detail)
  return { repoId: "config", remote, branch: "main", ...access.right }
}

const change = (checkout: Checkout, content: string) =>
  commitOne(checkout, { files: [{ path: "app.yaml", content }], message: "update app", author: AUTHOR })

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

const warnings = (logs: ReadonlyArray<string>) => logs.filter((line) => line.startsWith("WARN"))

describe("git over ssh, host keys trusted on first use (no knownHostsFile)", () => {
  test("a new host is trusted, said once with its fingerprint, remembered in the data dir; ~/.ssh is left alone", async () => {
    const remote = await repo("tofu")
    const data = dataDir()
    const logs: Array<string> = []
    const checkout = await open(await specFor(remote, data), join(data, "clone"), logs)
    expect(await exec(checkout.sync)).toBe(await exec(checkout.head))
    await exec(change(checkout, "image: app:2\n"))
    expect(await exec(checkout.push, logs)).toEqual({ _tag: "Pushed" })
    expect(await server.readFile("tofu", "app.yaml")).toBe("image: app:2\n")

    const knownHosts = join(data, "ssh", "known_hosts")
    expect(warnings(logs)).toEqual([
      `WARN trusting ssh host ${sshd.hostName} on first use with its ED25519 key ${sshd.hostKey().fingerprint}, remembered in ${knownHosts}; ` +
        "a different key later fails the repository. Set spec.git.knownHostsFile to trust only the keys you list"
    ])
    expect(await readFile(knownHosts, "utf8")).toBe(`${sshd.knownHostsLine()}\n`)
    expect([mode(join(data, "ssh")), mode(knownHosts)]).toEqual(["700", "600"])
    const configs = (await readdir(join(data, "ssh"))).filter((f) => f.startsWith("config-"))
    expect(configs.map((f) => mode(join(data, "ssh", f)))).toEqual(["600"])

    // The next pass: known, so nothing more to say.
    const later: Array<string> = []
    await open(await specFor(remote, data), join(data, "clone"), later)
    expect(warnings(later)).toEqual([])
    expect(existsSync(join(scratch, "home", ".ssh"))).toBe(false)
    expect(await snapshot(passwdSsh)).toBe(passwdSshBefore)
  }, 30_000)
})

describe("git over ssh with spec.git.knownHostsFile", () => {
  const knownHostsFile = async (text: string) => {
    const file = join(scratch, `known_hosts-${++counter}`)
    await writeFile(file, text)
    return file
  }

  test("the right key: clone, fetch and push, nothing written or warned, no known-hosts file of the runner's", async () => {
    const remote = await repo("right")
    const data = dataDir()
    const file = await knownHostsFile(`${sshd.knownHostsLine()}\n`)
    const logs: Array<string> = []
    const checkout = await open(await specFor(remote, data, { knownHostsFile: file }), join(data, "clone"), logs)
    await server.commitAs("right", { "other.yaml": "x: 1\n" }, "another writer")
    await exec(checkout.sync, logs)
    await exec(change(checkout, "image: app:3\n"))
    expect(await exec(checkout.push, logs)).toEqual({ _tag: "Pushed" })
    expect(await server.readFile("right", "app.yaml")).toBe("image: app:3\n")
    expect(await server.readFile("right", "other.yaml")).toBe("x: 1\n")
    expect(warnings(logs)).toEqual([])
    expect(await readFile(file, "utf8")).toBe(`${sshd.knownHostsLine()}\n`)
    expect(existsSync(join(data, "ssh", "known_hosts"))).toBe(false)
    expect(await snapshot(passwdSsh)).toBe(passwdSshBefore)
  }, 30_000)

  test("another key for the host: a clear failure naming the host and both fingerprints, and nothing pushed", async () => {
    const remote = await repo("wrong")
    const data = dataDir()
    const other = await sshd.otherKey()
    const wrongLine = `${sshd.hostName} ${other.type} ${other.key}\n`
    const expected = (file: string) =>
      `host key of ${sshd.hostName} does not match spec.git.knownHostsFile (${file} holds ED25519 key ${other.fingerprint}, ` +
      `the server sent ED25519 key ${sshd.hostKey().fingerprint}): not connecting`

    const fromScratch = await knownHostsFile(wrongLine)
    const refused = await openError(await specFor(remote, data, { knownHostsFile: fromScratch }), join(data, "clone-1"))
    expect([refused.operation, refused.kind]).toEqual(["clone", "hostKey"])
    expect(refused.detail).toBe(expected(fromScratch))

    // A clone made while the file was right, whose push meets the wrong key.
    const file = await knownHostsFile(`${sshd.knownHostsLine()}\n`)
    const checkout = await open(await specFor(remote, data, { knownHostsFile: file }), join(data, "clone-2"))
    await exec(change(checkout, "image: app:4\n"))
    await writeFile(file, wrongLine)
    const error = await exec(Effect.flip(checkout.push))
    expect([error.operation, error.kind, error.detail]).toEqual(["push", "hostKey", expected(file)])
    expect(await server.readFile("wrong", "app.yaml")).toBe(ORIGINAL)
  }, 30_000)

  test("a host the file does not list: a clear failure with the key the server offers", async () => {
    const remote = await repo("unlisted")
    const data = dataDir()
    const other = await sshd.otherKey()
    const file = await knownHostsFile(`[127.0.0.1]:1 ${other.type} ${other.key}\n`)
    const error = await openError(await specFor(remote, data, { knownHostsFile: file }), join(data, "clone"))
    expect(error.detail).toBe(
      `host key of ${sshd.hostName} is unknown: spec.git.knownHostsFile (${file}) does not list the host, so its ED25519 key ` +
        `${sshd.hostKey().fingerprint} is not trusted: not connecting — add the key there if it is the right host`
    )
    expect(error.message).not.toContain("@@@")
    expect(error.kind).toBe("hostKey")
  }, 30_000)

  test("a knownHostsFile that cannot be read fails the repository before ssh runs", async () => {
    const missing = join(scratch, "no-such-known-hosts")
    const access = await Effect.runPromise(
      gitAccess({ username: "piped", email: "e", knownHostsFile: missing }, dataDir(), [{ remote: "git@h:o/r.git" }]).pipe(Effect.provide(NodeContext.layer))
    )
    expect(Either.isLeft(access) && access.left.detail).toStartWith(`cannot read spec.git.knownHostsFile ${missing}`)
  })
})

describe("Piped's host alias", () => {
  const ssh = (args: ReadonlyArray<string>) =>
    new Promise<string>((resolve, reject) =>
      execFile("ssh", [...args], { encoding: "utf8" }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)))
    )

  test("a remote naming spec.git.host reaches spec.git.hostName, as Piped's ssh config block makes it", async () => {
    await server.createRepo("alias", { "app.yaml": ORIGINAL })
    const data = dataDir()
    // Piped has no port key, so a port other than 22 is given in the URL; the account is root
    // because the test machine has no `git` user.
    const remote = `ssh://root@github-alias:${sshd.port}${join(server.root, "alias.git")}`
    const spec = await specFor(remote, data, { host: "github-alias", hostName: "127.0.0.1" })
    const logs: Array<string> = []
    const checkout = await open(spec, join(data, "clone"), logs)
    await exec(change(checkout, "image: app:5\n"))
    expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
    expect(await server.readFile("alias", "app.yaml")).toBe("image: app:5\n")
    // The real host is what is trusted and remembered.
    expect(await readFile(join(data, "ssh", "known_hosts"), "utf8")).toBe(`${sshd.knownHostsLine()}\n`)
    expect(warnings(logs)).toHaveLength(1)

    // `git@github-alias:org/repo.git`, as Piped's remotes are written: user git at 127.0.0.1.
    const resolved = (await ssh(["-G", "-F", spec.ssh?.configFile ?? "", "github-alias"])).split("\n")
    expect(resolved).toContain("hostname 127.0.0.1")
    expect(resolved).toContain("user git")
    expect(resolved).toContain(`identityfile ${sshd.clientKeyFile}`)
    expect(resolved).toContain("stricthostkeychecking accept-new")
  }, 30_000)
})

// Last: it restarts the server with new host keys.
describe("a host key that changes after first use", () => {
  test("fails the repository loudly, pushes nothing, and is never trusted again by itself", async () => {
    const remote = await repo("changed")
    const data = dataDir()
    const knownHosts = join(data, "ssh", "known_hosts")
    const first = sshd.hostKey()
    const checkout = await open(await specFor(remote, data), join(data, "clone"))
    await exec(change(checkout, "image: app:6\n"))
    const remembered = await readFile(knownHosts, "utf8")

    await sshd.restartWithNewHostKey()
    const expected = (now: string) =>
      `host key of ${sshd.hostName} changed (was ED25519 key ${first.fingerprint}, now ${now}): not connecting — ` +
      `remove the old key from ${knownHosts} if the change is expected`
    const error = await exec(Effect.flip(checkout.push))
    expect([error.operation, error.kind, error.detail]).toEqual(["push", "hostKey", expected(`ED25519 key ${sshd.hostKey().fingerprint}`)])
    expect(error.message).not.toMatch(/@@@|IDENTIFICATION/)
    expect(await server.readFile("changed", "app.yaml")).toBe(ORIGINAL)
    expect(await readFile(knownHosts, "utf8")).toBe(remembered)

    // The next pass, and a key of another type, are refused the same way.
    const again = await openError(await specFor(remote, data), join(data, "clone"))
    expect(again.detail).toBe(expected(`ED25519 key ${sshd.hostKey().fingerprint}`))
    await sshd.restartWithNewHostKey("rsa")
    const rsa = await openError(await specFor(remote, data), join(data, "clone"))
    expect(rsa.detail).toBe(expected(`RSA key ${sshd.hostKey().fingerprint}`))
    expect(await readFile(knownHosts, "utf8")).toBe(remembered)
  }, 30_000)
})
