import { FileSystem, Path } from "@effect/platform"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Redacted } from "effect"
import type { ChartRepository, HttpChartRepository } from "../domain/ChartSource.ts"
import type { RegistryError } from "../domain/RegistryError.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { type Outgoing, RegistryHttp, type Target } from "../http/RegistryHttp.ts"
import { makeKeptCache } from "../keptCache.ts"
import { ChartError } from "./ChartError.ts"
import type { ChartVersion, ChartVersions } from "./indexScan.ts"
import { type KeptIndex, keptIndexFile, loadKeptIndex, saveKeptIndex } from "./keptIndex.ts"
import { DEFAULT_INDEX_LIMITS, type IndexLimits, readIndex } from "./readIndex.ts"

/**
 * The versions of the charts of HTTP chart repositories, read from their `index.yaml`. An index
 * is read once per repository interval for every target that uses it (concurrent callers share
 * one request), asked again with its ETag or Last-Modified, and kept in the data dir.
 */
export class ChartIndex extends Context.Tag("ChartIndex")<
  ChartIndex,
  {
    /** Each version of `chart` as a tag: `created` from the index, `digest` the archive's (`sha256:…`); in the index's order. */
    readonly versions: (repository: ChartRepository, chart: string) => Effect.Effect<ReadonlyArray<TagInfo>, ChartError>
  }
>() {
  static readonly layer = (dataDir: string, limits: IndexLimits = DEFAULT_INDEX_LIMITS): Layer.Layer<ChartIndex, never, RegistryHttp | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(ChartIndex, make(dataDir, limits))

  /** Repositories by name, their charts' versions given: for pipeline tests. */
  static readonly layerFake = (repositories: Readonly<Record<string, Readonly<Record<string, ReadonlyArray<ChartVersion>>>>>): Layer.Layer<ChartIndex> =>
    Layer.succeed(ChartIndex, serve((repository) => {
      const charts = Object.hasOwn(repositories, repository.name) ? repositories[repository.name] : undefined
      return charts === undefined
        ? Effect.fail(new ChartError({ reason: "NotFound", repository: repository.name, detail: "no such repository in the fake" }))
        : Effect.succeed(new Map(Object.entries(charts)))
    }))
}

const nameOf = (repository: ChartRepository): string => repository.name ?? (repository.type === "GIT" ? repository.gitRemote : "")

const gitRepository = (repository: ChartRepository): ChartError =>
  new ChartError({ reason: "Config", repository: nameOf(repository), detail: `chart repository ${nameOf(repository)} is a git repository: chart versions are not tags` })

const asTag = (v: ChartVersion): TagInfo => ({
  tag: v.version,
  ...(v.created === undefined ? {} : { created: new Date(v.created) }),
  ...(v.digest !== undefined && /^[0-9a-f]{64}$/.test(v.digest) ? { digest: `sha256:${v.digest}` } : {})
})

/** The service's contract over any way of getting a repository's index. */
const serve = (indexOf: (repository: HttpChartRepository) => Effect.Effect<ChartVersions, ChartError>): ChartIndex["Type"] => {
  const index = (repository: ChartRepository) => (repository.type === "HTTP" ? indexOf(repository) : Effect.fail(gitRepository(repository)))
  return {
    versions: (repository, chart) =>
      Effect.flatMap(index(repository), (charts) => {
        const versions = charts.get(chart)
        return versions === undefined
          ? Effect.fail(new ChartError({ reason: "NotFound", repository: nameOf(repository), chart, detail: `no chart ${chart} in the repository's index.yaml` }))
          : Effect.succeed(versions.map(asTag))
      })
  }
}

const fromRegistry = (repository: HttpChartRepository) => (error: RegistryError): ChartError =>
  new ChartError({ reason: error.reason, repository: repository.name, detail: error.detail, ...(error.status === undefined ? {} : { status: error.status }) })

const targetOf = (repository: HttpChartRepository, limits: IndexLimits): Target => ({
  provider: repository.name,
  registry: new URL(repository.address).host,
  repository: "index.yaml",
  rateLimit: { interval: repository.interval },
  insecure: repository.insecure,
  caCert: Option.none(),
  // The operator's config names the address: it may be on a link-local network.
  linkLocalHosts: [new URL(repository.address).hostname],
  maxBodyBytes: limits.maxBytes
})

const requestOf = (repository: HttpChartRepository, known: KeptIndex | undefined): Outgoing => {
  const headers: Record<string, string> = { accept: "application/yaml, text/yaml, */*" }
  if (repository.username !== undefined) {
    const password = repository.password === undefined ? "" : Redacted.value(repository.password)
    headers["authorization"] = `Basic ${Buffer.from(`${repository.username}:${password}`).toString("base64")}`
  }
  if (known?.etag !== undefined) headers["if-none-match"] = known.etag
  if (known?.lastModified !== undefined) headers["if-modified-since"] = known.lastModified
  return { method: "GET", url: `${repository.address}/index.yaml`, headers }
}

const make = (dataDir: string, limits: IndexLimits) => Effect.gen(function* () {
  const http = yield* RegistryHttp
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const cache = yield* makeKeptCache<KeptIndex, ChartError>({ keptFor: () => undefined })
  /** The last index of each repository, kept past its interval for the conditional request. */
  const last = new Map<string, KeptIndex>()
  const provided = <A, E>(effect: Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>) =>
    effect.pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))

  const fetchIndex = (repository: HttpChartRepository, id: string, file: string) => Effect.gen(function* () {
    const fromDisk = last.has(id) ? undefined : yield* provided(loadKeptIndex(file, repository.address))
    const known = last.get(id) ?? fromDisk
    const now = yield* Clock.currentTimeMillis
    // Kept by a run before this one, within the interval: nothing to ask.
    if (fromDisk !== undefined && now >= fromDisk.checked && now - fromDisk.checked < Duration.toMillis(repository.interval)) {
      last.set(id, fromDisk)
      return fromDisk
    }
    const reply = yield* Effect.mapError(http.send(targetOf(repository, limits), requestOf(repository, known)), fromRegistry(repository))
    const fail = (reason: ChartError["reason"], detail: string) => Effect.fail(new ChartError({ reason, repository: repository.name, status: reply.status, detail }))
    if (reply.status === 304 && known !== undefined) {
      const confirmed = { ...known, checked: now }
      last.set(id, confirmed)
      return confirmed
    }
    if (reply.status === 401 || reply.status === 403) return yield* fail("Auth", `${repository.address}/index.yaml refused ${repository.username === undefined ? "without credentials" : `user ${repository.username}`}`)
    if (reply.status === 404) return yield* fail("NotFound", `no index.yaml at ${repository.address}`)
    if (reply.status !== 200) return yield* fail("Protocol", `unexpected status reading ${repository.address}/index.yaml`)
    const charts = readIndex(reply.body, limits)
    if (Either.isLeft(charts)) return yield* fail("Index", charts.left)
    const etag = reply.headers["etag"]
    const lastModified = reply.headers["last-modified"]
    const kept: KeptIndex = { charts: charts.right, ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }), checked: now }
    last.set(id, kept)
    yield* provided(saveKeptIndex(file, repository.address, kept))
    return kept
  })

  const indexOf = (repository: HttpChartRepository): Effect.Effect<ChartVersions, ChartError> => {
    const id = `${repository.name}\0${repository.address}`
    const interval = Duration.toMillis(repository.interval)
    const file = keptIndexFile(dataDir, path, repository.name, repository.address)
    // What a run before this one confirmed is kept for what is left of its interval.
    const keptFor = (kept: KeptIndex, wall: number) => interval - Math.max(0, wall - kept.checked)
    return Effect.map(cache.get(id, () => fetchIndex(repository, id, file), keptFor), (kept) => kept.charts)
  }
  return serve(indexOf)
})
