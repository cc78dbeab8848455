/**
 * Repository-level golden cases, run in process on fake services. Each directory of golden/ holds
 * `original/` (the repository, `.pipe/` included), `tags.yaml` (each image's tags: names, or
 * `{tag, digest}`), `expected/` (the repository after one pass), `commits.txt` (the subjects of the
 * new commits, oldest first), optionally `report.txt` (the `--once` report, commit ids left out),
 * `messages.txt` (the whole messages of the new commits, oldest first, separated by `---` lines)
 * and `repo.yaml` (the repository's `gitRepos` options: `commitMessage`, `group`).
 */
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import type { WatchedRepo } from "../../src/config/model.ts"
import { formatReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
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

describe("golden repositories", () => {
  test.each(readdirSync(GOLDEN).sort())("%s", async (name) => {
    const dir = join(GOLDEN, name)
    const world = fakeWorld()
    world.remotes.create(REMOTE, readTree(join(dir, "original")))
    for (const [image, tags] of tagsOf(readFileSync(join(dir, "tags.yaml"), "utf8"))) world.images.set(image, tags)

    const options = existsSync(join(dir, "repo.yaml")) ? (parse(readFileSync(join(dir, "repo.yaml"), "utf8")) as Partial<WatchedRepo>) : undefined
    const watchedRepos = options === undefined ? [] : [{ repoId: "config", includes: [], excludes: [], ...options }]
    const report = await Effect.runPromise(runOnce([pipelineOf({ watchedRepos })], world.options).pipe(Effect.provide(world.layer)))

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
