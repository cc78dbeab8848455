import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Array as Arr, Data, Effect, Either } from "effect"
import { ConfigError } from "./ConfigError.ts"
import type { Pipeline } from "./model.ts"
import { decodePipedConfigs } from "./PipedConfig.ts"

/** Every problem found in the configuration, so that one run reports them all. */
export class ConfigErrors extends Data.TaggedError("ConfigErrors")<{ readonly errors: ReadonlyArray<ConfigError> }> {
  override get message(): string {
    return this.errors.map((error) => error.display).join("\n")
  }
}

const unreadable = (file: string, error: PlatformError): ConfigError => {
  const reason = error._tag === "SystemError" && error.reason === "NotFound"
    ? "no such file or directory"
    : error._tag === "SystemError" && error.reason === "PermissionDenied"
    ? "permission denied"
    : `cannot read: ${error.message}`
  return new ConfigError({ file, line: undefined, path: "", reason })
}

const isYamlFile = (name: string): boolean => /\.ya?ml$/i.test(name)

/** The files a path stands for: itself, or a directory's *.yaml/*.yml files in name order. */
const filesOf = Effect.fn("config.filesOf")(function*(fs: FileSystem.FileSystem, path: string) {
  const info = yield* fs.stat(path)
  if (info.type !== "Directory") return [path]
  const names = yield* fs.readDirectory(path)
  const dir = path.replace(/[/\\]+$/, "")
  return names.filter(isYamlFile).sort().map((name) => `${dir}/${name}`)
})

type FileResult = Either.Either<ReadonlyArray<Pipeline>, ReadonlyArray<ConfigError>>

const loadFile = Effect.fn("config.loadFile")(function*(fs: FileSystem.FileSystem, file: string) {
  return yield* fs.readFileString(file).pipe(
    Effect.map((text): FileResult => decodePipedConfigs(file, text)),
    Effect.catchAll((error) => Effect.succeed<FileResult>(Either.left([unreadable(file, error)])))
  )
})

/** Reads each path (a file, or a directory: its *.yaml/*.yml files, not recursive) and decodes its pipelines. */
export const loadPipelines: (
  paths: ReadonlyArray<string>
) => Effect.Effect<ReadonlyArray<Pipeline>, ConfigErrors, FileSystem.FileSystem> = Effect.fn("config.loadPipelines")(function*(
  paths: ReadonlyArray<string>
) {
  const fs = yield* FileSystem.FileSystem
  const results: Array<FileResult> = []
  for (const path of paths) {
    const files = yield* filesOf(fs, path).pipe(Effect.either)
    if (Either.isLeft(files)) {
      results.push(Either.left([unreadable(path, files.left)]))
      continue
    }
    for (const file of files.right) results.push(yield* loadFile(fs, file))
  }
  const [failed, loaded] = Arr.separate(results)
  const errors = failed.flat()
  const pipelines = loaded.flat()
  if (errors.length > 0) return yield* new ConfigErrors({ errors })
  if (pipelines.length === 0) {
    return yield* new ConfigErrors({
      errors: [new ConfigError({ file: paths.join(", "), line: undefined, path: "", reason: "no `kind: Piped` document found" })]
    })
  }
  return pipelines
})
