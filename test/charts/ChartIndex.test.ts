/** The chart index reader against a real HTTP chart repository on loopback: auth, ETags, the interval, the data dir. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Duration, Effect, Either, Layer, Redacted } from "effect"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { ChartIndex } from "../../src/charts/ChartIndex.ts"
import { readIndex } from "../../src/charts/readIndex.ts"
import type { HttpChartRepository } from "../../src/domain/ChartSource.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { helmIndex, versionsOf } from "../support/chartIndex.ts"
import { chartIndexContract, contractIndex } from "../support/chartIndexContract.ts"
import { type ChartServer, chartRepository, startChartServer } from "../support/chartServer.ts"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { removeTempDirs, tempDir } from "../support/tempDirs.ts"

const credentials = { username: "bot", password: "s3cret" }
let server: ChartServer
beforeAll(async () => {
  server = await startChartServer(credentials)
  server.serve("/contract", { "index.yaml": contractIndex })
}, SERVER_HOOK_TIMEOUT)
afterAll(async () => {
  await server.stop()
  removeTempDirs()
}, SERVER_HOOK_TIMEOUT)

const liveLayer = (dataDir: string) => ChartIndex.layer(dataDir).pipe(Layer.provide(RegistryHttp.layer), Layer.provide(NodeContext.layer))

chartIndexContract("live, over HTTP", () => ({ layer: liveLayer(tempDir("charts-")), repository: chartRepository("contract", `${server.url}/contract`) }))

const fakeCharts = Object.fromEntries(Either.getOrThrow(readIndex(new TextEncoder().encode(contractIndex))))
chartIndexContract("fake", () => ({ layer: ChartIndex.layerFake({ contract: fakeCharts }), repository: chartRepository("contract", "https://charts.example.com") }))

/** Runs `program` with one live layer: its in-memory cache lives as long as the run. */
const within = <A, E>(dataDir: string, program: (index: ChartIndex["Type"]) => Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(Effect.flatMap(ChartIndex, program).pipe(Effect.provide(liveLayer(dataDir))))

const tags = (index: ChartIndex["Type"], repository: HttpChartRepository, chart = "app") =>
  Effect.map(index.versions(repository, chart), (versions) => versions.map((v) => v.tag))

describe("an HTTP chart repository", () => {
  test("basic auth: 401 without credentials, the versions with them; the password in no message", async () => {
    server.serve("/private", { "index.yaml": helmIndex([["app", versionsOf(2)]]), "app-0.0.1.tgz": Buffer.from([0x1f, 0x8b]) })
    const address = `${server.url}/private`
    const without = await within(tempDir("charts-"), (index) => Effect.either(tags(index, chartRepository("private", address))))
    expect(Either.isLeft(without) && [without.left.reason, without.left.status]).toEqual(["Auth", 401])
    const wrong = await within(tempDir("charts-"), (index) => Effect.either(tags(index, chartRepository("private", address, { username: "bot", password: Redacted.make("wrong") }))))
    expect(Either.isLeft(wrong) && wrong.left.message).not.toContain("wrong")
    const repository = chartRepository("private", address, { username: credentials.username, password: Redacted.make(credentials.password) })
    expect(await within(tempDir("charts-"), (index) => tags(index, repository))).toEqual(["0.0.1", "0.0.0"])
    expect(server.indexRequests("/private").map((r) => r.status)).toEqual([401, 401, 200])
  })

  test("within the interval nothing is asked again, concurrent callers share one request", async () => {
    server.serve("/once", { "index.yaml": helmIndex([["app", versionsOf(3)], ["other", versionsOf(1)]]) })
    const repository = chartRepository("once", `${server.url}/once`)
    const seen = await within(tempDir("charts-"), (index) =>
      Effect.all([tags(index, repository), tags(index, repository, "other"), tags(index, repository)], { concurrency: "unbounded" }))
    expect(seen).toEqual([["0.0.2", "0.0.1", "0.0.0"], ["0.0.0"], ["0.0.2", "0.0.1", "0.0.0"]])
    expect(server.indexRequests("/once")).toHaveLength(1)
  })

  test("after the interval a conditional request: 304 reuses the versions; a new ETag is read anew", async () => {
    server.serve("/etag", { "index.yaml": helmIndex([["app", versionsOf(2)]]) })
    const repository = chartRepository("etag", `${server.url}/etag`, { interval: Duration.millis(100) })
    const seen = await within(tempDir("charts-"), (index) =>
      Effect.gen(function* () {
        const first = yield* tags(index, repository)
        yield* Effect.sleep("150 millis")
        const unchanged = yield* tags(index, repository)
        server.serve("/etag", { "index.yaml": helmIndex([["app", versionsOf(3)]]) })
        yield* Effect.sleep("150 millis")
        const changed = yield* tags(index, repository)
        return [first, unchanged, changed]
      }))
    expect(seen).toEqual([["0.0.1", "0.0.0"], ["0.0.1", "0.0.0"], ["0.0.2", "0.0.1", "0.0.0"]])
    const requests = server.indexRequests("/etag")
    expect(requests.map((r) => r.status)).toEqual([200, 304, 200])
    expect(requests[0]?.headers["if-none-match"]).toBeUndefined()
    expect(requests[1]?.headers["if-none-match"]).toMatch(/^"[0-9a-f]{16}"$/)
  })

  test("a restart keeps the reduced index in the data dir: nothing asked within the interval, a conditional request after it", async () => {
    server.serve("/restart", { "index.yaml": helmIndex([["app", versionsOf(2)]]) })
    const dataDir = tempDir("charts-")
    const repository = chartRepository("restart", `${server.url}/restart`, { interval: Duration.seconds(60) })
    expect(await within(dataDir, (index) => tags(index, repository))).toEqual(["0.0.1", "0.0.0"])
    expect(readdirSync(join(dataDir, "charts"))).toHaveLength(1)
    expect(await within(dataDir, (index) => tags(index, repository))).toEqual(["0.0.1", "0.0.0"])
    expect(server.indexRequests("/restart").map((r) => r.status)).toEqual([200])
    await Bun.sleep(150)
    const short = { ...repository, interval: Duration.millis(100) }
    expect(await within(dataDir, (index) => tags(index, short))).toEqual(["0.0.1", "0.0.0"])
    const requests = server.indexRequests("/restart")
    expect(requests.map((r) => r.status)).toEqual([200, 304])
    expect(requests[1]?.headers["if-none-match"]).toMatch(/^"[0-9a-f]{16}"$/)
  })

  test("an index over the limit is a clear error, a missing one NotFound", async () => {
    server.serve("/big", { "index.yaml": helmIndex([["app", versionsOf(2000)]]) })
    const limited = ChartIndex.layer(tempDir("charts-"), { maxBytes: 1024 * 1024, maxParsedBytes: 1024 * 1024 }).pipe(Layer.provide(RegistryHttp.layer), Layer.provide(NodeContext.layer))
    const big = await Effect.runPromise(Effect.flatMap(ChartIndex, (index) => Effect.either(tags(index, chartRepository("big", `${server.url}/big`)))).pipe(Effect.provide(limited)))
    expect(Either.isLeft(big) && big.left.message).toContain("chart repository big: unexpected response: GET")
    expect(Either.isLeft(big) && big.left.message).toContain("larger than 1 MiB")
    const missing = await within(tempDir("charts-"), (index) => Effect.either(tags(index, chartRepository("none", `${server.url}/none`))))
    expect(Either.isLeft(missing) && [missing.left.reason, missing.left.status]).toEqual(["NotFound", 404])
  })
})
