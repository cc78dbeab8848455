/**
 * Files stay byte-faithful through a whole pass on the real git server, with either backend: a
 * byte-order mark is written back, and files that are not UTF-8 text or are symbolic links are
 * refused and left as they are.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ConfigProvider, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { execFile } from "node:child_process"
import { join } from "node:path"
import { Signatures } from "../../src/gates/Signatures.ts"
import { GitRepo } from "../../src/git/GitRepo.ts"
import type { HttpBackend } from "../../src/git/remote.ts"
import type { PassReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { Triggers } from "../../src/pipeline/Triggers.ts"
import { WatchIndex } from "../../src/pipeline/WatchIndex.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { pipelineOf } from "../support/inProcess.ts"
import { tempDir } from "../support/tempDirs.ts"

const IMAGE = "gcr.io/org/app"
const target = (file: string) => `    - {image: ${IMAGE}, provider: registry, filePath: ${file}, field: image}\n`
const WATCHER = `apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  targets:\n${
  ["bom.yaml", "latin1.yaml", "link.yaml"].map(target).join("")
}`
const BOM = [0xef, 0xbb, 0xbf]
const bytes = (text: string) => [...new TextEncoder().encode(text)]
// "café" in Latin-1: 0xE9 is no UTF-8.
const LATIN1 = new Uint8Array([...bytes("name: caf"), 0xe9, ...bytes(`\nimage: ${IMAGE}:1.0.0\n`)])

let server: TestGitServer
beforeAll(async () => {
  server = await startGitServer()
})
afterAll(() => server.stop())

/** A file at the branch tip of the bare repo, as its bytes; or an entry's mode with `mode`. */
const inBare = (name: string, args: ReadonlyArray<string>) =>
  new Promise<Buffer>((resolve, reject) => {
    execFile("git", [...args], { cwd: join(server.root, `${name}.git`), encoding: "buffer" }, (error, stdout) =>
      error ? reject(error) : resolve(stdout))
  })

const passOn = (url: string, backend: HttpBackend): Promise<PassReport> => {
  const images = new Map<string, ReadonlyArray<TagInfo>>([[IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }]]])
  const layer = Layer.merge(TagCache.layer, Signatures.layerTest(() => Either.left("no signature"))).pipe(
    Layer.provideMerge(Layer.mergeAll(TagSource.layerTest(images), GitRepo.layer, WatchIndex.layer, Triggers.layer)),
    Layer.provideMerge(NodeContext.layer),
    Layer.provideMerge(Logger.minimumLogLevel(LogLevel.Warning))
  )
  const base = pipelineOf()
  const pipeline = { ...base, repositories: base.repositories.map((repo) => ({ ...repo, remote: url })) }
  return Effect.runPromise(
    runOnce([pipeline], { dryRun: false, dataDir: tempDir("runner-bytes-") }).pipe(
      Effect.provide(layer),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["RUNNER_GIT_BACKEND", backend]])))
    )
  )
}

describe.each(["builtin", "system"] as const)("a pass over the real git server, %s backend", (backend) => {
  test("a byte-order mark is kept; a Latin-1 file and a symbolic link are refused and left as they are", async () => {
    const name = `bytes-${backend}`
    const url = await server.createRepo(name, {
      ".pipe/w.yaml": WATCHER,
      "bom.yaml": new Uint8Array([...BOM, ...bytes(`image: ${IMAGE}:1.0.0\n`)]),
      "latin1.yaml": LATIN1,
      "link.yaml": { symlink: "bom.yaml" }
    })
    const report = await passOn(url, backend)
    const outcomes = report.targets.map((t) => [t.filePath, t.outcome._tag === "Failed" ? t.outcome.failure.message : t.outcome._tag])
    expect(outcomes).toEqual([
      ["bom.yaml", "Updated"],
      ["latin1.yaml", "latin1.yaml is not UTF-8 text: the runner leaves it as it is"],
      ["link.yaml", "link.yaml is a symbolic link, not a file"]
    ])
    expect([...await inBare(name, ["show", "main:bom.yaml"])]).toEqual([...BOM, ...bytes(`image: ${IMAGE}:1.1.0\n`)])
    expect([...await inBare(name, ["show", "main:latin1.yaml"])]).toEqual([...LATIN1])
    expect((await inBare(name, ["ls-tree", "main", "--", "link.yaml"])).toString()).toStartWith("120000 blob ")
    expect((await inBare(name, ["cat-file", "blob", "main:link.yaml"])).toString()).toBe("bom.yaml")
  }, 60_000)
})
