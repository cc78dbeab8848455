import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { ConfigProvider, Effect, Either, type Layer, Option, Redacted } from "effect"
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Blob,
  type Checkout,
  GitError,
  GitRepo,
  type RepoSpec
} from "../../src/git/GitRepo.ts"
import { chooseHttpBackend, type HttpBackend, parseGitVersion } from "../../src/git/httpBackend.ts"
import * as IsoGit from "../../src/git/IsoGit.ts"
import { parseCatFileBatch } from "../../src/git/plumbing.ts"
import * as SystemGit from "../../src/git/SystemGit.ts"
import {
  AUTHOR,
  checkoutContract,
  commitOne,
  type ContractRemotes,
  exec,
  FILES,
  readAtHead,
  specOf
} from "../support/gitContract.ts"
import { git, OTHER_WRITER, startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { pushBranchContract } from "../support/pushBranchContract.ts"
import { branchesContract } from "../support/branchesContract.ts"

/** Runs with `RUNNER_GIT_BACKEND` set to `backend` (or unset), as the environment would set it. */
const run = <A, E>(effect: Effect.Effect<A, E, GitRepo>, backend?: HttpBackend): Promise<A> =>
  Effect.runPromise(
    effect.pipe(
      Effect.provide(GitRepo.layer),
      Effect.provide(NodeContext.layer),
      Effect.withConfigProvider(
        ConfigProvider.fromMap(new Map(backend === undefined ? [] : [["RUNNER_GIT_BACKEND", backend]]))
      )
    )
  )

const opener = (backend?: HttpBackend) => ({
  open: (spec: RepoSpec, dir: string) => run(Effect.flatMap(GitRepo, (repo) => repo.open(spec, dir)), backend),
  openError: (spec: RepoSpec, dir: string) =>
    run(Effect.flatMap(GitRepo, (repo) => Effect.flip(repo.open(spec, dir))), backend)
})

const { open } = opener()

let server: TestGitServer
let authServer: TestGitServer
let scratch: string
let counter = 0

beforeAll(async () => {
  server = await startGitServer()
  authServer = await startGitServer({ basicAuth: { username: "robot", password: "s3cr3t-t0ken" } })
  scratch = await mkdtemp(join(tmpdir(), "gitrepo-test-"))
}, SERVER_HOOK_TIMEOUT)

afterAll(async () => {
  await server.stop()
  await authServer.stop()
  await rm(scratch, { recursive: true, force: true })
}, SERVER_HOOK_TIMEOUT)

const bare = (name: string) => join(server.root, `${name}.git`)

/** The test server's repositories, reached through `remoteOf`. */
const serverRemotes = (remoteOf: (name: string) => string): ContractRemotes => ({
  otherWriter: OTHER_WRITER,
  create: async (name, files) => {
    await server.createRepo(name, files)
    return remoteOf(name)
  },
  commitAs: (name, files, message, branch) => server.commitAs(name, files, message, branch === undefined ? {} : { branch }),
  merge: (name, from, into, how) => server.merge(name, from, into, { fastForward: how === "fast-forward" }),
  tip: (name, branch) => server.tip(name, branch),
  isAncestor: (name, ancestor, descendant) => server.isAncestor(name, ancestor, descendant),
  parents: (name, oid) => server.parents(name, oid),
  readFile: (name, path) => server.readFile(name, path),
  log: async (name) => {
    const times = await git(["log", "--format=%at %ct %cn <%ce>", "refs/heads/main"], { cwd: bare(name) })
    const lines = times.trim().split("\n")
    return (await server.log(name)).map((entry, i) => ({ ...entry, times: lines[i] ?? "" }))
  },
  body: (name, oid) => git(["show", "-s", "--format=%B", oid], { cwd: bare(name) }),
  blobOid: async (name, path) => (await git(["rev-parse", `main:${path}`], { cwd: bare(name) })).trim(),
  refusePushes: async (name) => {
    const hook = join(bare(name), "hooks", "pre-receive")
    await writeFile(hook, "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    await chmod(hook, 0o755)
  },
  readFileAt: (name, branch, path) => server.readFile(name, path, { branch }).catch(() => undefined),
  setBranch: async (name, branch, oid) => {
    await git(oid === undefined ? ["update-ref", "-d", `refs/heads/${branch}`] : ["update-ref", `refs/heads/${branch}`, oid], { cwd: bare(name) })
  }
})

const backends: ReadonlyArray<{
  readonly backend: string
  readonly http?: HttpBackend
  readonly remoteOf: (name: string) => string
}> = [
  { backend: "isomorphic-git over http", http: "builtin", remoteOf: (name) => `${server.url}/${name}.git` },
  { backend: "system git over http", http: "system", remoteOf: (name) => `${server.url}/${name}.git` },
  { backend: "system git over file://", remoteOf: (name) => `file://${server.root}/${name}.git` },
  { backend: "system git over a bare path", remoteOf: (name) => `${server.root}/${name}.git` }
]

for (const { backend, http, remoteOf } of backends) {
  const subject = {
    ...opener(http),
    remotes: serverRemotes(remoteOf),
    newDir: () => join(scratch, `clone-${++counter}`),
    onDisk: {
      receivePacks: () => server.stats.receivePacks,
      fsck: async (name: string) => {
        await git(["fsck", "--strict"], { cwd: bare(name) })
      }
    }
  }
  checkoutContract(`GitRepo with ${backend}`, subject)
  pushBranchContract(`GitRepo with ${backend}`, subject)
  branchesContract(`GitRepo with ${backend}`, subject)

  describe(`GitRepo with ${backend}`, () => {
    test("a corrupt clone directory is wiped and cloned again", async () => {
      const name = `org/repo-${++counter}`
      await server.createRepo(name, FILES)
      const dir = join(scratch, `clone-${counter}`)
      const spec = specOf(remoteOf(name))
      const { open } = opener(http)
      await open(spec, dir)
      await rm(join(dir, "config"))
      await rm(join(dir, "HEAD"))
      const checkout = await open(spec, dir)
      const [tip] = await server.log(name)
      expect(await exec(checkout.head)).toBe(tip?.oid ?? "missing")
    }, 30_000)
  })
}

describe.each(["builtin", "system"] as const)("GitRepo over http with credentials, %s backend", (backend) => {
  const { open, openError } = opener(backend)
  const token = "s3cr3t-t0ken"
  const cases: ReadonlyArray<{
    readonly name: string
    readonly spec: (url: string) => RepoSpec
    readonly expectOk: boolean
  }> = [
    {
      name: "token in the URL",
      spec: (url) => specOf(url.replace("http://", `http://robot:${token}@`)),
      expectOk: true
    },
    {
      name: "user in the URL, password from the password file",
      spec: (url) => specOf(url.replace("http://", "http://robot@"), { password: Option.some(Redacted.make(token)) }),
      expectOk: true
    },
    {
      name: "no user in the URL, password for the configured username",
      spec: (url) => specOf(url, { password: Option.some(Redacted.make(token)), username: Option.some("robot") }),
      expectOk: true
    },
    {
      name: "the user in the URL wins over the configured username",
      spec: (url) =>
        specOf(url.replace("http://", "http://robot@"), { password: Option.some(Redacted.make(token)), username: Option.some("someone") }),
      expectOk: true
    },
    {
      name: "wrong password in the URL",
      spec: (url) => specOf(url.replace("http://", "http://robot:wrong-pa55word@")),
      expectOk: false
    },
    {
      name: "wrong password from the password file",
      spec: (url) => specOf(url, { password: Option.some(Redacted.make("wrong-pa55word")) }),
      expectOk: false
    },
    {
      name: "no credentials",
      spec: (url) => specOf(url),
      expectOk: false
    },
    {
      name: "right token, missing branch",
      spec: (url) => specOf(url.replace("http://", `http://robot:${token}@`), { branch: "gone" }),
      expectOk: false
    }
  ]

  test.each(cases.map((c) => [c.name, c] as const))("%s", async (_, { spec, expectOk }) => {
    const name = `auth/repo-${++counter}`
    const url = await authServer.createRepo(name, FILES)
    const repoSpec = spec(url)
    const dir = join(scratch, `clone-${counter}`)
    if (expectOk) {
      const checkout: Checkout = await open(repoSpec, dir)
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "y\n" }], message: "y", author: AUTHOR }))
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      expect((await authServer.log(name))[0]?.subject).toBe("y")
      // A push to a branch with a hook refusal produces an error that must not leak the token either.
      const hook = join(authServer.root, `${name}.git`, "hooks", "pre-receive")
      await writeFile(hook, "#!/bin/sh\nexit 1\n")
      await chmod(hook, 0o755)
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "z\n" }], message: "z", author: AUTHOR }))
      const error = await exec(Effect.flip(checkout.push))
      for (const text of [error.message, error.detail, JSON.stringify(error), String(error)]) {
        expect(text).not.toContain(token)
        expect(text).not.toContain("robot:")
      }
    } else {
      const error = await openError(repoSpec, dir)
      expect(error).toBeInstanceOf(GitError)
      expect(error.repoId).toBe("config")
      for (const text of [error.message, error.detail, JSON.stringify(error), String(error)]) {
        expect(text).not.toContain(token)
        expect(text).not.toContain("wrong-pa55word")
        expect(text).not.toContain("robot:")
        expect(text).not.toContain("robot@")
      }
    }
  }, 30_000)
})

describe("parseCatFileBatch", () => {
  const oid = "a".repeat(40)
  const bytes = (text: string) => new TextEncoder().encode(text)
  const blob = (text: string): Option.Option<Blob> => Option.some({ oid, text, kind: "text", size: bytes(text).length })
  test.each([
    ["a blob, sized in bytes", `${oid} blob 6\nü: 1\n\n`, 1, [blob("ü: 1\n")]],
    ["an empty blob", `${oid} blob 0\n\n`, 1, [blob("")]],
    ["missing, then a blob", `${oid}:x missing\n${oid} blob 2\nok\n`, 2, [Option.none(), blob("ok")]],
    ["a tree is no file", `${oid} tree 3\nabc\n${oid} blob 1\n\n\n`, 2, [Option.none(), blob("\n")]],
    ["an ambiguous name is no file", `HEAD:x ambiguous\n`, 1, [Option.none()]],
    ["cut short in a header", `${oid} blob 2\nok\n${oid} blo`, 2, undefined],
    ["cut short in a body", `${oid} blob 20\nok\n`, 1, undefined],
    ["a byte-order mark is kept", `${oid} blob 8\n\uFEFFa: 1\n\n`, 1, [blob("\uFEFFa: 1\n")]]
  ] as const)("%s", (_name, out, count, expected) => {
    expect(parseCatFileBatch(bytes(out), count)).toEqual(expected)
  })

  test("bytes that are not UTF-8 are not decoded; a symbolic link is told by its mode", () => {
    const out = new Uint8Array([...bytes(`${oid} blob 3\n`), 0x61, 0xe9, 0x0a, 10, ...bytes(`${oid} blob 6\na.yaml\n`)])
    expect(parseCatFileBatch(out, 2, (i) => (i === 1 ? "120000" : "100644"))).toEqual([
      Option.some({ oid, text: "", kind: "binary", size: 3 }),
      Option.some({ oid, text: "", kind: "symlink", size: 6 })
    ])
  })
})

describe("http backend choice", () => {
  const version = (major: number, minor: number) => Option.some([major, minor] as const)
  test.each([
    ["git version 2.39.5", version(2, 39)],
    ["git version 2.31.0.windows.1\n", version(2, 31)],
    ["git version 10.0", version(10, 0)],
    ["git: command not found", Option.none()],
    ["", Option.none()]
  ] as const)("parseGitVersion(%j)", (output, expected) => {
    expect(parseGitVersion(output)).toEqual(expected)
  })

  const wanted: Record<string, Option.Option<HttpBackend>> = {
    unset: Option.none(),
    builtin: Option.some("builtin"),
    system: Option.some("system")
  }
  const cases: ReadonlyArray<
    readonly [string, Option.Option<readonly [number, number]>, Either.Either<HttpBackend, string>]
  > = [
    ["unset", version(2, 39), Either.right("system")],
    ["unset", version(2, 31), Either.right("system")],
    ["unset", version(3, 0), Either.right("system")],
    ["unset", version(2, 30), Either.right("builtin")],
    ["unset", Option.none(), Either.right("builtin")],
    ["builtin", version(2, 39), Either.right("builtin")],
    ["builtin", Option.none(), Either.right("builtin")],
    ["system", version(2, 39), Either.right("system")],
    ["system", version(2, 30), Either.left("RUNNER_GIT_BACKEND=system needs git 2.31 or newer on PATH; found 2.30")],
    ["system", Option.none(), Either.left("RUNNER_GIT_BACKEND=system needs git 2.31 or newer on PATH; none was found")]
  ]
  test.each(cases)("RUNNER_GIT_BACKEND %s, git %j", (choice, found, expected) => {
    expect(chooseHttpBackend(wanted[choice] ?? Option.none(), found)).toEqual(expected)
  })
})

/**
 * Puts a `git` first on PATH that logs every command line to `log` and then runs the real git,
 * answering `--version` with `version` when given.
 */
const withGitOnPath = async <A>(options: { readonly version?: string }, body: (log: string) => Promise<A>) => {
  const bin = await mkdtemp(join(tmpdir(), "git-wrapper-"))
  const log = join(bin, "commands.log")
  const real = Bun.which("git") ?? "/usr/bin/git"
  const version = options.version === undefined
    ? ""
    : `[ "$1" = "--version" ] && { echo 'git version ${options.version}'; exit 0; }\n`
  await writeFile(join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n${version}exec '${real}' "$@"\n`)
  await chmod(join(bin, "git"), 0o755)
  await writeFile(log, "")
  const path = process.env.PATH
  process.env.PATH = `${bin}:${path ?? ""}`
  try {
    return await body(log)
  } finally {
    process.env.PATH = path
    await rm(bin, { recursive: true, force: true })
  }
}

/** The logged git commands but the test server's own `git http-backend`. */
const clientCommands = async (log: string) =>
  (await readFile(log, "utf8")).split("\n").filter((line) => line !== "" && line !== "http-backend")

/** Every file under `dir`, as text. */
const allText = async (dir: string): Promise<string> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const texts = await Promise.all(
    entries.filter((entry) => entry.isFile()).map((entry) => readFile(join(entry.parentPath, entry.name), "latin1"))
  )
  return texts.join("\n")
}

describe("system git over http", () => {
  const token = "s3cr3t-t0ken"

  test("credentials reach git through its environment only: no command line, no file of the clone", async () => {
    const name = `auth/env-${++counter}`
    const url = await authServer.createRepo(name, FILES)
    const dir = join(scratch, `clone-${counter}`)
    const spec = specOf(url.replace("http://", "http://robot@"), { password: Option.some(Redacted.make(token)) })
    const commands = await withGitOnPath({}, async (log) => {
      const checkout = await opener().open(spec, dir)
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "env\n" }], message: "env", author: AUTHOR }))
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      await exec(checkout.sync)
      return readFile(log, "utf8")
    })
    expect((await authServer.log(name))[0]?.subject).toBe("env")
    // System git did the work, by default.
    expect(commands).toContain("fetch")
    expect(commands).toContain("fast-import")
    expect(commands).toContain("push")
    const basic = Buffer.from(`robot:${token}`).toString("base64")
    for (const text of [commands, await allText(dir)]) {
      expect(text).not.toContain(token)
      expect(text).not.toContain(basic)
      expect(text).not.toContain("robot@")
    }
  }, 30_000)

  test.each([
    ["read before it is committed", true],
    ["committed without a read", false]
  ])("an executable file keeps its mode when rewritten: %s", async (_name, readFirst) => {
    const name = `modes-${++counter}`
    const url = await server.createRepo(name, { ...FILES, "deploy.sh": "#!/bin/sh\necho 1\n" })
    const work = join(scratch, `modes-work-${counter}`)
    await git(["clone", "--quiet", url, work])
    await git(["update-index", "--chmod=+x", "deploy.sh"], { cwd: work })
    await git(["commit", "--quiet", "-m", "executable"], { cwd: work })
    await git(["push", "--quiet", "origin", "HEAD:main"], { cwd: work })
    const checkout = await open(specOf(url), join(scratch, `modes-clone-${counter}`))
    if (readFirst) await exec(readAtHead(checkout, "deploy.sh"))
    await exec(commitOne(checkout, { files: [{ path: "deploy.sh", content: "#!/bin/sh\necho 2\n" }], message: "rewrite", author: AUTHOR }))
    expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
    const listed = await git(["ls-tree", "main", "deploy.sh"], { cwd: join(server.root, `${name}.git`) })
    expect(listed.split(" ")[0]).toBe("100755")
  }, 30_000)

  test("a git older than 2.31 leaves http remotes to the built-in client, unless system git is asked for", async () => {
    const name = `org/old-git-${++counter}`
    const url = await server.createRepo(name, FILES)
    await withGitOnPath({ version: "2.30.9" }, async (log) => {
      const checkout = await opener().open(specOf(url), join(scratch, `clone-${counter}`))
      expect(await exec(readAtHead(checkout, "README.md"))).toEqual(Option.some(FILES["README.md"]))
      expect(await clientCommands(log)).toEqual(["--version"])

      const error = await opener("system").openError(specOf(url), join(scratch, `clone-${++counter}`))
      expect(error.operation).toBe("clone")
      expect(error.message).toContain("RUNNER_GIT_BACKEND=system needs git 2.31 or newer on PATH; found 2.30")
    })
  }, 30_000)

  test("RUNNER_GIT_BACKEND=builtin never runs git", async () => {
    const name = `org/builtin-${++counter}`
    const url = await server.createRepo(name, FILES)
    await withGitOnPath({}, async (log) => {
      const checkout = await opener("builtin").open(specOf(url), join(scratch, `clone-${counter}`))
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "b\n" }], message: "b", author: AUTHOR }))
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      expect(await clientCommands(log)).toEqual([])
    })
  }, 30_000)

  test("an unknown RUNNER_GIT_BACKEND is an error naming the choices", async () => {
    const url = await server.createRepo(`org/unknown-${++counter}`, FILES)
    const error = await run(
      Effect.flatMap(GitRepo, (repo) => Effect.flip(repo.open(specOf(url), join(scratch, `clone-${counter}`)))).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["RUNNER_GIT_BACKEND", "libgit2"]])))
      )
    )
    expect(error.message).toContain("RUNNER_GIT_BACKEND must be builtin or system")
  })
})

describe("IsoGit.layer and SystemGit.layer", () => {
  const openWith = <E>(layer: Layer.Layer<GitRepo, E, NodeContext.NodeContext>, spec: RepoSpec) =>
    Effect.runPromise(
      Effect.flatMap(GitRepo, (repo) => Effect.either(repo.open(spec, join(scratch, `clone-${++counter}`)))).pipe(
        Effect.provide(layer),
        Effect.provide(NodeContext.layer)
      )
    )

  test("each provides GitRepo with its own backend alone", async () => {
    const name = `org/layers-${++counter}`
    const url = await server.createRepo(name, FILES)
    await withGitOnPath({}, async (log) => {
      const viaIso = await openWith(IsoGit.layer, specOf(url))
      if (Either.isLeft(viaIso)) throw viaIso.left
      expect(await exec(readAtHead(viaIso.right, "README.md"))).toEqual(Option.some(FILES["README.md"]))
      expect(await clientCommands(log)).toEqual([])

      const notHttp = await openWith(IsoGit.layer, specOf(`${server.root}/${name}.git`))
      const refused = Either.getLeft(notHttp)
      expect(Option.map(refused, (error) => error.operation)).toEqual(Option.some("clone"))
      expect(Option.getOrElse(Option.map(refused, (error) => error.message), () => "")).toContain("only http(s)")

      const viaSystem = await openWith(SystemGit.layer, specOf(url))
      if (Either.isLeft(viaSystem)) throw viaSystem.left
      expect(await exec(readAtHead(viaSystem.right, "README.md"))).toEqual(Option.some(FILES["README.md"]))
      expect((await clientCommands(log)).some((line) => / fetch /.test(line))).toBe(true)
    })
  }, 30_000)
})

describe("TestGitServer", () => {
  test("beforeNextPush runs another writer once, at the start of the next push", async () => {
    const name = `race/repo-${++counter}`
    const url = await server.createRepo(name, FILES)
    const checkout = await open(specOf(url), join(scratch, `clone-${counter}`))
    await exec(commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours", author: AUTHOR }))
    let calls = 0
    server.beforeNextPush(async () => {
      calls++
      await server.commitAs(name, { "README.md": "theirs\n" }, "Theirs")
    })
    expect((await exec(checkout.push))._tag).toBe("Rejected")
    expect(calls).toBe(1)
    expect((await server.log(name)).map((entry) => entry.subject)).toEqual(["Theirs", "Initial commit"])
    await exec(checkout.sync)
    await exec(commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours", author: AUTHOR }))
    expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
    expect(calls).toBe(1)
    expect((await server.log(name)).map((entry) => entry.subject)).toEqual(["Ours", "Theirs", "Initial commit"])
  }, 30_000)

  test("basic auth answers 401 with a challenge without credentials", async () => {
    const name = `auth/plain-${++counter}`
    await authServer.createRepo(name, FILES)
    const response = await fetch(`${authServer.url}/${name}.git/info/refs?service=git-upload-pack`)
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toContain("Basic realm=")
    const authorized = await fetch(`${authServer.url}/${name}.git/info/refs?service=git-upload-pack`, {
      headers: { Authorization: `Basic ${Buffer.from("robot:s3cr3t-t0ken").toString("base64")}` }
    })
    expect(authorized.status).toBe(200)
    expect(authorized.headers.get("content-type")).toBe("application/x-git-upload-pack-advertisement")
  })
})
