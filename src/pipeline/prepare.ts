import { Either } from "effect"
import type { Pipeline, RepositoryConfig, WatcherFile } from "../config/model.ts"
import { ConfigFailure } from "../domain/failures.ts"
import type { ProviderConfig } from "../domain/ProviderConfig.ts"
import { resolveTarget, type Target } from "../domain/Target.ts"
import { resolveChartSource } from "./chartSources.ts"
import { compileTarget } from "./plan.ts"
import { type Decision, failed } from "./decide.ts"
import type { Prepared } from "./evidence.ts"

/** A target with the provider it names: a declared one, or for a chart target its chart repository's or registry's. */
const withProvider = (
  pipeline: Pipeline,
  target: Target
): Either.Either<{ readonly target: Target; readonly provider: ProviderConfig }, { readonly target: Target; readonly problem: string }> => {
  const { chart } = target
  if (chart !== undefined) return Either.mapLeft(resolveChartSource({ ...target, chart }, pipeline), (problem) => ({ target, problem }))
  const provider = pipeline.providers.find((p) => p.name === target.provider)
  return provider === undefined ? Either.left({ target, problem: `unknown provider ${JSON.stringify(target.provider)}` }) : Either.right({ target, provider })
}

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
      const sourced = withProvider(pipeline, resolveTarget(declared, pipeline.defaultPolicy))
      const target = Either.isRight(sourced) ? sourced.right.target : sourced.left.target
      const origin = { pipeline, repo, watcherFile: file.path, target }
      const compiled = compileTarget(target)
      const problem = Either.isLeft(sourced) ? sourced.left.problem : Either.isLeft(compiled) ? compiled.left : undefined
      if (Either.isRight(sourced) && Either.isRight(compiled)) prepared.push({ ...compiled.right, ...origin, provider: sourced.right.provider })
      else {
        const detail = `${target.source.file}:${target.source.line}: ${problem ?? ""}`
        refused.push(failed(origin, new ConfigFailure({ detail })))
      }
    }
  }
  return { prepared, refused }
}
