import { Either, ParseResult, Schema } from "effect"
import { type AddressProblem, parseRegistryAddress } from "../domain/address.ts"
import type { Issue, KeyPath } from "./ConfigError.ts"
import { oneOf, opt } from "./ConfigError.ts"
import type { ForgeProvider, GitConfig, PullRequestSettings, RepositoryConfig } from "./model.ts"
import { BranchTemplate, MessageTemplate, TextTemplate } from "./templates.ts"

/**
 * A `gitRepos` entry's `pullRequest`: changes go to branches of their own and a pull (merge)
 * request is opened for each. Read from the Piped config only: the token it names is the
 * operator's, and where it is sent is the operator's to say.
 */

/** Never the value itself: it may hold a token. */
const apiURLProblems: Record<AddressProblem, string> = {
  NotUrl: "expected an http:// or https:// URL",
  NotHttp: "expected an http:// or https:// URL",
  Credentials: "credentials are not allowed in apiURL; the token belongs in tokenFile",
  QueryOrFragment: "apiURL must not have a query or fragment"
}

const ApiURL = Schema.transformOrFail(Schema.Unknown, Schema.String, {
  strict: true,
  decode: (input, _, ast) =>
    typeof input !== "string"
      ? ParseResult.fail(new ParseResult.Type(ast, input, apiURLProblems.NotUrl))
      : Either.match(parseRegistryAddress(input), {
        onLeft: (problem) => ParseResult.fail(new ParseResult.Type(ast, input, apiURLProblems[problem])),
        onRight: ParseResult.succeed
      }),
  encode: ParseResult.succeed
})

export const PullRequestSection = Schema.Struct({
  provider: oneOf("github", "gitlab", "gitea", "forgejo"),
  apiURL: opt(ApiURL),
  repository: opt(Schema.NonEmptyString),
  tokenFile: Schema.NonEmptyString,
  labels: opt(Schema.Array(Schema.NonEmptyString)),
  autoMerge: opt(Schema.Boolean),
  branchTemplate: opt(BranchTemplate),
  title: opt(MessageTemplate),
  body: opt(TextTemplate)
})
type Section = typeof PullRequestSection.Type

/** Where a remote lives: its host name (an https remote's with its port) and its path, when it names a host. */
export interface RemoteLocation {
  readonly host: string
  /** The repository's path on the host, without leading `/` and trailing `.git`; "" when none. */
  readonly path: string
  readonly ssh: boolean
}

const repositoryPath = (path: string): string => path.replace(/^\/+/, "").replace(/\/+$/, "").replace(/\.git$/, "")

/** `https://[user:token@]host[:port]/org/repo.git`, `ssh://git@host[:port]/org/repo.git`, `git@host:org/repo.git`; file URLs and local paths name no host. */
export const remoteLocation = (remote: string): RemoteLocation | undefined => {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(remote)?.[1]?.toLowerCase()
  if (scheme !== undefined) {
    if (!URL.canParse(remote) || scheme === "file") return undefined
    const url = new URL(remote)
    if (url.hostname === "") return undefined
    const ssh = scheme !== "http" && scheme !== "https"
    // Credentials in the remote stay there: only the host is read. An ssh port is not the API's.
    return { host: ssh ? url.hostname : url.host, path: repositoryPath(decodeURIComponent(url.pathname)), ssh }
  }
  // git's scp-like form: a colon before any slash.
  const scp = /^(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+):(.*)$/.exec(remote)
  if (scp === null) return undefined
  return { host: (scp[1] ?? "").replace(/^\[|\]$/g, ""), path: repositoryPath(scp[2] ?? ""), ssh: true }
}

/** The API of a provider on a host, as each serves it by default. */
export const defaultApiURL = (provider: ForgeProvider, host: string): string => {
  switch (provider) {
    case "github":
      return host.toLowerCase() === "github.com" ? "https://api.github.com" : `https://${host}/api/v3`
    case "gitlab":
      return `https://${host}/api/v4`
    case "gitea":
    case "forgejo":
      return `https://${host}/api/v1`
  }
}

/** GitHub, Gitea and Forgejo name a repository `owner/name`; GitLab a project `group/sub/project`. */
const repositoryProblem = (provider: ForgeProvider, repository: string): string | undefined => {
  const parts = repository.split("/")
  if (parts.some((part) => part.trim() === "")) return `repository ${JSON.stringify(repository)} has an empty part`
  if (provider === "gitlab") return parts.length >= 2 ? undefined : `repository ${JSON.stringify(repository)} is not group/project`
  return parts.length === 2 ? undefined : `repository ${JSON.stringify(repository)} is not owner/name`
}

/** The host a remote's host stands for: Piped's `host` alias is `hostName` on the network. */
const realHost = (git: GitConfig, location: RemoteLocation): string =>
  location.ssh && git.host !== undefined && git.hostName !== undefined && location.host === git.host ? git.hostName : location.host

/**
 * The settings with every default resolved from the repository's remote; the issues found
 * otherwise, at `path` (the `pullRequest` key).
 */
export const toPullRequest = (
  section: Section,
  repository: RepositoryConfig,
  git: GitConfig,
  path: KeyPath
): Either.Either<PullRequestSettings, ReadonlyArray<Issue>> => {
  const location = remoteLocation(repository.remote)
  const host = location === undefined ? undefined : realHost(git, location)
  const apiURL = section.apiURL ?? (host === undefined ? undefined : defaultApiURL(section.provider, host))
  const repo = section.repository ?? (location === undefined || location.path === "" ? undefined : location.path)
  if (apiURL === undefined || repo === undefined) {
    const missing = [apiURL === undefined ? "apiURL" : undefined, repo === undefined ? "repository" : undefined].filter((key) => key !== undefined)
    const why = location === undefined ? "names no host" : "names no repository path"
    return Either.left([{ path, message: `the remote of repository "${repository.repoId}" ${why}: give ${missing.join(" and ")}` }])
  }
  const problem = repositoryProblem(section.provider, repo)
  if (problem !== undefined) return Either.left([{ path: [...path, "repository"], message: problem }])
  return Either.right({
    provider: section.provider,
    apiURL,
    repository: repo,
    tokenFile: section.tokenFile,
    labels: section.labels ?? [],
    autoMerge: section.autoMerge ?? false,
    ...(section.branchTemplate === undefined ? {} : { branchTemplate: section.branchTemplate }),
    ...(section.title === undefined ? {} : { title: section.title }),
    ...(section.body === undefined ? {} : { body: section.body })
  })
}
