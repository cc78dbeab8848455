/** Piped's `spec.repositories` and the image watcher's `gitRepos` entries that name them. */
import { Either, ParseResult, Schema } from "effect"
import type { Issue, KeyPath } from "./ConfigError.ts"
import { oneOf, opt } from "./ConfigError.ts"
import { branchNameProblem } from "../domain/refName.ts"
import { PullRequestSection, toPullRequest } from "./pullRequest.ts"
import { MessageTemplate } from "./templates.ts"
import type { GitConfig, RepositoryConfig, WatchedRepo } from "./model.ts"

const Text = Schema.String
const Name = Schema.NonEmptyString

/**
 * PipeCD documents `repoID`; Piped reads keys case-insensitively, so both spellings are taken and
 * become `repoId` before the section is decoded. Both at once would leave the choice to chance.
 */
const AcceptRepoID = Schema.transformOrFail(Schema.Unknown, Schema.Unknown, {
  strict: true,
  decode: (input, _, ast) => {
    if (typeof input !== "object" || input === null || Array.isArray(input) || !("repoID" in input)) return ParseResult.succeed(input)
    const { repoID, ...rest } = input
    return "repoId" in rest
      ? ParseResult.fail(new ParseResult.Pointer("repoID", input, new ParseResult.Type(ast, repoID, "repoId and repoID are the same key; give one of them")))
      : ParseResult.succeed({ ...rest, repoId: repoID })
  },
  encode: ParseResult.succeed
})

const withRepoID = <S extends Schema.Schema.AnyNoContext>(section: S) => Schema.compose(AcceptRepoID, section, { strict: false })

export const RepositorySection = withRepoID(Schema.Struct({ repoId: Name, remote: Name, branch: opt(Name) }))

export const GitRepoSection = withRepoID(Schema.Struct({
  repoId: Name,
  commitMessage: opt(MessageTemplate),
  group: opt(oneOf("target", "file", "pass")),
  pushBranch: opt(Name.pipe(Schema.filter((name) => branchNameProblem(name)))),
  includes: opt(Schema.Array(Text)),
  excludes: opt(Schema.Array(Text)),
  suspend: opt(Schema.Boolean),
  pullRequest: opt(PullRequestSection)
}))

const stripPipeDir = (name: string): string => name.replace(/^(\.\/)?\.pipe\//, "")

/** The `gitRepos` entries, each checked against the repository it names. */
export const toWatchedRepos = (
  gitRepos: ReadonlyArray<typeof GitRepoSection.Type>,
  gitRepoPath: (index: number) => KeyPath,
  repositories: ReadonlyArray<RepositoryConfig>,
  git: GitConfig
): { readonly watchedRepos: ReadonlyArray<WatchedRepo>; readonly issues: ReadonlyArray<Issue>; readonly unknown: ReadonlyArray<Issue> } => {
  const issues: Array<Issue> = []
  // Piped ran the rest when an entry named no repository: the entry is skipped with a warning.
  const unknown: Array<Issue> = []
  const watchedRepos = gitRepos.flatMap((repo, index): Array<WatchedRepo> => {
    const at = gitRepoPath(index)
    const repository = repositories.find((r) => r.repoId === repo.repoId)
    if (repository === undefined) {
      unknown.push({ path: [...at, "repoId"], message: `no repository "${repo.repoId}" in spec.repositories; this entry is skipped` })
      return []
    }
    if (repo.pushBranch !== undefined && repo.pushBranch === repository.branch) {
      issues.push({ path: [...at, "pushBranch"], message: `pushBranch is the repository's branch "${repository.branch}"; leave it out to push there` })
    }
    if (repo.pullRequest !== undefined && repo.pushBranch !== undefined) {
      issues.push({
        path: [...at, "pullRequest"],
        message: "pullRequest and pushBranch are exclusive: keep pullRequest to open a request per change set, or pushBranch to push every change to one branch"
      })
    }
    const pullRequest = repo.pullRequest === undefined ? undefined : toPullRequest(repo.pullRequest, repository, git, [...at, "pullRequest"])
    if (pullRequest !== undefined && Either.isLeft(pullRequest)) issues.push(...pullRequest.left)
    return [{
      repoId: repo.repoId,
      // The shipped config wrote commitMessage: "" for "use the default message".
      ...(repo.commitMessage === undefined || repo.commitMessage === "" ? {} : { commitMessage: repo.commitMessage }),
      ...(repo.group === undefined ? {} : { group: repo.group }),
      ...(repo.pushBranch === undefined ? {} : { pushBranch: repo.pushBranch }),
      includes: (repo.includes ?? []).map(stripPipeDir),
      excludes: (repo.excludes ?? []).map(stripPipeDir),
      ...(repo.suspend === true ? { suspend: true } : {}),
      ...(pullRequest !== undefined && Either.isRight(pullRequest) ? { pullRequest: pullRequest.right } : {})
    }]
  })
  return { watchedRepos, issues, unknown }
}
