/** `runner validate`: static checks of config and watcher files, with no registry and no repository. */
import { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import { loadPipelines } from "./config/load.ts"
import type { ChartRegistry, ChartRepository } from "./domain/ChartSource.ts"
import type { ProviderConfig } from "./domain/ProviderConfig.ts"
import { resolveTarget, type Target } from "./domain/Target.ts"
import type { GateConfig, Pipeline } from "./config/model.ts"
import { decodeWatcherFile } from "./config/WatcherFile.ts"
import { checkGitFiles, checkProviderCredentials } from "./credentials/check.ts"
import { notServedMessage, serves } from "./credentials/servedHosts.ts"
import { parseImageName } from "./domain/ImageRef.ts"
import { checkGateFiles } from "./gates/check.ts"
import { gatesFor, unpinnableProblem } from "./gates/match.ts"
import { checkKnownHostsFile } from "./git/hostKeys.ts"
import { checkSigningKey } from "./git/signing.ts"
import { resolveChartSource } from "./pipeline/chartSources.ts"
import { compileTarget } from "./pipeline/plan.ts"
import { compileSelector } from "./policy/select.ts"
import { fileProblem } from "./files.ts"

export interface Findings {
  readonly errors: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
}

/**
 * A pipeline's default policy, checked once where it is written rather than on every target it would
 * reach; and what its config holds that the runner skips.
 */
const defaultPolicyFindings = (pipeline: Pipeline): Findings => {
  const policy = pipeline.defaultPolicy
  const compiled = policy === undefined ? undefined : compileSelector({ policy, excludeTags: [], allowDowngrade: false })
  return {
    errors: compiled === undefined || Either.isRight(compiled) ? [] : [`${pipeline.file}: spec.imageWatcher.defaultPolicy: ${compiled.left}`],
    warnings: pipeline.warnings ?? []
  }
}

const configFindings = (pipelines: ReadonlyArray<Pipeline>) =>
  Effect.gen(function* () {
    const found: Array<Findings> = pipelines.map(defaultPolicyFindings)
    for (const provider of pipelines.flatMap((pipeline) => pipeline.providers)) found.push(yield* checkProviderCredentials(provider))
    for (const pipeline of pipelines) {
      found.push(yield* checkGitFiles(pipeline), yield* checkKnownHostsFile(pipeline), yield* checkGateFiles(pipeline), yield* checkSigningKey(pipeline))
    }
    return found
  })

/** What the configs declare that watcher files are checked against; undefined without a config. */
interface Declared {
  readonly providers: ReadonlyArray<ProviderConfig>
  readonly chartRepositories: ReadonlyArray<ChartRepository>
  readonly chartRegistries: ReadonlyArray<ChartRegistry>
  readonly gates: ReadonlyArray<GateConfig>
}

/** A chart target with its chart's image name, as a pass gives it; or why no pass can read its versions. */
const withChartImage = (target: Target, declared: Declared | undefined): Either.Either<Target, string> => {
  const { chart } = target
  if (chart === undefined || declared === undefined) return Either.right(target)
  return Either.map(resolveChartSource({ ...target, chart }, declared), (resolved) => resolved.target)
}

const unknownProvider = (name: string, providers: ReadonlyArray<ProviderConfig>) => {
  const known = [...new Set(providers.map((p) => p.name))].join(", ")
  return `provider ${JSON.stringify(name)} is not declared in the config (known: ${known || "none"})`
}

/**
 * What is wrong with a target's provider, with the configs at hand: none of them declares it, or
 * none of that name serves the image's host. Every pass would fail the target.
 */
const providerFindings = (target: Target, providers: ReadonlyArray<ProviderConfig>): ReadonlyArray<string> => {
  const named = providers.filter((provider) => provider.name === target.provider)
  if (named.length === 0) return [unknownProvider(target.provider, providers)]
  const image = parseImageName(target.image)
  if (Either.isLeft(image) || named.some((provider) => serves(provider, image.right.registry))) return []
  return named.map((provider) => notServedMessage(provider, image.right.written))
}

/**
 * A watcher file's problems. With the configs at hand (`declared`), so are a target whose provider
 * cannot serve it and a field of the tag alone under a gate that pins the verified digest: every
 * pass would fail them.
 */
const watcherFindings = (file: string, declared: Declared | undefined) =>
  Effect.gen(function* () {
    const text = yield* Effect.either((yield* FileSystem.FileSystem).readFileString(file))
    if (Either.isLeft(text)) return [`${file}: cannot read: ${fileProblem(text.left)}`]
    const decoded = decodeWatcherFile(file, text.right)
    if (Either.isLeft(decoded)) return decoded.left.map((e) => e.display)
    // A rule's provider is looked up by name like a target's; its images are known only once found.
    const rules = (decoded.right.discover ?? []).flatMap((rule) =>
      declared === undefined || rule.provider === undefined || declared.providers.some((p) => p.name === rule.provider)
        ? []
        : [`${rule.source.file}:${rule.source.line}: ${unknownProvider(rule.provider, declared.providers)}`]
    )
    // Which pipeline runs the file is not known here: its default is checked with the config.
    return rules.concat(decoded.right.targets.map((declared) => resolveTarget(declared, undefined)).flatMap((resolved) => {
      const at = `${resolved.source.file}:${resolved.source.line}`
      const sourced = withChartImage(resolved, declared)
      if (Either.isLeft(sourced)) return [`${at}: ${sourced.left}`]
      const target = sourced.right
      const compiled = compileTarget(target)
      const problems = Either.isLeft(compiled) ? [compiled.left] : []
      if (declared !== undefined && target.chart === undefined) problems.push(...providerFindings(target, declared.providers))
      const unpinnable =
        declared === undefined || Either.isLeft(compiled) ? undefined : unpinnableProblem(gatesFor(declared.gates, target, compiled.right.image), target)
      if (unpinnable !== undefined) problems.push(unpinnable)
      return problems.map((problem) => `${at}: ${problem}`)
    }))
  })

/**
 * Errors (what no pass can work with) and warnings (files missing here, which validation often
 * runs without: secrets are mounted only where the runner runs).
 */
export const validateFiles = (configs: ReadonlyArray<string>, watcherFiles: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const errors: Array<string> = []
    const warnings: Array<string> = []
    let declared: Declared | undefined
    if (configs.length > 0) {
      const loaded = yield* Effect.either(loadPipelines(configs))
      if (Either.isLeft(loaded)) errors.push(...loaded.left.errors.map((e) => e.display))
      else {
        declared = {
          providers: loaded.right.flatMap((pipeline) => pipeline.providers),
          chartRepositories: loaded.right.flatMap((pipeline) => pipeline.chartRepositories),
          chartRegistries: loaded.right.flatMap((pipeline) => pipeline.chartRegistries),
          gates: loaded.right.flatMap((pipeline) => pipeline.gates)
        }
        for (const found of yield* configFindings(loaded.right)) {
          errors.push(...found.errors)
          warnings.push(...found.warnings)
        }
      }
    }
    for (const file of watcherFiles) errors.push(...(yield* watcherFindings(file, declared)))
    return { errors, warnings } satisfies Findings
  })
