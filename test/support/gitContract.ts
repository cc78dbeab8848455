import { describe, expect, test } from "bun:test"
import { Effect, Either, Option, TestClock, TestContext } from "effect"
import { existsSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { type Author, type Checkout, type CommitInput, GitError, type RepoSpec } from "../../src/git/GitRepo.ts"

export const AUTHOR = { name: "piped", email: "pipecd.dev@gmail.com" }

export const FILES = {
  "apps/foo/deployment.yaml": "spec:\n  containers:\n    - image: gcr.io/pipecd/foo:1.0.0 # pinned\n",
  ".pipe/imagewatcher-dev.yaml": "kind: ImageWatcher\n",
  ".pipe/imagewatcher-prd.yaml": "kind: ImageWatcher\n",
  ".pipe/nested/ignored.yaml": "nested: true\n",
  "README.md": "# config\n"
}

/** One file at head, as a batch of one. */
export const readAtHead = (checkout: Checkout, path: string) =>
  checkout.readFiles([path]).pipe(Effect.map((blobs) => Option.map(blobs[0] ?? Option.none(), (blob) => blob.text)))

/** One commit on top of head, as a batch of one. */
export const commitOne = (checkout: Checkout, input: CommitInput) =>
  checkout.commitAll([input]).pipe(Effect.map((oids) => oids[0] ?? ""))

export const exec = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

export const specOf = (remote: string, extra: Partial<RepoSpec> = {}): RepoSpec => ({
  repoId: "config",
  remote,
  branch: "main",
  password: Option.none(),
  username: Option.none(),
  sshKeyFile: Option.none(),
  ...extra
})

/** A commit of the remote's branch, as `git log` shows it. */
export interface LogEntry {
  readonly oid: string
  readonly author: string
  readonly email: string
  readonly subject: string
  /** `%at %ct %cn <%ce>` */
  readonly times: string
}

/** A file a test writes to a remote: its text, or a symbolic link to `symlink`. */
export type SeedFile = string | { readonly symlink: string }

/** The remote side of the contract: what a test does to a remote besides the code under test. */
export interface ContractRemotes {
  /** Who `commitAs` commits as. */
  readonly otherWriter: Author
  /** A repository `name` whose branch `main` holds these files in one commit ("Initial commit"); returns its remote. */
  readonly create: (name: string, files: Record<string, SeedFile>) => Promise<string>
  /** Commits these changes on `branch` (`main` unless given) as another writer; returns the commit. */
  readonly commitAs: (name: string, files: Record<string, SeedFile>, message: string, branch?: string) => Promise<string>
  /** Merges branch `from` into branch `into` as another writer; returns `into`'s new tip. */
  readonly merge: (name: string, from: string, into: string, how: "merge commit" | "fast-forward") => Promise<string>
  /** The branch's tip; undefined when there is no such branch. */
  readonly tip: (name: string, branch: string) => Promise<string | undefined>
  /** Whether `ancestor` is `descendant` or one of its ancestors, as the remote's repository has them. */
  readonly isAncestor: (name: string, ancestor: string, descendant: string) => Promise<boolean>
  /** A commit's parents, first parent first. */
  readonly parents: (name: string, oid: string) => Promise<ReadonlyArray<string>>
  readonly readFile: (name: string, path: string) => Promise<string>
  /** The branch, newest first. */
  readonly log: (name: string) => Promise<ReadonlyArray<LogEntry>>
  /** `git show -s --format=%B` of a commit. */
  readonly body: (name: string, oid: string) => Promise<string>
  /** git's own id of the file at the branch tip. */
  readonly blobOid: (name: string, path: string) => Promise<string>
  /** From now on pushes to `name` fail as a server-side hook refusal does. */
  readonly refusePushes: (name: string) => Promise<void>
  /** A file at a branch's tip; undefined when there is none. */
  readonly readFileAt: (name: string, branch: string, path: string) => Promise<string | undefined>
  /** Moves a branch to a commit the remote has, forced, as another writer may; deletes it when `oid` is undefined. */
  readonly setBranch: (name: string, branch: string, oid: string | undefined) => Promise<void>
}

/** What only a real backend has: a clone on disk and a remote to check. */
export interface OnDisk {
  /** Pushes the server has received over http so far. */
  readonly receivePacks: () => number
  /** Fails when the remote's repository is not sound (`git fsck --strict`). */
  readonly fsck: (name: string) => Promise<void>
}

export interface ContractSubject {
  readonly open: (spec: RepoSpec, dir: string) => Promise<Checkout>
  readonly openError: (spec: RepoSpec, dir: string) => Promise<GitError>
  readonly remotes: ContractRemotes
  /** A directory for a new clone, not used before. */
  readonly newDir: () => string
  readonly onDisk?: OnDisk
}

interface Ctx extends ContractSubject {
  readonly name: string
  readonly dir: string
  readonly spec: RepoSpec
}

const scenarios: ReadonlyArray<{ readonly scenario: string; readonly run: (ctx: Ctx) => Promise<void> }> = [
  {
    scenario: "clones shallow and reads a nested file at the branch tip",
    run: async ({ dir, name, onDisk, open, remotes, spec }) => {
      const checkout = await open(spec, dir)
      const [tip] = await remotes.log(name)
      expect(await exec(checkout.head)).toBe(tip?.oid ?? "missing")
      if (onDisk !== undefined) expect(existsSync(join(dir, "shallow"))).toBe(true)
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
    run: async ({ dir, name, open, remotes, spec }) => {
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
      expect(blobs.map(Option.map((blob) => blob.oid))[0]).toEqual(Option.some(await remotes.blobOid(name, "README.md")))
      expect(await exec(checkout.readFiles([]))).toEqual([])
      for (const bad of ["a/../../b", "line\nbreak.yaml", ""]) {
        expect(Either.isLeft(await exec(Effect.either(checkout.readFiles(["README.md", bad]))))).toBe(true)
      }
    }
  },
  {
    scenario: "lists the files directly under a directory",
    run: async ({ dir, open, spec }) => {
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
    scenario: "lists every file and link of the tree at head, sorted by path, following head",
    run: async ({ dir, name, open, remotes, spec }) => {
      // The files of the contract's repository, and more: a link, odd names, a deep directory.
      const more: Record<string, SeedFile> = {
        "apps/link.yaml": { symlink: "foo/deployment.yaml" },
        "apps/with space.yaml": "a: 1\n",
        "apps/line\nbreak.yaml": "b: 2\n",
        "a/b/c/d/e/deep.yaml": "c: 3\n",
        "apps-first.yaml": "d: 4\n"
      }
      await remotes.commitAs(name, more, "More shapes")
      const checkout = await open(spec, dir)
      const listing = await exec(checkout.listTree)
      const expected = [...Object.keys(FILES), ...Object.keys(more)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      expect(listing.map((entry) => entry.path)).toEqual(expected)
      expect(listing.filter((entry) => entry.kind === "symlink").map((entry) => entry.path)).toEqual(["apps/link.yaml"])
      for (const path of ["README.md", "apps/line\nbreak.yaml", "apps/link.yaml"]) {
        expect(listing.find((entry) => entry.path === path)?.oid).toBe(await remotes.blobOid(name, path))
      }

      // After a commit, head's tree; after sync, the remote's again.
      const base = await exec(checkout.head)
      await exec(commitOne(checkout, { files: [{ path: "apps/new/added.yaml", content: "e: 5\n" }], message: "Add", author: AUTHOR }))
      const committed = await exec(checkout.listTree)
      expect(committed.map((entry) => entry.path)).toEqual([...expected, "apps/new/added.yaml"].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
      expect(committed.find((entry) => entry.path === "apps/new/added.yaml")?.kind).toBe("file")
      const theirs = await remotes.commitAs(name, { "apps/theirs.yaml": "f: 6\n" }, "Theirs")
      expect(await exec(checkout.sync)).toBe(theirs)
      expect(theirs).not.toBe(base)
      const synced = await exec(checkout.listTree)
      expect(synced.map((entry) => entry.path)).toEqual([...expected, "apps/theirs.yaml"].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
      expect(synced.find((entry) => entry.path === "apps/link.yaml")?.kind).toBe("symlink")
    }
  },
  {
    scenario: "an empty tree lists nothing",
    run: async ({ newDir, open, remotes, spec }) => {
      const remote = await remotes.create(`contract/empty-${++counter}`, {})
      const checkout = await open({ ...spec, remote }, newDir())
      expect(await exec(checkout.listTree)).toEqual([])
      expect(await exec(checkout.listFiles(""))).toEqual([])
    }
  },
  {
    scenario: "two commits then one push: the remote log has both, with author, messages and Clock time",
    run: async ({ dir, name, onDisk, open, remotes, spec }) => {
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
      expect(await remotes.log(name)).toHaveLength(1)

      const receivePacks = onDisk?.receivePacks() ?? 0
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      if (onDisk !== undefined) {
        expect(onDisk.receivePacks() - receivePacks).toBe(spec.remote.startsWith("http") ? 1 : 0)
      }

      const log = await remotes.log(name)
      expect(log.map((entry) => entry.oid)).toEqual([commits[1], commits[0], base])
      expect(log.slice(0, 2).map(({ author, email, subject }) => ({ author, email, subject }))).toEqual([
        { author: AUTHOR.name, email: AUTHOR.email, subject: "Add bar" },
        {
          author: AUTHOR.name,
          email: AUTHOR.email,
          subject: "Update gcr.io/pipecd/foo:1.0.0 in apps/foo/deployment.yaml to 1.1.0"
        }
      ])
      expect(log.slice(0, 2).map((entry) => entry.times)).toEqual([
        `1700000060 1700000060 ${AUTHOR.name} <${AUTHOR.email}>`,
        `1700000000 1700000000 ${AUTHOR.name} <${AUTHOR.email}>`
      ])
      expect(await remotes.readFile(name, "apps/foo/deployment.yaml")).toBe(updated)
      expect(await remotes.readFile(name, "apps/bar/new/service.yaml")).toBe("kind: Service\n")
      expect(await remotes.readFile(name, ".pipe/nested/ignored.yaml")).toBe(FILES[".pipe/nested/ignored.yaml"])
      await onDisk?.fsck(name)
    }
  },
  {
    scenario: "commitAll writes a batch of commits on top of head, one push sends them all",
    run: async ({ dir, name, onDisk, open, remotes, spec }) => {
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
      const log = await remotes.log(name)
      expect(log.map((entry) => entry.oid)).toEqual([...oids].reverse().concat(base))
      expect(log.map((entry) => entry.subject)).toEqual(["Three", "Two", "One", "Initial commit"])
      expect(await remotes.readFile(name, "apps/with space/\"quoted\" ü.yaml")).toBe("kind: Ünïcode\n")
      expect(await remotes.readFile(name, "README.md")).toBe("")
      expect(await remotes.body(name, oids[2] ?? "missing")).toBe("Three\n\nwith a body\n\n")
      await onDisk?.fsck(name)
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
    run: async ({ dir, name, onDisk, open, remotes, spec }) => {
      await open(spec, dir)
      const marker = join(dir, "kept-between-passes")
      if (onDisk !== undefined) await writeFile(marker, "")
      const theirs = await remotes.commitAs(name, { ".pipe/imagewatcher-dev.yaml": "kind: Changed\n" }, "Change watcher")
      const checkout = await open(spec, dir)
      if (onDisk !== undefined) expect(existsSync(marker)).toBe(true)
      expect(await exec(checkout.head)).toBe(theirs)
      expect(await exec(readAtHead(checkout, ".pipe/imagewatcher-dev.yaml"))).toEqual(Option.some("kind: Changed\n"))
    }
  },
  {
    scenario: "sync drops local commits that were never pushed",
    run: async ({ dir, name, open, remotes, spec }) => {
      const checkout = await open(spec, dir)
      const base = await exec(checkout.head)
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "local\n" }], message: "local", author: AUTHOR }))
      expect(await exec(checkout.sync)).toBe(base)
      expect(await exec(checkout.head)).toBe(base)
      expect(await exec(readAtHead(checkout, "README.md"))).toEqual(Option.some(FILES["README.md"]))
      expect(await remotes.log(name)).toHaveLength(1)
    }
  },
  {
    scenario: "another writer pushes between our sync and our push: Rejected, then sync + commit + push lands",
    run: async ({ dir, name, open, remotes, spec }) => {
      const checkout = await open(spec, dir)
      await exec(
        commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours, first try", author: AUTHOR })
      )
      const theirs = await remotes.commitAs(name, { "apps/other.yaml": "x: 1\n" }, "Theirs")
      const result = await exec(checkout.push)
      expect(result._tag).toBe("Rejected")
      expect((await remotes.log(name))[0]?.oid).toBe(theirs)

      expect(await exec(checkout.sync)).toBe(theirs)
      const ours = await exec(
        commitOne(checkout, { files: [{ path: "README.md", content: "ours\n" }], message: "Ours, again", author: AUTHOR })
      )
      expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
      const log = await remotes.log(name)
      expect(log.map((entry) => entry.subject)).toEqual(["Ours, again", "Theirs", "Initial commit"])
      expect(log[0]?.oid).toBe(ours)
      expect(log[1]).toMatchObject({ oid: theirs, author: remotes.otherWriter.name })
      expect(await remotes.readFile(name, "apps/other.yaml")).toBe("x: 1\n")
    }
  },
  {
    scenario: "a server-side hook refusal is a push GitError, not a rejection",
    run: async ({ dir, name, open, remotes, spec }) => {
      const checkout = await open(spec, dir)
      await remotes.refusePushes(name)
      await exec(commitOne(checkout, { files: [{ path: "README.md", content: "x\n" }], message: "x", author: AUTHOR }))
      const error = await exec(Effect.flip(checkout.push))
      expect(error).toBeInstanceOf(GitError)
      expect([error.operation, error.kind]).toEqual(["push", "rejected"])
      expect(await remotes.log(name)).toHaveLength(1)
    }
  },
  {
    scenario: "a missing branch is a GitError naming the branch",
    run: async ({ dir, openError, spec }) => {
      const error = await openError({ ...spec, branch: "no-such-branch" }, dir)
      expect([error.operation, error.kind]).toEqual(["clone", "notFound"])
      expect(error.message).toContain("config")
      expect(error.message).toContain("no-such-branch")
    }
  }
]

let counter = 0

/**
 * The Checkout contract: what every implementation of `GitRepo` does, the real backends and the
 * fake alike, each scenario on a new repository holding FILES. Checks of the clone on disk and of
 * the remote's repository run where `subject.onDisk` is given.
 */
export const checkoutContract = (name: string, subject: ContractSubject): void => {
  describe(name, () => {
    test.each(scenarios.map((s) => [s.scenario, s] as const))("%s", async (_, { run }) => {
      const repo = `contract/repo-${++counter}`
      const remote = await subject.remotes.create(repo, FILES)
      await run({ ...subject, name: repo, dir: subject.newDir(), spec: specOf(remote) })
    }, 30_000)
  })
}
