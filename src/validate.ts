/** `runner validate`: static checks of config and watcher files, with no registry and no repository. */
import { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import { loadPipelines } from "./config/load.ts"
import type { Pipeline } from "./config/model.ts"
import { decodeWatcherFile } from "./config/WatcherFile.ts"
import { checkGitFiles, checkProviderCredentials } from "./credentials/check.ts"
import { checkGateFiles } from "./gates/check.ts"
import { checkSigningKey } from "./git/signing.ts"
import { compileTarget } from "./pipeline/plan.ts"

export interface Findings {
  readonly errors: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
}

const configFindings = (pipelines: ReadonlyArray<Pipeline>) =>
  Effect.gen(function* () {
    const found: Array<Findings> = []
    for (const provider of pipelines.flatMap((pipeline) => pipeline.providers)) found.push(yield* checkProviderCredentials(provider))
    for (const pipeline of pipelines) {
      found.push(yield* checkGitFiles(pipeline), yield* checkGateFiles(pipeline), yield* checkSigningKey(pipeline))
    }
    return found
  })

/**
 * A watcher file's problems. With the configs at hand (`providers` defined), a target naming a
 * provider none of them declares is one: every pass would fail it.
 */
const watcherFindings = (file: string, providers: ReadonlyArray<string> | undefined) =>
  Effect.gen(function* () {
    const text = yield* Effect.either((yield* FileSystem.FileSystem).readFileString(file))
    if (Either.isLeft(text)) return [`${file}: cannot read: ${text.left.message}`]
    const decoded = decodeWatcherFile(file, text.right)
    if (Either.isLeft(decoded)) return decoded.left.map((e) => e.display)
    return decoded.right.targets.flatMap((target) => {
      const at = `${target.source.file}:${target.source.line}`
      const compiled = compileTarget(target)
      const unknown =
        providers === undefined || providers.includes(target.provider)
          ? []
          : [`${at}: provider ${JSON.stringify(target.provider)} is not declared in the config (known: ${providers.join(", ") || "none"})`]
      return [...(Either.isLeft(compiled) ? [`${at}: ${compiled.left}`] : []), ...unknown]
    })
  })

/**
 * Errors (what no pass can work with) and warnings (files missing here, which validation often
 * runs without: secrets are mounted only where the runner runs).
 */
export const validateFiles = (configs: ReadonlyArray<string>, watcherFiles: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const errors: Array<string> = []
    const warnings: Array<string> = []
    let providers: ReadonlyArray<string> | undefined
    if (configs.length > 0) {
      const loaded = yield* Effect.either(loadPipelines(configs))
      if (Either.isLeft(loaded)) errors.push(...loaded.left.errors.map((e) => e.display))
      else {
        providers = [...new Set(loaded.right.flatMap((pipeline) => pipeline.providers.map((p) => p.name)))]
        for (const found of yield* configFindings(loaded.right)) {
          errors.push(...found.errors)
          warnings.push(...found.warnings)
        }
      }
    }
    for (const file of watcherFiles) errors.push(...(yield* watcherFindings(file, providers)))
    return { errors, warnings } satisfies Findings
  })
