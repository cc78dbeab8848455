/**
 * Clones that heal themselves: git's lock files a crash left, a corrupt loose object, a clone the
 * other backend made, a push that loses a race at the server, and two passes sharing one clone.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { ConfigProvider, Effect, Either } from "effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, readdir, writeFile } from "node:fs/promises"
import { hostname } from "node:os"
import { join } from "node:path"
import { holdCloneLock } from "../../src/git/cloneLock.ts"
import { type Checkout, GitRepo, type RepoSpec } from "../../src/git/GitRepo.ts"
import type { HttpBackend } from "../../src/git/httpBackend.ts"
import { AUTHOR, commitOne, FILES, specOf } from "../support/gitContract.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { tempDir } from "../support/tempDirs.ts"

const provide = <A, E>(effect: Effect.Effect<A, E, GitRepo | NodeContext.NodeContext>, backend: HttpBackend) =>
  Effect.runPromise(
    effect.pipe(
      Effect.provide(GitRepo.layer),
      Effect.provide(NodeContext.layer),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["RUNNER_GIT_BACKEND", backend]])))
    )
  )

/** As a pass does it: the clone's lock held over open, commit and push. */
const pass = (backend: HttpBackend, spec: RepoSpec, dir: string, content: string, between?: (c: Checkout) => Promise<void>) =>
  provide(
    Effect.scoped(
      Effect.gen(function*() {
        yield* holdCloneLock(spec.repoId, dir)
        const checkout = yield* Effect.flatMap(GitRepo, (git) => git.open(spec, dir))
        if (between !== undefined) yield* Effect.promise(() => between(checkout))
        yield* commitOne(checkout, { files: [{ path: "README.md", content }], message: content.trim(), author: AUTHOR })
        return yield* checkout.push
      })
    ),
    backend
  )

let server: TestGitServer
let counter = 0
const scratch = tempDir("recovery-test-")

beforeAll(async () => {
  server = await startGitServer()
}, SERVER_HOOK_TIMEOUT)
afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

const newRepo = async () => {
  const name = `heal/repo-${++counter}`
  const url = await server.createRepo(name, FILES)
  return { name, spec: specOf(url), dir: join(scratch, `clone-${counter}`) }
}

describe.each(["builtin", "system"] as const)("%s backend", (backend) => {
  test("lock files a killed git left (shallow.lock, refs/heads/main.lock) are removed at the next pass", async () => {
    const { dir, name, spec } = await newRepo()
    expect(await pass(backend, spec, dir, "one\n")).toEqual({ _tag: "Pushed" })
    await server.commitAs(name, { "other.txt": "x\n" }, "other")
    await writeFile(join(dir, "shallow.lock"), "")
    await writeFile(join(dir, "refs", "heads", "main.lock"), "")
    expect(await pass(backend, spec, dir, "two\n")).toEqual({ _tag: "Pushed" })
    expect((await server.log(name))[0]?.subject).toBe("two")
    expect(existsSync(join(dir, "shallow.lock"))).toBe(false)
  }, 30_000)

  test("temporary objects, packs and fast-import crash reports a killed git left are removed at the next pass", async () => {
    const { dir, name, spec } = await newRepo()
    expect(await pass(backend, spec, dir, "one\n")).toEqual({ _tag: "Pushed" })
    await mkdir(join(dir, "objects", "ab"), { recursive: true })
    await mkdir(join(dir, "objects", "pack"), { recursive: true })
    const leftovers = [
      join(dir, "objects", "tmp_obj_a1B2c3"),
      join(dir, "objects", "ab", "tmp_obj_d4E5f6"),
      join(dir, "objects", "pack", "tmp_pack_g7H8i9"),
      join(dir, "objects", "pack", "tmp_idx_g7H8i9"),
      join(dir, "fast_import_crash_12345")
    ]
    for (const file of leftovers) await writeFile(file, "PACK half-written")
    expect(await pass(backend, spec, dir, "two\n")).toEqual({ _tag: "Pushed" })
    expect((await server.log(name))[0]?.subject).toBe("two")
    expect(leftovers.filter((file) => existsSync(file))).toEqual([])
    // What git keeps there stays.
    expect(existsSync(join(dir, "objects", "pack"))).toBe(true)
    expect(existsSync(join(dir, "HEAD"))).toBe(true)
  }, 30_000)

  test("a clone keeps no sample hooks: none are made, and an older clone's are removed at the next pass", async () => {
    const { dir, spec } = await newRepo()
    expect(await pass(backend, spec, dir, "one\n")).toEqual({ _tag: "Pushed" })
    const samples = async () => (existsSync(join(dir, "hooks")) ? (await readdir(join(dir, "hooks"))).filter((name) => name.endsWith(".sample")) : [])
    expect(await samples()).toEqual([])
    // As `git init` with its default template left them in clones made before.
    await mkdir(join(dir, "hooks"), { recursive: true })
    await writeFile(join(dir, "hooks", "pre-commit.sample"), "#!/bin/sh\n")
    await writeFile(join(dir, "hooks", "update.sample"), "#!/bin/sh\n")
    expect(await pass(backend, spec, dir, "two\n")).toEqual({ _tag: "Pushed" })
    expect(await samples()).toEqual([])
  }, 30_000)

  test("the other backend's clone is taken over: fetch, commit and push", async () => {
    const { dir, name, spec } = await newRepo()
    const other = backend === "builtin" ? "system" : "builtin"
    expect(await pass(other, spec, dir, "first\n")).toEqual({ _tag: "Pushed" })
    await server.commitAs(name, { "other.txt": "x\n" }, "other")
    expect(await pass(backend, spec, dir, "second\n")).toEqual({ _tag: "Pushed" })
    const log = await server.log(name)
    expect(log.map((entry) => entry.subject).slice(0, 3)).toEqual(["second", "other", "first"])
  }, 30_000)

  test("a ref moved at the server between its advertisement and the update is a race, not a failure", async () => {
    const { dir, name, spec } = await newRepo()
    const pushed = await pass(backend, spec, dir, "mine\n", async () => {
      server.beforeNextUpdate(async () => {
        await server.commitAs(name, { "other.txt": "raced\n" }, "raced")
      })
    })
    expect(pushed._tag).toBe("Rejected")
    expect((await server.log(name))[0]?.subject).toBe("raced")
  }, 30_000)
})

test("a corrupt loose object in the built-in client's clone: cloned again, and the push goes through", async () => {
  const { dir, name, spec } = await newRepo()
  expect(await pass("builtin", spec, dir, "one\n")).toEqual({ _tag: "Pushed" })
  // Every loose object is one our commit wrote; cut each short as a kill -9 mid-write would.
  for (const prefix of (await readdir(join(dir, "objects"))).filter((p) => /^[0-9a-f]{2}$/.test(p))) {
    for (const file of await readdir(join(dir, "objects", prefix))) await writeFile(join(dir, "objects", prefix, file), "")
  }
  // The branch did not move: the next commit's parent is one of those objects.
  expect(await pass("builtin", spec, dir, "two\n")).toEqual({ _tag: "Pushed" })
  expect((await server.log(name)).map((entry) => entry.subject).slice(0, 2)).toEqual(["two", "one"])
}, 30_000)

describe("the clone's lock", () => {
  test("two passes on one clone at once: the second waits for the first, both push", async () => {
    const { dir, name, spec } = await newRepo()
    const order: Array<string> = []
    const during = (label: string) => async () => {
      order.push(`${label} open`)
      await new Promise((resolve) => setTimeout(resolve, 300))
      order.push(`${label} done`)
    }
    const results = await Promise.all([
      pass("system", spec, dir, "a\n", during("a")),
      pass("builtin", spec, dir, "b\n", during("b"))
    ])
    expect(results).toEqual([{ _tag: "Pushed" }, { _tag: "Pushed" }])
    // Never interleaved: each pass ran from open to push alone.
    expect([["a open", "a done", "b open", "b done"], ["b open", "b done", "a open", "a done"]]).toContainEqual(order)
    expect((await server.log(name)).length).toBe(3)
    expect(existsSync(`${dir}.lock`)).toBe(false)
  }, 60_000)

  const exitedPid = () =>
    new Promise<number>((resolve) => {
      const child = spawn("true")
      child.on("exit", () => resolve(child.pid ?? 0))
    })

  test("a lock whose process is gone is taken over", async () => {
    const { dir, name, spec } = await newRepo()
    const pid = await exitedPid()
    await writeFile(`${dir}.lock`, JSON.stringify({ pid, host: hostname(), since: 0, run: "earlier" }))
    expect(await pass("system", spec, dir, "taken\n")).toEqual({ _tag: "Pushed" })
    expect((await server.log(name))[0]?.subject).toBe("taken")
    expect(existsSync(`${dir}.lock`)).toBe(false)
  }, 30_000)

  test("a lock a live process holds: waited for a bounded time, then an error naming the holder", async () => {
    const { dir } = await newRepo()
    const holder = spawn("sleep", ["30"])
    try {
      await writeFile(`${dir}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), since: Date.UTC(2024, 0, 2, 3, 4, 5), run: "other" }))
      const started = Date.now()
      const result = await Effect.runPromise(
        Effect.scoped(holdCloneLock("config", dir, "600 millis")).pipe(Effect.either, Effect.provide(NodeContext.layer))
      )
      expect(Date.now() - started).toBeGreaterThanOrEqual(500)
      const message = Either.isLeft(result) ? result.left.message : "taken"
      expect(message).toContain(`in use by pid ${holder.pid} on ${hostname()}, since 2024-01-02T03:04:05.000Z`)
      expect(message).toContain(`${dir}.lock`)
      expect(existsSync(`${dir}.lock`)).toBe(true)
    } finally {
      holder.kill()
    }
  }, 30_000)
})
