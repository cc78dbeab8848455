/**
 * A repository whose https remote asks for credentials and gets none counts under `git_auth` in
 * runner_target_failures_total, on each backend: the kind travels from where git failed to the
 * metrics, and no message is read again to find it.
 */
import { NodeContext } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ConfigProvider, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { Signatures } from "../../src/gates/Signatures.ts"
import { GitRepo } from "../../src/git/GitRepo.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { Readiness } from "../../src/pipeline/Readiness.ts"
import { reportLines } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { Triggers } from "../../src/pipeline/Triggers.ts"
import { WatchRouting } from "../../src/pipeline/WatchRouting.ts"
import { LastWritten } from "../../src/pipeline/LastWritten.ts"
import { Pauses } from "../../src/pipeline/Pauses.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { metricsText } from "../../src/server/Http.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { pipelineOf, WATCHER } from "../support/inProcess.ts"
import { tempDir } from "../support/tempDirs.ts"

const IMAGE = "gcr.io/org/app"

let server: TestGitServer

beforeAll(async () => {
  server = await startGitServer({ basicAuth: { username: "robot", password: "s3cr3t-t0ken" } })
}, SERVER_HOOK_TIMEOUT)
afterAll(() => server.stop(), SERVER_HOOK_TIMEOUT)

/** The pipeline's services with the real git backends, the registry in memory. */
const layer = Layer.merge(TagCache.layer, Signatures.layerTest(() => Either.left("no signature"))).pipe(
  Layer.provideMerge(Layer.mergeAll(TagSource.layerTest(new Map([[IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0" }]]])), GitRepo.layer, WatchRouting.layer, Readiness.layer, Triggers.layer, LastWritten.layerTest, Pauses.layerTest, RegistryHttp.layer)),
  Layer.provideMerge(NodeContext.layer),
  Layer.provideMerge(Logger.minimumLogLevel(LogLevel.None))
)

/** The value of the series written exactly so; 0 when there is none (a single pass creates only the series it counts). */
const valueOf = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

describe.each(["builtin", "system"] as const)("%s backend", (backend) => {
  test("a remote that answers 401 to a runner with no password is a git_auth failure, not a transient git one", async () => {
    const remote = await server.createRepo(`metrics/none-${backend}`, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER })
    const base = pipelineOf()
    const pipeline = { ...base, name: `no-credentials-${backend}`, repositories: base.repositories.map((repo) => ({ ...repo, remote })) }
    const { report, text } = await Effect.runPromise(
      Effect.gen(function*() {
        const report = yield* runOnce([pipeline], { dryRun: false, dataDir: tempDir("git-auth-metrics-") })
        return { report, text: yield* metricsText }
      }).pipe(
        Effect.provide(layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["RUNNER_GIT_BACKEND", backend]])))
      )
    )
    expect(report.failures.map((f) => f.failure.message)).toEqual([expect.stringContaining(`${remote} asks for credentials and none are configured`)])
    expect(reportLines(report).flatMap((line) => line.failure === undefined ? [] : [line.failure])).toEqual([{ reason: "git_auth", transient: false }])
    const at = `pipeline="${pipeline.name}",repo="config"`
    expect([valueOf(text, `runner_target_failures_total{${at},reason="git_auth"}`), valueOf(text, `runner_target_failures_total{${at},reason="git"}`)]).toEqual([1, 0])
  }, 60_000)
})
