/** A gitRepos entry's pullRequest: its defaults resolved from the remote, and the errors at their keys. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import type { PullRequestSettings } from "../../src/config/model.ts"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"
import { decodeWatcherFile } from "../../src/config/WatcherFile.ts"

const PATH = "spec.imageWatcher.gitRepos[0].pullRequest"

/** A config whose one repository has `remote`, watched with `entry` (more keys of the gitRepos entry) and `pullRequest`'s keys. */
const config = (remote: string, pullRequest: string, entry = "", git = "") => `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
${git}  repositories:
    - repoId: config
      remote: ${remote}
      branch: main
  imageWatcher:
    gitRepos:
      - repoId: config
${entry}        pullRequest:
          tokenFile: /etc/piped-secret/token
${pullRequest}`

const settingsOf = (text: string): PullRequestSettings | undefined => {
  const result = decodePipedConfigs("piped.yaml", text)
  if (Either.isLeft(result)) throw new Error(result.left.map((e) => e.display).join("\n"))
  return result.right[0]?.watchedRepos[0]?.pullRequest
}

const errorsOf = (text: string): ReadonlyArray<readonly [string, string]> => {
  const result = decodePipedConfigs("piped.yaml", text)
  if (Either.isRight(result)) throw new Error("expected an error")
  return result.left.map((e) => [e.path, e.reason] as const)
}

describe("pullRequest's apiURL and repository from the remote", () => {
  test.each([
    ["github.com over https", "https://github.com/org/config.git", "github", "https://api.github.com", "org/config"],
    ["github.com with a token in the remote", "https://x-access-token:ghp_Tok3nValue@github.com/org/config.git", "github", "https://api.github.com", "org/config"],
    ["github.com over scp-like ssh", "git@github.com:org/config.git", "github", "https://api.github.com", "org/config"],
    ["GitHub Enterprise Server", "https://ghe.example.com/org/config", "github", "https://ghe.example.com/api/v3", "org/config"],
    ["GitHub Enterprise Server over ssh with a port", "ssh://git@ghe.example.com:2222/org/config.git", "github", "https://ghe.example.com/api/v3", "org/config"],
    ["GitLab, a subgroup", "https://gitlab.com/group/sub/project.git", "gitlab", "https://gitlab.com/api/v4", "group/sub/project"],
    ["a self-hosted GitLab on a port, with user:token", "https://oauth2:glpat-Tok3nValue@gitlab.example.com:8443/group/project.git", "gitlab", "https://gitlab.example.com:8443/api/v4", "group/project"],
    ["a self-hosted GitLab over ssh://", "ssh://git@gitlab.example.com:22/group/project.git", "gitlab", "https://gitlab.example.com/api/v4", "group/project"],
    ["Gitea", "https://gitea.example.com/org/config.git", "gitea", "https://gitea.example.com/api/v1", "org/config"],
    ["Forgejo over scp-like ssh", "git@codeberg.org:org/config.git", "forgejo", "https://codeberg.org/api/v1", "org/config"]
  ])("%s", (_name, remote, provider, apiURL, repository) => {
    const settings = settingsOf(config(remote, `          provider: ${provider}\n`))
    expect(settings).toEqual({ provider, apiURL, repository, tokenFile: "/etc/piped-secret/token", labels: [], autoMerge: false } as PullRequestSettings)
    // Never the remote's credentials.
    expect(JSON.stringify(settings)).not.toContain("Tok3n")
  })

  test("Piped's host alias stands for its hostName", () => {
    const git = "  git:\n    host: github-bot\n    hostName: github.com\n"
    expect(settingsOf(config("git@github-bot:org/config.git", "          provider: github\n", "", git))?.apiURL).toBe("https://api.github.com")
  })

  test("what is given wins, and every key is kept", () => {
    const keys = [
      "          provider: gitlab",
      "          apiURL: https://gitlab.internal/api/v4/",
      "          repository: team/deploy/config",
      "          labels: [image-update, bot]",
      "          autoMerge: true",
      '          branchTemplate: "image-updates/{{image}}-{{tag}}"',
      '          title: "Update {{image}} to {{tag}}"',
      '          body: "Bumped by the runner.\\nTag {{tag}} of {{image}}, in {{file}}."'
    ]
    expect(settingsOf(config("/srv/git/config.git", `${keys.join("\n")}\n`))).toEqual({
      provider: "gitlab",
      apiURL: "https://gitlab.internal/api/v4",
      repository: "team/deploy/config",
      tokenFile: "/etc/piped-secret/token",
      labels: ["image-update", "bot"],
      autoMerge: true,
      branchTemplate: "image-updates/{{image}}-{{tag}}",
      title: "Update {{image}} to {{tag}}",
      body: "Bumped by the runner.\nTag {{tag}} of {{image}}, in {{file}}."
    })
  })
})

describe("pullRequest errors name their key", () => {
  test.each([
    ["a local path as remote, nothing given", "/srv/git/config.git", "          provider: github\n", "", PATH, 'the remote of repository "config" names no host: give apiURL and repository'],
    ["a file URL, only apiURL given", "file:///srv/git/config.git", "          provider: gitea\n          apiURL: https://gitea.test/api/v1\n", "", PATH, "names no host: give repository"],
    ["a remote with no path", "https://github.com/", "          provider: github\n", "", PATH, "names no repository path: give repository"],
    ["an apiURL with credentials", "https://github.com/org/config.git", "          provider: github\n          apiURL: https://me:ghp_x@api.github.com\n", "", `${PATH}.apiURL`, "credentials are not allowed in apiURL; the token belongs in tokenFile"],
    ["an apiURL that is not http(s)", "https://github.com/org/config.git", "          provider: github\n          apiURL: ftp://api.github.com\n", "", `${PATH}.apiURL`, "expected an http:// or https:// URL"],
    ["an apiURL with a query", "https://github.com/org/config.git", "          provider: github\n          apiURL: https://api.github.com/?x=1\n", "", `${PATH}.apiURL`, "must not have a query or fragment"],
    ["an unknown provider", "https://github.com/org/config.git", "          provider: bitbucket\n", "", `${PATH}.provider`, "expected one of github, gitlab, gitea, forgejo"],
    ["a GitHub repository of three parts", "https://github.com/org/config.git", "          provider: github\n          repository: a/b/c\n", "", `${PATH}.repository`, 'repository "a/b/c" is not owner/name'],
    ["a GitLab project without a group", "https://gitlab.com/group/project.git", "          provider: gitlab\n          repository: project\n", "", `${PATH}.repository`, 'repository "project" is not group/project'],
    ["an unknown placeholder in the title", "https://github.com/org/config.git", "          provider: github\n          title: \"{{version}}\"\n", "", `${PATH}.title`, "unknown placeholder {{version}}"],
    ["an unknown placeholder in the body", "https://github.com/org/config.git", "          provider: github\n          body: \"ok\\n{{nope}}\"\n", "", `${PATH}.body`, "unknown placeholder {{nope}}"],
    ["an unknown placeholder in the branch", "https://github.com/org/config.git", "          provider: github\n          branchTemplate: \"up/{{x}}\"\n", "", `${PATH}.branchTemplate`, "unknown placeholder {{x}}"],
    ["a branch template with a space", "https://github.com/org/config.git", "          provider: github\n          branchTemplate: \"image updates/{{tag}}\"\n", "", `${PATH}.branchTemplate`, 'renders branch names such as "image updates/1.1.0", which must not hold spaces'],
    ["a branch template ending in /", "https://github.com/org/config.git", "          provider: github\n          branchTemplate: \"{{tag}}/\"\n", "", `${PATH}.branchTemplate`, "must not start or end with /"],
    ["a branch template with no placeholder", "https://github.com/org/config.git", "          provider: github\n          branchTemplate: image-updates\n", "", `${PATH}.branchTemplate`, "a branch template must use a placeholder"],
    ["a title of two lines", "https://github.com/org/config.git", "          provider: github\n          title: \"a\\nb\"\n", "", `${PATH}.title`, "is one line"],
    ["an unknown key", "https://github.com/org/config.git", "          provider: github\n          token: ghp_x\n", "", `${PATH}.token`, "unknown key"],
    ["pullRequest with pushBranch", "https://github.com/org/config.git", "          provider: github\n", "        pushBranch: image-updates\n", PATH, "pullRequest and pushBranch are exclusive: keep pullRequest"]
  ])("%s", (_name, remote, pullRequest, entry, path, part) => {
    const errors = errorsOf(config(remote, pullRequest, entry))
    expect(errors).toHaveLength(1)
    expect(errors[0]?.[0]).toBe(path)
    expect(errors[0]?.[1]).toContain(part)
  })

  test("no tokenFile", () => {
    const text = config("https://github.com/org/config.git", "          provider: github\n").replace("          tokenFile: /etc/piped-secret/token\n", "")
    expect(errorsOf(text)).toEqual([[`${PATH}.tokenFile`, "required key is missing"]])
  })

  test("an entry naming no repository is skipped with a warning that says so, not the pullRequest's own trouble", () => {
    const text = config("/srv/git/config.git", "          provider: github\n").replace("      - repoId: config\n        pullRequest", "      - repoId: other\n        pullRequest")
    const result = decodePipedConfigs("piped.yaml", text)
    if (Either.isLeft(result)) throw new Error(result.left.map((e) => e.display).join("\n"))
    expect(result.right.map((p) => [p.watchedRepos, p.warnings])).toEqual([
      [[], [expect.stringContaining('spec.imageWatcher.gitRepos[0].repoId: no repository "other" in spec.repositories; this entry is skipped')]]
    ])
  })

  test("an error line points at the pullRequest key", () => {
    const result = decodePipedConfigs("piped.yaml", config("/srv/git/config.git", "          provider: github\n"))
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left[0]?.line).toBe(11)
  })
})

describe("a watcher file cannot set pullRequest", () => {
  test.each([
    ["in spec", "spec:\n  pullRequest: {provider: github, apiURL: https://evil.test, tokenFile: /etc/piped-secret/token}\n  targets: []\n", "spec.pullRequest"],
    [
      "on a target",
      "spec:\n  targets:\n    - {image: gcr.io/org/app, provider: p, filePath: a.yaml, field: image, pullRequest: {provider: github, tokenFile: /t}}\n",
      "spec.targets[0].pullRequest"
    ]
  ])("%s", (_name, body, path) => {
    const result = decodeWatcherFile(".pipe/w.yaml", `apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\n${body}`)
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left.map((e) => e.path)).toEqual([path])
    expect(result.left[0]?.reason).toContain("unknown key")
  })
})
