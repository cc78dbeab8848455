import { Command, type CommandExecutor, type FileSystem } from "@effect/platform"
import { Config, Duration, Effect, Layer, Option } from "effect"
import { GitError } from "./GitError.ts"
import { GitRepoTag } from "./GitRepoTag.ts"
import { guardHostKeys } from "./hostKeys.ts"
import { chooseHttpBackend, parseGitVersion } from "./httpBackend.ts"
import { isHttpRemote } from "./remote.ts"
import { stripUserinfo } from "./remoteCredentials.ts"
import type { RepoSpec } from "./repoTypes.ts"
import * as SystemGit from "./SystemGit.ts"

export { GitError } from "./GitError.ts"

export type {
  Author,
  Blob,
  BlobKind,
  Checkout,
  CommitInput,
  FileChange,
  GitRepoService,
  Listed,
  MergeResult,
  OtherBranches,
  PushResult,
  RepoSpec,
  TreeEntry
} from "./repoTypes.ts"

/** `git --version` of the system git, None when there is none that runs. */
const probeGit: Effect.Effect<Option.Option<readonly [number, number]>, never, CommandExecutor.CommandExecutor> =
  Command.string(Command.make("git", "--version")).pipe(
    Effect.timeout(Duration.seconds(10)),
    Effect.map(parseGitVersion),
    Effect.orElseSucceed(() => Option.none())
  )

/** The backend for http(s) remotes, from `RUNNER_GIT_BACKEND` and the system git there is. */
const chosenHttpBackend = Effect.gen(function*() {
  const wanted = yield* Config.option(Config.literal("builtin", "system")("RUNNER_GIT_BACKEND")).pipe(
    Effect.mapError(() => "RUNNER_GIT_BACKEND must be builtin or system")
  )
  // Asked for the built-in client: no need to look for git at all.
  const version = Option.contains(wanted, "builtin") ? Option.none() : yield* probeGit
  const backend = yield* chooseHttpBackend(wanted, version)
  yield* Effect.logDebug(`git backend for http(s) remotes: ${backend}`)
  return backend
})

/** The service (`yield* GitRepo`), the same key as `GitRepoTag`, which the backends' layers provide. */
export class GitRepo extends GitRepoTag {
  /**
   * Needs a `CommandExecutor` (system git) and a `FileSystem` (the clone directory); isomorphic-git
   * itself works on `node:fs`. The backend for http(s) remotes is chosen once, at the first such
   * remote: `RUNNER_GIT_BACKEND=builtin|system`, by default system git when there is a usable one.
   */
  static readonly layer: Layer.Layer<GitRepo, never, CommandExecutor.CommandExecutor | FileSystem.FileSystem> =
    Layer.effect(
      GitRepo,
      Effect.gen(function*() {
        const context = yield* Effect.context<CommandExecutor.CommandExecutor | FileSystem.FileSystem>()
        const httpBackend = yield* Effect.cached(chosenHttpBackend.pipe(Effect.provide(context)))
        const open = Effect.fn("GitRepo.open")(function*(spec: RepoSpec, dir: string) {
          yield* Effect.annotateCurrentSpan({ repoId: spec.repoId, remote: stripUserinfo(spec.remote), dir })
          if (!isHttpRemote(spec.remote)) return yield* guardHostKeys(spec, SystemGit.open(spec, dir))
          const backend = yield* httpBackend.pipe(
            Effect.mapError((detail) => new GitError({ repoId: spec.repoId, operation: "clone", kind: "config", detail }))
          )
          if (backend === "system") return yield* SystemGit.open(spec, dir)
          // isomorphic-git is loaded only by the runners that use it.
          const IsoGit = yield* Effect.promise(() => import("./IsoGit.ts"))
          return yield* IsoGit.open(spec, dir)
        }, Effect.provide(context))
        return GitRepo.of({ open })
      })
    )
}
