import { Either } from "effect"
import type { Pipeline, RepositoryConfig, WatcherFile } from "../config/model.ts"
import { ConfigFailure } from "../domain/failures.ts"
import { resolveTarget } from "../domain/Target.ts"
import { compileTarget } from "./plan.ts"
import { type Decision, failed } from "./decide.ts"
import type { Prepared } from "./evidence.ts"

/**
 * The preparation of targets: everything that can be refused before a registry is called. A
 * refused target fails alone, naming its watcher file and line like config errors elsewhere. Here a
 * target without a policy of its own or its file's takes the pipeline's default: watcher files are
 * decoded, and cached, without knowing which pipeline runs them.
 */
export const prepareTargets = (
  pipeline: Pipeline,
  repo: RepositoryConfig,
  files: ReadonlyArray<WatcherFile>
): { readonly prepared: ReadonlyArray<Prepared>; readonly refused: ReadonlyArray<Decision> } => {
  const prepared: Array<Prepared> = []
  const refused: Array<Decision> = []
  for (const file of files) {
    for (const declared of file.targets) {
      const target = resolveTarget(declared, pipeline.defaultPolicy)
      const origin = { pipeline, repo, watcherFile: file.path, target }
      const provider = pipeline.providers.find((p) => p.name === target.provider)
      const compiled = compileTarget(target)
      const problem =
        provider === undefined ? `unknown provider ${JSON.stringify(target.provider)}` : Either.isLeft(compiled) ? compiled.left : undefined
      if (provider !== undefined && Either.isRight(compiled)) prepared.push({ ...compiled.right, ...origin, provider })
      else {
        const detail = `${target.source.file}:${target.source.line}: ${problem ?? ""}`
        refused.push(failed(origin, new ConfigFailure({ detail })))
      }
    }
  }
  return { prepared, refused }
}
