import { Effect } from "effect"
import type { FailWith, GitError } from "./GitError.ts"
import type { PushResult } from "./repoTypes.ts"
import { isRaceRejection, kindOfGitOutput, gitOutputLines } from "./gitOutput.ts"
import { type networkBound, REMOTE } from "./remote.ts"
import { scrub } from "./remoteCredentials.ts"

/** What a push needs of a system-git checkout. */
export interface PushGit {
  readonly dir: string
  /** The remote as it may be printed. */
  readonly remote: string
  readonly secrets: ReadonlyArray<string>
  readonly fail: FailWith
  /** Runs git and returns its output whatever the exit code. */
  readonly exec: (
    operation: "push",
    args: ReadonlyArray<string>
  ) => Effect.Effect<{ readonly stdout: string; readonly stderr: string; readonly exitCode: number }, GitError>
}

/**
 * Pushes `source` (a local ref or a commit) to `target` (a full ref name) on the remote, never
 * forced: a non-fast-forward, or a ref another push moved first, is `Rejected`.
 */
export const pushRefspec = (
  git: PushGit,
  overNetwork: ReturnType<typeof networkBound>,
  source: string,
  target: string
): Effect.Effect<PushResult, GitError> =>
  Effect.gen(function*() {
    const { remote, secrets } = git
    const out = yield* overNetwork("push", git.exec("push", [`--git-dir=${git.dir}`, "push", "--porcelain", REMOTE, `${source}:${target}`]))
    if (out.exitCode === 0) return { _tag: "Pushed" } satisfies PushResult
    const report = `${out.stdout}\n${out.stderr}`
    const refLine = out.stdout.split("\n").find((line) => line.startsWith("!")) ?? ""
    // A ref the server could not move because another push moved it first ("cannot lock ref ...
    // but expected ...", said on stderr) is a race like a non-fast-forward: fetch and try again.
    if (refLine.includes("[rejected]") || isRaceRejection(refLine) || (refLine !== "" && isRaceRejection(out.stderr))) {
      const reason = /\(([^)]*)\)\s*$/.exec(refLine)?.[1] ?? "rejected"
      return { _tag: "Rejected", reason: scrub(reason, secrets) } satisfies PushResult
    }
    return yield* git.fail("push", kindOfGitOutput(report), `git push to ${remote} failed: ${gitOutputLines(report)}`)
  })
