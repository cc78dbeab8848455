import { describe, expect, test } from "bun:test"
import { Effect, Option, TestClock, TestContext } from "effect"
import { symlink } from "node:fs/promises"
import { join } from "node:path"
import * as FakeGit from "../../src/git/FakeGit.ts"
import { GitRepo, type RepoSpec } from "../../src/git/GitRepo.ts"
import { AUTHOR, checkoutContract, commitOne, type ContractRemotes, exec, FILES, specOf } from "../support/gitContract.ts"
import { git } from "../support/gitServer.ts"
import { pushBranchContract } from "../support/pushBranchContract.ts"
import { branchesContract } from "../support/branchesContract.ts"
import { tempDir } from "../support/tempDirs.ts"

const remotes = new FakeGit.Remotes()

const urlOf = (name: string) => `https://git.example.com/${name}.git`

const run = <A, E>(effect: Effect.Effect<A, E, GitRepo>) => Effect.runPromise(Effect.provide(effect, FakeGit.layer(remotes)))

const open = (spec: RepoSpec, dir: string) => run(Effect.flatMap(GitRepo, (repo) => repo.open(spec, dir)))

/** git's own id of `content` as a blob, from git itself. */
const hashObject = async (content: string) => {
  const dir = tempDir("fake-git-blob-")
  await Bun.write(join(dir, "blob"), content)
  return (await git(["hash-object", join(dir, "blob")])).trim()
}

const fakeRemotes: ContractRemotes = {
  otherWriter: FakeGit.OTHER_WRITER,
  create: async (name, files) => {
    remotes.create(urlOf(name), files)
    return urlOf(name)
  },
  commitAs: async (name, files, message, branch) => remotes.commitAs(urlOf(name), files, message, branch === undefined ? {} : { branch }),
  merge: async (name, from, into, how) => remotes.merge(urlOf(name), from, into, { fastForward: how === "fast-forward" }),
  tip: async (name, branch) => remotes.log(urlOf(name), { branch })[0]?.oid,
  isAncestor: async (_, ancestor, descendant) => remotes.isAncestor(ancestor, descendant),
  parents: async (_, oid) => remotes.commit(oid)?.parents ?? [],
  readFile: async (name, path) => remotes.readFile(urlOf(name), path) ?? `no ${path}`,
  log: async (name) =>
    remotes.log(urlOf(name)).map((commit) => ({
      oid: commit.oid,
      author: commit.author.name,
      email: commit.author.email,
      subject: commit.subject,
      times: `${commit.seconds} ${commit.seconds} ${commit.author.name} <${commit.author.email}>`
    })),
  // `%B` is the message as kept, and a line break.
  body: async (name, oid) => `${remotes.log(urlOf(name)).find((commit) => commit.oid === oid)?.message ?? ""}\n`,
  blobOid: (name, path) => hashObject(remotes.readFile(urlOf(name), path) ?? ""),
  refusePushes: async (name) => remotes.refusePushes(urlOf(name), "protected branch"),
  readFileAt: async (name, branch, path) => remotes.readFile(urlOf(name), path, { branch }),
  setBranch: async (name, branch, oid) => remotes.setBranch(urlOf(name), branch, oid)
}

let dirs = 0

const subject = {
  open,
  openError: (spec: RepoSpec, dir: string) => run(Effect.flatMap(GitRepo, (repo) => Effect.flip(repo.open(spec, dir)))),
  remotes: fakeRemotes,
  newDir: () => `/fake/clone-${++dirs}`
}

checkoutContract("GitRepo with FakeGit", subject)
pushBranchContract("GitRepo with FakeGit", subject)
branchesContract("GitRepo with FakeGit", subject)

describe("FakeGit.Remotes", () => {
  test("commit ids are git's own for the same files, message, author and time", async () => {
    const url = urlOf("ids/same-as-git")
    const files = { ...FILES, "a.b": "1\n", "a/c": "2\n", "a-b/d": "3\n", "a0": "4\n", "ü/ö.yaml": "ä\n" }
    const links = { "a/link": "../a.b", "top-link": "a/c" }
    const first = remotes.create(url, { ...files, ...Object.fromEntries(Object.entries(links).map(([path, to]) => [path, { symlink: to }])) }, { seconds: 1_600_000_000 })
    const second = remotes.commitAs(url, { "a/c": "changed\n", "a.b/e": "a file where a file was\n" }, "Second\n\nwith a body", {
      author: AUTHOR,
      seconds: 1_600_000_060
    })

    const work = tempDir("fake-git-ids-")
    const at = (seconds: number, author: { name: string; email: string }) => ({
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
      GIT_AUTHOR_DATE: `@${seconds} +0000`,
      GIT_COMMITTER_DATE: `@${seconds} +0000`
    })
    await git(["init", "--quiet", "--initial-branch=main", work])
    for (const [path, content] of Object.entries(files)) await Bun.write(join(work, path), content)
    for (const [path, to] of Object.entries(links)) await symlink(to, join(work, path))
    await git(["add", "--all"], { cwd: work })
    await git(["commit", "--quiet", "-m", "Initial commit"], { cwd: work, env: at(1_600_000_000, FakeGit.OTHER_WRITER) })
    expect((await git(["rev-parse", "HEAD"], { cwd: work })).trim()).toBe(first)

    await git(["rm", "--quiet", "a.b"], { cwd: work })
    await Bun.write(join(work, "a/c"), "changed\n")
    await Bun.write(join(work, "a.b/e"), "a file where a file was\n")
    await git(["add", "--all"], { cwd: work })
    await git(["commit", "--quiet", "-m", "Second\n\nwith a body"], { cwd: work, env: at(1_600_000_060, AUTHOR) })
    expect((await git(["rev-parse", "HEAD"], { cwd: work })).trim()).toBe(second)
    expect(remotes.log(url).map((commit) => commit.subject)).toEqual(["Second", "Initial commit"])
    expect(remotes.readFile(url, "a.b")).toBeUndefined()
  })

  test("beforeNextPush runs another writer once, at the start of the next push", async () => {
    const url = urlOf("race/repo")
    remotes.create(url, FILES)
    const checkout = await open(specOf(url), "/fake/race")
    await exec(commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours", author: AUTHOR }))
    let calls = 0
    remotes.beforeNextPush(() => {
      calls++
      remotes.commitAs(url, { "README.md": "theirs\n" }, "Theirs")
    })
    expect((await exec(checkout.push))._tag).toBe("Rejected")
    expect(calls).toBe(1)
    expect(remotes.log(url).map((commit) => commit.subject)).toEqual(["Theirs", "Initial commit"])
    await exec(checkout.sync)
    await exec(commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours", author: AUTHOR }))
    expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
    expect(calls).toBe(1)
    expect(remotes.log(url).map((commit) => commit.subject)).toEqual(["Ours", "Theirs", "Initial commit"])
  })

  test("a remote is the same with or without userinfo, and a missing one fails to clone", async () => {
    const url = urlOf("auth/repo")
    remotes.create(url, FILES)
    const checkout = await open(specOf(url.replace("https://", "https://robot:t0ken@")), "/fake/auth")
    await exec(commitOne(checkout, { files: [{ path: "README.md", content: "y\n" }], message: "y", author: AUTHOR }))
    expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
    expect(remotes.readFile(url, "README.md")).toBe("y\n")

    const error = await run(Effect.flatMap(GitRepo, (repo) => Effect.flip(repo.open(specOf(urlOf("none")), "/fake/none"))))
    expect(error.operation).toBe("clone")
    expect(error.message).not.toContain("t0ken")
  })

  test("writing a file where a directory was, and in a directory where a file was, replaces it", async () => {
    const url = urlOf("shapes/repo")
    remotes.create(url, FILES)
    const checkout = await open(specOf(url), "/fake/shapes")
    await Effect.runPromise(
      Effect.gen(function*() {
        yield* TestClock.setTime(1_700_000_000_000)
        yield* commitOne(checkout, {
          files: [{ path: ".pipe", content: "now a file\n" }, { path: "README.md/inside", content: "now a dir\n" }],
          message: "Shapes",
          author: AUTHOR
        })
      }).pipe(Effect.provide(TestContext.TestContext))
    )
    expect((await exec(checkout.listFiles(""))).map((file) => file.name)).toEqual([".pipe"])
    expect(await exec(checkout.listFiles("README.md"))).toEqual([{ name: "inside", oid: await hashObject("now a dir\n") }])
    expect(await exec(checkout.readFiles([".pipe/imagewatcher-dev.yaml", ".pipe"]))).toEqual([
      Option.none(),
      Option.some({ oid: await hashObject("now a file\n"), text: "now a file\n", kind: "text", size: 11 })
    ])
    expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
    expect(remotes.log(url)[0]).toMatchObject({ subject: "Shapes", seconds: 1_700_000_000, author: AUTHOR })
  })
})
