import { FileSystem, Path } from "@effect/platform"
import { createHash } from "node:crypto"
import { Effect, Either, Option, Redacted } from "effect"
import type { Pipeline, RepositoryConfig } from "../config/model.ts"
import { GitFailure } from "../domain/failures.ts"
import { writeFileWhole } from "../files.ts"
import type { RepoSpec } from "./repoTypes.ts"
import { isSshRemote } from "./remote.ts"
import { loadSigner } from "./signing.ts"
import { sshSettings } from "./sshConfig.ts"
import { fileProblem } from "../files.ts"

/** How a pipeline's repositories are reached, as `GitRepo.open` takes it. */
export type GitAccess = Pick<RepoSpec, "password" | "username" | "sshKeyFile" | "ssh" | "signer">

/** Piped's inline ssh key in the data dir, readable by its owner only, under a name taken from its content. */
const writeKey = (secret: Redacted.Redacted<string>, dataDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const key = Redacted.value(secret)
    const dir = path.join(dataDir, "keys")
    const file = path.join(dir, createHash("sha256").update(key).digest("hex").slice(0, 16))
    // Named after its content: one already there is this key, written by an earlier pass.
    if (yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))) return file
    // OpenSSH refuses a key whose last line has no line break.
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 }).pipe(
      Effect.zipRight(writeFileWhole(fs, file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 })),
      Effect.mapError((e) => `cannot write the key of spec.git.sshKeyData: ${fileProblem(e)}`)
    )
    return file
  })

/**
 * The git credentials of a pipeline, once per pass for all its repositories: the password file
 * read then (so rotation needs no restart), and Piped's inline password, each sent for the
 * configured username (as Piped sends it), and Piped's inline ssh key written to the data dir, readable by its owner
 * only, under a name taken from its content; when a repository is reached over ssh, the ssh
 * config and known-hosts file it is reached with (see `sshSettings`). A failure is what each
 * repository fails with.
 */
export const gitAccess = (
  git: Pipeline["git"],
  dataDir: string,
  repositories: ReadonlyArray<Pick<RepositoryConfig, "remote">>
): Effect.Effect<Either.Either<GitAccess, GitFailure>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const fromFile = git.passwordFile === undefined
      ? undefined
      : yield* fs.readFileString(git.passwordFile).pipe(Effect.mapError((e) => `cannot read spec.git.passwordFile ${git.passwordFile}: ${fileProblem(e)}`))
    const password = fromFile === undefined ? Option.fromNullable(git.password) : Option.some(Redacted.make(fromFile.trim()))
    // One user for both sources of the password, as Piped sends it; hosts that check only the token
    // (GitHub, GitLab) take any non-empty name, and the URL's own user still wins.
    const username = Option.some(git.username)
    const sshKeyFile = git.sshKey === undefined ? Option.fromNullable(git.sshKeyFile) : Option.some(yield* writeKey(git.sshKey, dataDir))
    // The signing key is read, and refused when unusable, before any repository is touched.
    const signing = git.signingKeyFile === undefined ? {} : { signer: yield* loadSigner(git.signingKeyFile, git.signingFormat ?? "ssh") }
    if (!repositories.some((repo) => isSshRemote(repo.remote))) return { password, username, sshKeyFile, ...signing }
    return { password, username, sshKeyFile, ssh: yield* sshSettings(git, dataDir, sshKeyFile), ...signing }
  }).pipe(
    Effect.mapError((detail) => new GitFailure({ operation: "credentials", kind: "config", detail })),
    Effect.either
  )

/** Fixed per directory name: one working copy per pipeline, repository, remote and branch. */
export const workDir = (path: Path.Path, dataDir: string, pipeline: Pipeline, repo: RepositoryConfig): string => {
  // Per pipeline too: pipelines run at once, and two passes must never share a clone.
  const hash = createHash("sha256").update(`${pipeline.name}\u0000${repo.remote}\u0000${repo.branch}`).digest("hex").slice(0, 12)
  return path.join(dataDir, "repos", `${repo.repoId.replace(/[^A-Za-z0-9._-]/g, "_")}-${hash}`)
}
