/**
 * `runner validate --list-targets`: the targets a repository's watcher files declare or discover,
 * read from a checkout's working tree (the current directory), not from git: what the next pass
 * would find once this tree is committed.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either } from "effect"
import { loadPipelines } from "./config/load.ts"
import type { WatcherFile } from "./config/model.ts"
import { decodeWatcherFile } from "./config/WatcherFile.ts"
import { chartLabel } from "./domain/chartTarget.ts"
import type { DeclaredTarget } from "./domain/Target.ts"
import { EMPTY_SCAN, type FileScan } from "./manifest/scanFile.ts"
import { scanBlob } from "./pipeline/discover.ts"
import { compileRules, discoveredTargets } from "./pipeline/discovered.ts"
import { WATCHER_DIR } from "./pipeline/watchers.ts"

const isYaml = (name: string) => /\.ya?ml$/i.test(name)

/** The watcher files under `.pipe/` of `root`, as paths relative to it; none when there is no such directory. */
export const pipeWatcherFiles = (root: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const names = yield* fs.readDirectory(path.join(root, WATCHER_DIR)).pipe(Effect.orElseSucceed(() => []))
    return names.filter(isYaml).sort().map((name) => `${WATCHER_DIR}/${name}`)
  })

/** Every regular file under `root` (not `.git`, no links), by path relative to it with `/` separators. */
const workingTree = (root: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const all = yield* fs.readDirectory(root, { recursive: true })
    return all.map((p) => p.split(path.sep).join("/")).filter((p) => p !== ".git" && !p.startsWith(".git/")).sort()
  })

/** What a file holds, or nothing when it is a link, a directory, unreadable or too large (scanBlob). */
const scanFile = (root: string, relative: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const full = path.join(root, relative)
    // readLink succeeds on a link only: a link's text is another path, never a manifest.
    if (Either.isRight(yield* Effect.either(fs.readLink(full)))) return EMPTY_SCAN
    const info = yield* fs.stat(full)
    if (info.type !== "File") return EMPTY_SCAN
    const size = Number(info.size)
    const text = size > 0 ? yield* fs.readFileString(full) : ""
    return scanBlob(relative, { kind: "text", size, text })
  }).pipe(Effect.orElseSucceed((): FileScan => EMPTY_SCAN))

const lineOf = (target: DeclaredTarget, how: "declared" | "discovered") =>
  `${target.source.file}:${target.source.line}  ${target.filePath}  ${target.field}  ${target.chart === undefined ? target.image : chartLabel(target.chart, target.provider)}  ${how}`

/**
 * One line per target of the watcher files (which validation has found valid), declared first,
 * then the registries no provider of the configs serves and the charts no chart repository of
 * them matches. The configs give the providers and chart repositories.
 */
export const listTargets = (configs: ReadonlyArray<string>, watcherFiles: ReadonlyArray<string>, root = ".") =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const loaded = configs.length === 0 ? [] : yield* loadPipelines(configs).pipe(Effect.orElseSucceed(() => []))
    const providers = loaded.flatMap((pipeline) => pipeline.providers)
    const chartRepositories = loaded.flatMap((pipeline) => pipeline.chartRepositories)
    const files: Array<WatcherFile> = []
    for (const file of watcherFiles) {
      const decoded = decodeWatcherFile(file, yield* fs.readFileString(path.resolve(root, file)).pipe(Effect.orElseSucceed(() => "")))
      if (Either.isRight(decoded)) files.push(decoded.right)
    }
    const rules = compileRules(files)
    const found = new Map<string, FileScan>()
    if (rules.length > 0) {
      for (const relative of yield* workingTree(root)) {
        if (rules.some((rule) => rule.path(relative))) found.set(relative, yield* scanFile(root, relative))
      }
    }
    const discovery = discoveredTargets(files, rules, found, providers, chartRepositories)
    return {
      targets: [...files.flatMap((file) => file.targets.map((t) => lineOf(t, "declared"))), ...discovery.discovered.map((t) => lineOf(t, "discovered"))],
      notes: discovery.notes
    }
  })
