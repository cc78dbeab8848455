import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ConfigProvider, Effect, Either, Option, Redacted, TestClock, TestContext } from "effect"
import { existsSync } from "node:fs"
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Checkout,
  chooseHttpBackend,
  type CommitInput,
  GitError,
  GitRepo,
  type HttpBackend,
  parseGitVersion,
  type RepoSpec
} from "../../src/git/GitRepo.ts"
import { parseCatFileBatch } from "../../src/git/systemGit.ts"
import { git, OTHER_WRITER, startGitServer, type TestGitServer } from "../support/gitServer.ts"

const AUTHOR = { name: "piped", email: "pipecd.dev@gmail.com" }

/** One file at head, as a batch of one. */
const readAtHead = (checkout: Checkout, path: string) =>
  checkout.readFiles([path]).pipe(Effect.map((blobs) => Option.map(blobs[0] ?? Option.none(), (blob) => blob.text)))

/** One commit on top of head, as a batch of one. */
const commitOne = (checkout: Checkout, input: CommitInput) =>
  checkout.commitAll([input]).pipe(Effect.map((oids) => oids[0] ?? ""))

const FILES = {
  "apps/foo/deployment.yaml": "spec:\n  containers:\n    - image: gcr.io/pipecd/foo:1.0.0 # pinned\n",
  ".pipe/imagewatcher-dev.yaml": "kind: ImageWatcher\n",
  ".pipe/imagewatcher-prd.yaml": "kind: ImageWatcher\n",
  ".pipe/nested/ignored.yaml": "nested: true\n",
  "README.md": "# config\n"
}

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

const exec = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

const specOf = (remote: string, extra: Partial<RepoSpec> = {}): RepoSpec => ({
  repoId: "config",
  remote,
  branch: "main",
  password: Option.none(),
  username: Option.none(),
  sshKeyFile: Option.none(),
  ...extra
})

let server: TestGitServer
let authServer: TestGitServer
let scratch: string
let counter = 0

beforeAll(async () => {
  server = await startGitServer()
  authServer = await startGitServer({ basicAuth: { username: "robot", password: "s3cr3t-t0ken" } })
  scratch = await mkdtemp(join(tmpdir(), "gitrepo-test-"))
})

afterAll(async () => {
  await server.stop()
  await authServer.stop()
  await rm(scratch, { recursive: true, force: true })
})

interface Ctx extends ReturnType<typeof opener> {
  readonly name: string
  readonly remote: string
  readonly dir: string
  readonly spec: RepoSpec
}

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

const scenarios: ReadonlyArray<{ readonly scenario: string; readonly run: (ctx: Ctx) => Promise<void> }> = [
  {
    scenario: "clones shallow and reads a nested file at the branch tip",
    run: async ({ name, dir, spec, open }) => {
      const checkout = await open(spec, dir)
      const [tip] = await server.log(name)
      expect(await exec(checkout.head)).toBe(tip?.oid ?? "missing")
      expect(existsSync(join(dir, "shallow"))).toBe(true)
      expect(await exec(readAtHead(checkout, "apps/foo/deployment.yaml"))).toEqual(
        Option.some(FILES["apps/foo/deployment.yaml"])
      )
      expect(await exec(readAtHead(checkout, "apps/foo/missing.yaml"))).toEqual(Option.none())
      expect(await exec(readAtHead(checkout, "apps"))).toEqual(Option.none())
      expect(Either.isLeft(await exec(Effect.either(readAtHead(checkout, "../outside"))))).toBe(true)
    }
  },
  {
    scenario: "reads a batch of files in the order asked, with None for what is no file",
    run: async ({ name, dir, spec, open }) => {
      const checkout = await open(spec, dir)
      const batch = ["README.md", "apps/foo/missing.yaml", "apps", "./apps/foo/deployment.yaml", ".pipe/nested/ignored.yaml", "README.md"]
      const blobs = await exec(checkout.readFiles(batch))
      expect(blobs.map(Option.map((blob) => blob.text))).toEqual([
        Option.some(FILES["README.md"]),
        Option.none(),
        Option.none(),
        Option.some(FILES["apps/foo/deployment.yaml"]),
        Option.some(FILES[".pipe/nested/ignored.yaml"]),
        Option.some(FILES["README.md"])
      ])
      // The blob ids are git's own.
      const readme = (await git(["rev-parse", `main:README.md`], { cwd: join(server.root, `${name}.git`) })).trim()
      expect(blobs.map(Option.map((blob) => blob.oid))[0]).toEqual(Option.some(readme))
      expect(await exec(checkout.readFiles([]))).toEqual([])
      for (const bad of ["a/../../b", "line\nbreak.yaml", ""]) {
        expect(Either.isLeft(await exec(Effect.either(checkout.readFiles(["README.md", bad]))))).toBe(true)
      }
    }
  },
  {
    scenario: "lists the files directly under a directory",
    run: async ({ dir, spec, open }) => {
      const checkout = await open(spec, dir)
      const sorted = async (path: string) => (await exec(checkout.listFiles(path))).map((file) => file.name).sort()
      expect(await sorted(".pipe/")).toEqual(["imagewatcher-dev.yaml", "imagewatcher-prd.yaml"])
      expect(await sorted(".pipe")).toEqual(["imagewatcher-dev.yaml", "imagewatcher-prd.yaml"])
      expect(await sorted("")).toEqual(["README.md"])
      expect(await sorted("no/such/dir")).toEqual([])
      expect(await sorted("README.md")).toEqual([])
    }
  },
  {
    scenario: "two commits then one push: the remote log has both, with author, messages and Clock time",
    run: async ({ name, dir, spec, open }) => {
      const checkout = await open(spec, dir)
      const base = await exec(checkout.head)
      const updated = FILES["apps/foo/deployment.yaml"].replace("1.0.0", "1.1.0")
      const commits = await Effect.runPromise(
        Effect.gen(function*() {
          yield* TestClock.setTime(1_700_000_000_000)
          const first = yield* commitOne(checkout, {
            files: [{ path: "apps/foo/deployment.yaml", content: updated }],
            message: "Update gcr.io/pipecd/foo:1.0.0 in apps/foo/deployment.yaml to 1.1.0",
            author: AUTHOR
          })
          yield* TestClock.adjust("1 minute")
          const second = yield* commitOne(checkout, {
            files: [{ path: "apps/bar/new/service.yaml", content: "kind: Service\n" }, {
              path: "README.md",
              content: "# config, updated\n"
            }],
            message: "Add bar",
            author: AUTHOR
          })
          return [first, second] as const
        }).pipe(Effect.provide(TestContext.TestContext))
      )
      expect(await exec(checkout.head)).toBe(commits[1])
      expect(await exec(readAtHead(checkout, "apps/foo/deployment.yaml"))).toEqual(Option.some(updated))
      expect(await server.log(name)).toHaveLength(1)

      const receivePacks = server.stats.receivePacks
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      expect(server.stats.receivePacks - receivePacks).toBe(spec.remote.startsWith("http") ? 1 : 0)

      const log = await server.log(name)
      expect(log.map((entry) => entry.oid)).toEqual([commits[1], commits[0], base])
      expect(log.slice(0, 2).map(({ author, email, subject }) => ({ author, email, subject }))).toEqual([
        { author: AUTHOR.name, email: AUTHOR.email, subject: "Add bar" },
        {
          author: AUTHOR.name,
          email: AUTHOR.email,
          subject: "Update gcr.io/pipecd/foo:1.0.0 in apps/foo/deployment.yaml to 1.1.0"
        }
      ])
      const times = await git(["log", "-2", "--format=%at %ct %cn <%ce>", "refs/heads/main"], {
        cwd: join(server.root, `${name}.git`)
      })
      expect(times.trim().split("\n")).toEqual([
        `1700000060 1700000060 ${AUTHOR.name} <${AUTHOR.email}>`,
        `1700000000 1700000000 ${AUTHOR.name} <${AUTHOR.email}>`
      ])
      expect(await server.readFile(name, "apps/foo/deployment.yaml")).toBe(updated)
      expect(await server.readFile(name, "apps/bar/new/service.yaml")).toBe("kind: Service\n")
      expect(await server.readFile(name, ".pipe/nested/ignored.yaml")).toBe(FILES[".pipe/nested/ignored.yaml"])
      await git(["fsck", "--strict"], { cwd: join(server.root, `${name}.git`) })
    }
  },
  {
    scenario: "commitAll writes a batch of commits on top of head, one push sends them all",
    run: async ({ name, dir, spec, open }) => {
      const checkout = await open(spec, dir)
      const base = await exec(checkout.head)
      expect(await exec(checkout.commitAll([]))).toEqual([])
      const deployment = (tag: string) => FILES["apps/foo/deployment.yaml"].replace("1.0.0", tag)
      const oids = await exec(checkout.commitAll([
        { files: [{ path: "apps/foo/deployment.yaml", content: deployment("1.1.0") }], message: "One", author: AUTHOR },
        { files: [{ path: "apps/foo/deployment.yaml", content: deployment("1.2.0") }], message: "Two\n", author: AUTHOR },
        {
          files: [{ path: "apps/with space/\"quoted\" ü.yaml", content: "kind: Ünïcode\n" }, {
            path: "./README.md",
            content: ""
          }],
          message: "Three\n\nwith a body",
          author: { name: "Name <with> brackets", email: AUTHOR.email }
        }
      ]))
      expect(oids).toHaveLength(3)
      expect(await exec(checkout.head)).toBe(oids[2] ?? "missing")
      expect(await exec(readAtHead(checkout, "apps/foo/deployment.yaml"))).toEqual(Option.some(deployment("1.2.0")))
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      const log = await server.log(name)
      expect(log.map((entry) => entry.oid)).toEqual([...oids].reverse().concat(base))
      expect(log.map((entry) => entry.subject)).toEqual(["Three", "Two", "One", "Initial commit"])
      expect(await server.readFile(name, "apps/with space/\"quoted\" ü.yaml")).toBe("kind: Ünïcode\n")
      expect(await server.readFile(name, "README.md")).toBe("")
      const bare = join(server.root, `${name}.git`)
      expect(await git(["show", "-s", "--format=%B", oids[2] ?? "missing"], { cwd: bare })).toBe("Three\n\nwith a body\n\n")
      await git(["fsck", "--strict"], { cwd: bare })
      const invalid = await exec(Effect.flip(checkout.commitAll([
        { files: [{ path: "README.md", content: "x\n" }], message: "fine", author: AUTHOR },
        { files: [{ path: "../outside", content: "x\n" }], message: "bad", author: AUTHOR }
      ])))
      expect(invalid.operation).toBe("commit")
      expect(await exec(checkout.head)).toBe(oids[2] ?? "missing")
    }
  },
  {
    scenario: "reopening an existing clone fetches (no re-clone) and sees another writer's commit",
    run: async ({ name, dir, spec, open }) => {
      await open(spec, dir)
      const marker = join(dir, "kept-between-passes")
      await writeFile(marker, "")
      const theirs = await server.commitAs(name, { ".pipe/imagewatcher-dev.yaml": "kind: Changed\n" }, "Change watcher")
      const checkout = await open(spec, dir)
      expect(existsSync(marker)).toBe(true)
      expect(await exec(checkout.head)).toBe(theirs)
      expect(await exec(readAtHead(checkout, ".pipe/imagewatcher-dev.yaml"))).toEqual(Option.some("kind: Changed\n"))
    }
  },
  {
    scenario: "a corrupt clone directory is wiped and cloned again",
    run: async ({ name, dir, spec, open }) => {
      await open(spec, dir)
      await rm(join(dir, "config"))
      await rm(join(dir, "HEAD"))
      const checkout = await open(spec, dir)
      const [tip] = await server.log(name)
      expect(await exec(checkout.head)).toBe(tip?.oid ?? "missing")
    }
  },
  {
    scenario: "sync drops local commits that were never pushed",
    run: async ({ name, dir, spec, open }) => {
      const checkout = await open(spec, dir)
      const base = await exec(checkout.head)
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "local\n" }], message: "local", author: AUTHOR }))
      expect(await exec(checkout.sync)).toBe(base)
      expect(await exec(checkout.head)).toBe(base)
      expect(await exec(readAtHead(checkout, "README.md"))).toEqual(Option.some(FILES["README.md"]))
      expect(await server.log(name)).toHaveLength(1)
    }
  },
  {
    scenario: "another writer pushes between our sync and our push: Rejected, then sync + commit + push lands",
    run: async ({ name, dir, spec, open }) => {
      const checkout = await open(spec, dir)
      await exec(
        commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours, first try", author: AUTHOR })
      )
      const theirs = await server.commitAs(name, { "apps/other.yaml": "x: 1\n" }, "Theirs")
      const result = await exec(checkout.push)
      expect(result._tag).toBe("Rejected")
      expect((await server.log(name))[0]?.oid).toBe(theirs)

      expect(await exec(checkout.sync)).toBe(theirs)
      const ours = await exec(
        commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours, again", author: AUTHOR })
      )
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      const log = await server.log(name)
      expect(log.map((entry) => entry.subject)).toEqual(["Ours, again", "Theirs", "Initial commit"])
      expect(log[0]?.oid).toBe(ours)
      expect(log[1]).toMatchObject({ oid: theirs, author: OTHER_WRITER.name })
      expect(await server.readFile(name, "apps/other.yaml")).toBe("x: 1\n")
    }
  },
  {
    scenario: "a server-side hook refusal is a push GitError, not a rejection",
    run: async ({ name, dir, spec, open }) => {
      const checkout = await open(spec, dir)
      const hook = join(server.root, `${name}.git`, "hooks", "pre-receive")
      await writeFile(hook, "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
      await chmod(hook, 0o755)
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "x\n" }], message: "x", author: AUTHOR }))
      const error = await exec(Effect.flip(checkout.push))
      expect(error).toBeInstanceOf(GitError)
      expect(error.operation).toBe("push")
      expect(await server.log(name)).toHaveLength(1)
    }
  },
  {
    scenario: "a missing branch is a GitError naming the branch",
    run: async ({ dir, spec, openError }) => {
      const error = await openError({ ...spec, branch: "no-such-branch" }, dir)
      expect(error.operation).toBe("clone")
      expect(error.message).toContain("config")
      expect(error.message).toContain("no-such-branch")
    }
  }
]

for (const { backend, http, remoteOf } of backends) {
  describe(`GitRepo with ${backend}`, () => {
    test.each(scenarios.map((s) => [s.scenario, s] as const))("%s", async (_, { run }) => {
      const name = `org/repo-${++counter}`
      await server.createRepo(name, FILES)
      const remote = remoteOf(name)
      await run({ name, remote, dir: join(scratch, `clone-${counter}`), spec: specOf(remote), ...opener(http) })
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
  const blob = (text: string) => Option.some({ oid, text })
  test.each([
    ["a blob, sized in bytes", `${oid} blob 6\nü: 1\n\n`, 1, [blob("ü: 1\n")]],
    ["an empty blob", `${oid} blob 0\n\n`, 1, [blob("")]],
    ["missing, then a blob", `${oid}:x missing\n${oid} blob 2\nok\n`, 2, [Option.none(), blob("ok")]],
    ["a tree is no file", `${oid} tree 3\nabc\n${oid} blob 1\n\n\n`, 2, [Option.none(), blob("\n")]],
    ["an ambiguous name is no file", `HEAD:x ambiguous\n`, 1, [Option.none()]],
    ["cut short in a header", `${oid} blob 2\nok\n${oid} blo`, 2, undefined],
    ["cut short in a body", `${oid} blob 20\nok\n`, 1, undefined]
  ] as const)("%s", (_name, out, count, expected) => {
    expect(parseCatFileBatch(bytes(out), count)).toEqual(expected)
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
