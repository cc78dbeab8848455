import { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import { fileCredentialsOf, isRegistryProvider, type ProviderConfig } from "../domain/ProviderConfig.ts"
import type { Pipeline } from "../config/model.ts"
import { parseCredentialsFile } from "./aws.ts"
import { parseDockerConfig } from "./files.ts"
import { checkServiceAccountKey } from "./gcp.ts"
import { fileProblem, looseModeWarning } from "../files.ts"

/** The files a provider reads credentials or certificates from, by config key. */
export const credentialFiles = (provider: ProviderConfig): ReadonlyArray<readonly [string, string]> => {
  const login = fileCredentialsOf(provider)
  const files = {
    passwordFile: login.passwordFile,
    serviceAccountFile: provider.type === "GCR" ? provider.serviceAccountFile : undefined,
    credentialsFile: provider.type === "ECR" ? provider.credentialsFile : undefined,
    dockerConfigFile: login.dockerConfigFile,
    caFile: isRegistryProvider(provider) ? provider.caFile : undefined
  }
  return Object.entries(files).flatMap(([key, file]) => (file === undefined ? [] : [[key, file] as const]))
}

/**
 * What `runner validate` can say about a provider's credentials without calling anyone. Files that
 * are present but broken, and settings that only work together, are errors; a file missing here is
 * only a warning, since validation often runs where the secrets are not mounted. Messages start with `file:line`.
 */
export const checkProviderCredentials = (
  provider: ProviderConfig,
): Effect.Effect<{ readonly errors: ReadonlyArray<string>; readonly warnings: ReadonlyArray<string> }, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const at = `${provider.source.file}:${provider.source.line}: provider ${provider.name}`
    const errors: Array<string> = []
    const warnings: Array<string> = []
    const login = fileCredentialsOf(provider)
    if ((login.username === undefined) !== (login.passwordFile === undefined)) {
      errors.push(`${at}: username and passwordFile go together`)
    }
    for (const [key, file] of credentialFiles(provider)) {
      const text = yield* Effect.either(fs.readFileString(file))
      if (Either.isLeft(text)) {
        warnings.push(`${at}: cannot read ${key} ${file}: ${fileProblem(text.left)}`)
        continue
      }
      const loose = yield* looseModeWarning(fs, file)
      if (loose !== undefined) warnings.push(`${at}: ${key} ${loose}`)
      // Only the shape is reported: these files hold secrets.
      if (key === "dockerConfigFile" && Either.isLeft(parseDockerConfig(text.right))) {
        errors.push(`${at}: ${key} ${file} is not a Docker config.json or .dockerconfigjson`)
      }
      if (key === "serviceAccountFile" && Either.isLeft(checkServiceAccountKey(text.right))) {
        errors.push(`${at}: ${key} ${file} is not a service account key (JSON with client_email)`)
      }
      const profile = (provider.type === "ECR" ? provider.profile : undefined) ?? "default"
      if (key === "credentialsFile" && Either.isLeft(parseCredentialsFile(text.right, profile))) {
        errors.push(`${at}: ${key} ${file} has no keys for profile ${profile}`)
      }
    }
    return { errors, warnings }
  })

/**
 * `spec.git`'s password and ssh key files, and each `pullRequest`'s token file: missing is a
 * warning, as for providers. Only whether they can be read is checked; their content is git's,
 * ssh's and the code host's to judge.
 */
export const checkGitFiles = (
  pipeline: Pipeline
): Effect.Effect<{ readonly errors: ReadonlyArray<string>; readonly warnings: ReadonlyArray<string> }, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const warnings: Array<string> = []
    for (const key of ["passwordFile", "sshKeyFile"] as const) {
      const file = pipeline.git[key]
      if (file === undefined) continue
      const read = yield* Effect.either(fs.access(file, { readable: true }))
      const loose = Either.isLeft(read) ? undefined : yield* looseModeWarning(fs, file)
      if (Either.isLeft(read)) warnings.push(`${pipeline.file}: cannot read spec.git.${key} ${file}: ${fileProblem(read.left)}`)
      else if (loose !== undefined) warnings.push(`${pipeline.file}: spec.git.${key} ${loose}`)
    }
    for (const repo of pipeline.watchedRepos) {
      const file = repo.pullRequest?.tokenFile
      if (file === undefined) continue
      const read = yield* Effect.either(fs.access(file, { readable: true }))
      const loose = Either.isLeft(read) ? undefined : yield* looseModeWarning(fs, file)
      if (Either.isLeft(read)) warnings.push(`${pipeline.file}: cannot read the pullRequest tokenFile ${file} of ${repo.repoId}: ${fileProblem(read.left)}`)
      else if (loose !== undefined) warnings.push(`${pipeline.file}: the pullRequest tokenFile of ${repo.repoId}: ${loose}`)
    }
    return { errors: [], warnings }
  })
