/**
 * Files stay byte-faithful through a whole pass on the real git server, with either backend: a
 * byte-order mark is written back, and files that are not UTF-8 text or are symbolic links are
 * refused and left as they are. File names with a line break or a backslash affect only what
 * names them, except that the built-in client refuses a repository with a backslash, clearly.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { ConfigProvider, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { execFile } from "node:child_process"
import { join } from "node:path"
import { Signatures } from "../../src/gates/Signatures.ts"
import { GitRepo } from "../../src/git/GitRepo.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import type { HttpBackend } from "../../src/git/httpBackend.ts"
import type { PassReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { Triggers } from "../../src/pipeline/Triggers.ts"
import { Readiness } from "../../src/pipeline/Readiness.ts"
import { WatchRouting } from "../../src/pipeline/WatchRouting.ts"
import { LastWritten } from "../../src/pipeline/LastWritten.ts"
import { Pauses } from "../../src/pipeline/Pauses.ts"
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
}, SERVER_HOOK_TIMEOUT)
afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

/** A file at the branch tip of the bare repo, as its bytes; or an entry's mode with `mode`. */
const inBare = (name: string, args: ReadonlyArray<string>) =>
  new Promise<Buffer>((resolve, reject) => {
    execFile("git", [...args], { cwd: join(server.root, `${name}.git`), encoding: "buffer" }, (error, stdout) =>
      error ? reject(error) : resolve(stdout))
  })

const passOn = (url: string, backend: HttpBackend): Promise<PassReport> => {
  const images = new Map<string, ReadonlyArray<TagInfo>>([[IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }]]])
  const layer = Layer.merge(TagCache.layer, Signatures.layerTest(() => Either.left("no signature"))).pipe(
    Layer.provideMerge(Layer.mergeAll(TagSource.layerTest(images), GitRepo.layer, WatchRouting.layer, Readiness.layer, Triggers.layer, LastWritten.layerTest, Pauses.layerTest, RegistryHttp.layer)),
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

const oddWatcher = (targets: ReadonlyArray<string>) =>
  `apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  targets:\n${
    targets.map((file) => `    - {image: ${IMAGE}, provider: registry, filePath: ${JSON.stringify(file)}, field: image}\n`).join("")
  }`
const MANIFEST = `image: ${IMAGE}:1.0.0\n`
const outcomesOf = (report: PassReport) => [
  ...report.targets.map((t) => [t.filePath, t.outcome._tag === "Failed" ? t.outcome.failure.message : t.outcome._tag]),
  ...report.failures.map((f) => [f.scope, f.failure.message])
]

// Anyone who can push to the watched repository can commit such names.
describe.each(["builtin", "system"] as const)("odd file names in the watched repository, %s backend", (backend) => {
  test("a line break in a file name affects only what names that file", async () => {
    const name = `line-breaks-${backend}`
    const url = await server.createRepo(name, {
      ".pipe/w.yaml": oddWatcher(["app.yaml", "a\nb.yaml"]),
      ".pipe/line\nbreak.yaml": oddWatcher(["other.yaml"]),
      "app.yaml": MANIFEST,
      "other.yaml": MANIFEST,
      "a\nb.yaml": MANIFEST
    })
    const report = await passOn(url, backend)
    expect(report.targets.map((t) => [t.filePath, t.outcome._tag])).toEqual([["app.yaml", "Updated"]])
    expect(report.failures.map((f) => f.failure.message)).toEqual([
      "the file's name holds a line break: not read",
      '.pipe/w.yaml:6: spec.targets[1].filePath: must not hold a line break or NUL, got "a\\nb.yaml"'
    ])
    expect((await inBare(name, ["show", "main:app.yaml"])).toString()).toBe(`image: ${IMAGE}:1.1.0\n`)
    expect((await inBare(name, ["show", "main:a\nb.yaml"])).toString()).toBe(MANIFEST)
  }, 60_000)

  test("a backslash in a file name: system git updates the other targets; the built-in client refuses the repository clearly", async () => {
    const name = `backslashes-${backend}`
    const url = await server.createRepo(name, {
      ".pipe/w.yaml": oddWatcher(["app.yaml", "a\\b.yaml"]),
      ".pipe/back\\slash.yaml": oddWatcher(["other.yaml"]),
      "app.yaml": MANIFEST,
      "other.yaml": MANIFEST,
      "a\\b.yaml": MANIFEST
    })
    const report = await passOn(url, backend)
    if (backend === "builtin") {
      expect(report.targets).toEqual([])
      expect(outcomesOf(report)).toEqual([[
        "repository config",
        'git read of repository "config" failed: cannot list .pipe: the repository holds a file named "a\\\\b.yaml", which the built-in git client refuses to read or push: use the system git backend (RUNNER_GIT_BACKEND=system, git 2.31 or newer)'
      ]])
      // Deeper in the tree, the files are read; the push, which walks every tree, says the same.
      const deep = await server.createRepo(`${name}-deep`, { ".pipe/w.yaml": oddWatcher(["app.yaml"]), "app.yaml": MANIFEST, "sub/a\\b.yaml": MANIFEST })
      const pushed = outcomesOf(await passOn(deep, backend))
      expect(pushed.map(([, message]) => message).join("\n")).toContain('git push of repository "config" failed: the repository holds a file named "a\\\\b.yaml", which the built-in git client refuses')
      return
    }
    // A watcher file's filePath reads a backslash as a slash: `a\b.yaml` names a/b.yaml.
    expect(outcomesOf(report)).toEqual([["other.yaml", "Updated"], ["app.yaml", "Updated"], ["a/b.yaml", "file a/b.yaml not found"]])
    expect((await inBare(name, ["show", "main:app.yaml"])).toString()).toBe(`image: ${IMAGE}:1.1.0\n`)
    expect((await inBare(name, ["show", "main:a\\b.yaml"])).toString()).toBe(MANIFEST)
  }, 60_000)
})
