/**
 * The built-in client and large files: isomorphic-git holds whole packs in memory, so a repository
 * whose pack outgrows the limit is refused at open, with a word to use system git, whether the
 * pack comes from the remote or lies in a clone system git made.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { ConfigProvider, Effect, Either, Option } from "effect"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { GitRepo } from "../../src/git/GitRepo.ts"
import * as IsoGit from "../../src/git/IsoGit.ts"
import { readAtHead, specOf } from "../support/gitContract.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { tempDir } from "../support/tempDirs.ts"

const MiB = 2 ** 20
let server: TestGitServer
let url: string
const scratch = tempDir("pack-limit-")
let counter = 0

beforeAll(async () => {
  server = await startGitServer()
  // Random bytes do not compress: the pack is as large as the blob.
  // More objects than git's fetch.unpackLimit (100), so that system git keeps the pack as a pack.
  const many = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`many/${i}.txt`, `${i}\n`]))
  url = await server.createRepo("large/repo", { ...many, "app.yaml": "image: gcr.io/org/app:1.0.0\n", "assets/big.bin": new Uint8Array(randomBytes(8 * MiB)) })
}, SERVER_HOOK_TIMEOUT)
afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

const openIso = (dir: string, maxPackBytes?: number) =>
  Effect.runPromise(
    IsoGit.open(specOf(url, { repoId: "large" }), dir, maxPackBytes === undefined ? {} : { maxPackBytes }).pipe(
      Effect.flatMap((checkout) => readAtHead(checkout, "app.yaml")),
      Effect.either,
      Effect.provide(NodeContext.layer)
    )
  )

const refusal = (result: Either.Either<unknown, { readonly message: string }>) => (Either.isLeft(result) ? result.left.message : "opened")

describe("the built-in client and a pack larger than it takes", () => {
  test("a fetch that outgrows the limit is cut off, and the repository refused with a word to use system git", async () => {
    const result = await openIso(join(scratch, `clone-${++counter}`), 4 * MiB)
    expect(refusal(result)).toContain(
      "repository large sends more than 4 MiB in one fetch (a large file at the branch tip, most likely); the built-in git client would hold it in memory: use the system git backend (RUNNER_GIT_BACKEND=system"
    )
  }, 60_000)

  test("under the limit, the same repository opens and reads", async () => {
    expect(await openIso(join(scratch, `clone-${++counter}`), 16 * MiB)).toEqual(Either.right(Option.some("image: gcr.io/org/app:1.0.0\n")))
  }, 60_000)

  test("a clone system git made with a pack over the limit is refused as it is taken over", async () => {
    const dir = join(scratch, `clone-${++counter}`)
    const bySystemGit = await Effect.runPromise(
      Effect.flatMap(GitRepo, (git) => git.open(specOf(url, { repoId: "large" }), dir)).pipe(
        Effect.either,
        Effect.provide(GitRepo.layer),
        Effect.provide(NodeContext.layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["RUNNER_GIT_BACKEND", "system"]])))
      )
    )
    expect(Either.isRight(bySystemGit)).toBe(true)
    const message = refusal(await openIso(dir, 4 * MiB))
    expect(message).toMatch(/^git clone of repository "large" failed: repository large holds a pack of 9 MiB \(pack-[0-9a-f]+\.pack\), more than the 4 MiB/)
    expect(message).toContain("use the system git backend")
  }, 60_000)
})
