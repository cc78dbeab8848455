/**
 * How git credentials are sent and how their failures read: the user a password file
 * authenticates as, a refused login said as such, and a server's `ERR` echoing them back.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { ConfigProvider, Effect, Either, Option, Redacted } from "effect"
import { writeFile } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { gitAccess } from "../../src/git/access.ts"
import { GitRepo, type RepoSpec } from "../../src/git/GitRepo.ts"
import type { HttpBackend } from "../../src/git/httpBackend.ts"
import { exec, FILES, readAtHead, specOf } from "../support/gitContract.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { tempDir } from "../support/tempDirs.ts"

const TOKEN = "s3cr3t-t0ken"

const openWith = (backend: HttpBackend, spec: RepoSpec, dir: string) =>
  Effect.runPromise(
    Effect.flatMap(GitRepo, (git) => Effect.either(git.open(spec, dir))).pipe(
      Effect.provide(GitRepo.layer),
      Effect.provide(NodeContext.layer),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["RUNNER_GIT_BACKEND", backend]])))
    )
  )

/** A git "server" that answers every ref discovery with a pkt-line `ERR` quoting the Authorization header it got. */
const startEchoServer = async (): Promise<{ readonly url: string; readonly server: Server }> => {
  const server = createServer((req, res) => {
    const authorization = req.headers.authorization
    if (authorization === undefined) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="echo"' })
      res.end()
      return
    }
    const line = `ERR your header was ${authorization}\n`
    res.writeHead(200, { "Content-Type": "application/x-git-upload-pack-advertisement", "Cache-Control": "no-cache" })
    res.end(`${(line.length + 4).toString(16).padStart(4, "0")}${line}`)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, server }
}

let authServer: TestGitServer
let echo: { readonly url: string; readonly server: Server }
let counter = 0
const scratch = tempDir("credentials-test-")

beforeAll(async () => {
  authServer = await startGitServer({ basicAuth: { username: "robot", password: TOKEN } })
  echo = await startEchoServer()
}, SERVER_HOOK_TIMEOUT)
afterAll(async () => {
  await authServer.stop()
  echo.server.close()
}, SERVER_HOOK_TIMEOUT)

describe.each(["builtin", "system"] as const)("%s backend", (backend) => {
  const newDir = () => join(scratch, `clone-${++counter}`)

  test("a wrong password is an authentication failure for the remote, not a missing username", async () => {
    const url = await authServer.createRepo(`cred/wrong-${++counter}`, FILES)
    const opened = await openWith(backend, specOf(url, { password: Option.some(Redacted.make("wrong-pa55word")), username: Option.some("robot") }), newDir())
    const message = Either.isLeft(opened) ? opened.left.message : "opened"
    expect(message).toContain(`authentication failed for ${url} (check spec.git.passwordFile / the token)`)
    expect(Either.isLeft(opened) ? opened.left.kind : "opened").toBe("auth")
    expect(message).not.toContain("Username")
    expect(message).not.toContain("wrong-pa55word")
  }, 30_000)

  test("no credentials for a server that asks for them says so", async () => {
    const url = await authServer.createRepo(`cred/none-${++counter}`, FILES)
    const opened = await openWith(backend, specOf(url), newDir())
    expect(Either.isLeft(opened) ? opened.left.message : "opened").toContain(`${url} asks for credentials and none are configured`)
    expect(Either.isLeft(opened) ? opened.left.kind : "opened").toBe("auth")
  }, 30_000)

  test("a server's ERR line is reported cleanly, without the base64 user:password it echoes", async () => {
    const url = `${echo.url}/org/repo.git`
    const opened = await openWith(backend, specOf(url, { password: Option.some(Redacted.make(TOKEN)), username: Option.some("robot") }), newDir())
    const error = Either.isLeft(opened) ? opened.left : undefined
    const basic = Buffer.from(`robot:${TOKEN}`).toString("base64")
    for (const text of [error?.message ?? "opened", JSON.stringify(error), String(error)]) {
      expect(text).not.toContain(basic)
      expect(text).not.toContain(basic.replace(/=+$/, ""))
      expect(text).not.toContain(TOKEN)
    }
    expect(error?.message ?? "opened").toMatch(/your header was Basic \*\*\*/)
    if (backend === "builtin") expect(error?.message ?? "opened").toContain(`${url} refused the request`)
    // The server's pkt-line ERR is a refusal on either backend (system git words it "remote error").
    expect(error?.kind).toBe("rejected")
  }, 30_000)

  test("the password file authenticates as spec.git.username, as the inline password does", async () => {
    const url = await authServer.createRepo(`cred/user-${++counter}`, FILES)
    const passwordFile = join(scratch, `token-${counter}`)
    await writeFile(passwordFile, `${TOKEN}\n`)
    const data = tempDir("credentials-data-")
    const access = await Effect.runPromise(
      gitAccess({ username: "robot", email: "robot@example.com", passwordFile }, data, [{ remote: url }]).pipe(Effect.provide(NodeContext.layer))
    )
    if (Either.isLeft(access)) throw new Error(access.left.detail)
    const opened = await openWith(backend, { repoId: "config", remote: url, branch: "main", ...access.right }, newDir())
    if (Either.isLeft(opened)) throw opened.left
    expect(await exec(readAtHead(opened.right, "README.md"))).toEqual(Option.some(FILES["README.md"]))
  }, 30_000)
})
