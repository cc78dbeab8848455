/**
 * Repository-level golden cases, run in process on fake services. Each directory of golden/ holds
 * `original/` (the repository, `.pipe/` included), `tags.yaml` (each image's tags: names, or
 * `{tag, digest}`), `expected/` (the repository after one pass), `commits.txt` (the subjects of the
 * new commits, oldest first), optionally `report.txt` (the `--once` report, commit ids left out),
 * `messages.txt` (the whole messages of the new commits, oldest first, separated by `---` lines),
 * `repo.yaml` (the repository's `gitRepos` options: `commitMessage`, `group`) and `charts.yaml`
 * (HTTP chart repositories by name: `address`, and `charts` with each chart's versions).
 */
import { describe, expect, test } from "bun:test"
import { Duration, Effect, Layer } from "effect"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { ChartIndex } from "../../src/charts/ChartIndex.ts"
import type { ChartVersion } from "../../src/charts/indexScan.ts"
import type { WatchedRepo } from "../../src/config/model.ts"
import type { ChartRegistry, ChartRepository } from "../../src/domain/ChartSource.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { formatReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const GOLDEN = join(import.meta.dir, "golden")

/** Every file under `dir`, by path relative to it. */
const readTree = (dir: string, prefix = ""): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name)
      return statSync(path).isDirectory()
        ? Object.entries(readTree(path, `${prefix}${name}/`))
        : [[`${prefix}${name}`, readFileSync(path, "utf8")] as const]
    })
  )

const tagsOf = (text: string) =>
  new Map(
    Object.entries(parse(text) as Record<string, ReadonlyArray<string | { tag: string; digest?: string }>>).map(([image, tags]) => [
      image,
      tags.map((t) => (typeof t === "string" ? { tag: t } : { tag: t.tag, ...(t.digest === undefined ? {} : { digest: t.digest }) }))
    ])
  )

/**
 * The chart sources of `charts.yaml`, for the pipeline: HTTP repositories by name with their
 * versions, for ChartIndex's fake; and OCI chart registries, an entry whose address is
 * `oci://…`, whose charts' tags are images' in `tags.yaml`.
 */
const chartsOf = (text: string) => {
  const written = Object.entries(parse(text) as Record<string, { address: string; charts?: Record<string, ReadonlyArray<string>> }>)
  const source = { file: "piped.yaml", line: 1 }
  const http = written.filter(([, { address }]) => !address.startsWith("oci://"))
  const repositories: ReadonlyArray<ChartRepository> = http.map(([name, { address }]) => ({
    type: "HTTP", name, address, insecure: false, interval: Duration.minutes(5), source
  }))
  const registries: ReadonlyArray<ChartRegistry> = written
    .filter(([, { address }]) => address.startsWith("oci://"))
    .map(([, { address }]) => ({ type: "OCI", address: address.slice("oci://".length), interval: Duration.minutes(5), source }))
  const versions = Object.fromEntries(
    http.map(([name, { charts }]) => [
      name,
      Object.fromEntries(Object.entries(charts ?? {}).map(([chart, list]) => [chart, list.map((version): ChartVersion => ({ version }))]))
    ])
  )
  return { repositories, registries, versions }
}

describe("golden repositories", () => {
  test.each(readdirSync(GOLDEN).sort())("%s", async (name) => {
    const dir = join(GOLDEN, name)
    const charts = existsSync(join(dir, "charts.yaml")) ? chartsOf(readFileSync(join(dir, "charts.yaml"), "utf8")) : { repositories: [], registries: [], versions: {} }
    const images = new Map<string, ReadonlyArray<TagInfo>>()
    const world = fakeWorld(TagSource.layerTest(images).pipe(Layer.provide(ChartIndex.layerFake(charts.versions))))
    world.remotes.create(REMOTE, readTree(join(dir, "original")))
    for (const [image, tags] of tagsOf(readFileSync(join(dir, "tags.yaml"), "utf8"))) images.set(image, tags)

    const options = existsSync(join(dir, "repo.yaml")) ? (parse(readFileSync(join(dir, "repo.yaml"), "utf8")) as Partial<WatchedRepo>) : undefined
    const watchedRepos = options === undefined ? [] : [{ repoId: "config", includes: [], excludes: [], ...options }]
    const pipeline = { ...pipelineOf({ watchedRepos }), chartRepositories: charts.repositories, chartRegistries: charts.registries }
    const report = await Effect.runPromise(runOnce([pipeline], world.options).pipe(Effect.provide(world.layer)))

    expect(world.remotes.log(REMOTE).slice(0, -1).map((c) => c.subject).reverse()).toEqual(
      readFileSync(join(dir, "commits.txt"), "utf8").split("\n").filter((line) => line !== "")
    )
    const tip = world.remotes.log(REMOTE)[0]
    expect(Object.fromEntries(tip?.tree ?? [])).toEqual(readTree(join(dir, "expected")))
    if (existsSync(join(dir, "messages.txt"))) {
      const messages = world.remotes.log(REMOTE).slice(0, -1).map((c) => c.message.trimEnd()).reverse()
      expect(messages.join("\n---\n")).toBe(readFileSync(join(dir, "messages.txt"), "utf8").trimEnd())
    }
    if (existsSync(join(dir, "report.txt"))) {
      expect(formatReport(report).replace(/updated \([0-9a-f]{7}\)/g, "updated")).toBe(readFileSync(join(dir, "report.txt"), "utf8"))
    }
  })
})
