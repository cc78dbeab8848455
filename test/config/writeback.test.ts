/** The write-back keys of a Piped config: pushBranch, signing and ssh trust. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"
import { branchNameProblem } from "../../src/domain/refName.ts"

const config = (git: string, repo: string) => `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  git:
    username: bot
${git}  repositories:
    - repoId: config
      remote: https://example.com/config.git
      branch: main
  imageWatcher:
    gitRepos:
      - repoId: config
${repo}`

describe("write-back keys that decode", () => {
  test("pushBranch, signing and ssh trust", () => {
    const [pipeline] = Either.getOrThrow(
      decodePipedConfigs(
        "piped.yaml",
        config(
          "    signingKeyFile: /etc/piped-secret/signing-key\n    signingFormat: openpgp\n    knownHostsFile: /etc/piped-secret/known_hosts\n",
          "        pushBranch: image-updates\n"
        )
      )
    )
    expect(pipeline?.watchedRepos[0]?.pushBranch).toBe("image-updates")
    expect([pipeline?.git.signingKeyFile, pipeline?.git.signingFormat, pipeline?.git.knownHostsFile]).toEqual([
      "/etc/piped-secret/signing-key",
      "openpgp",
      "/etc/piped-secret/known_hosts"
    ])
  })
})

describe("suspend on a gitRepos entry", () => {
  test.each([
    ["absent", "", undefined],
    ["false", "        suspend: false\n", undefined],
    ["true", "        suspend: true\n", true]
  ])("%s", (_name, repo, suspend) => {
    const [pipeline] = Either.getOrThrow(decodePipedConfigs("piped.yaml", config("", repo)))
    expect(pipeline?.watchedRepos[0]?.suspend).toBe(suspend)
  })
})

describe("write-back errors name the file, line and key", () => {
  test.each([
    ["a pushBranch that is no ref name", "", "        pushBranch: image..updates\n", "spec.imageWatcher.gitRepos[0].pushBranch", "must not hold .."],
    ["a pushBranch equal to branch", "", "        pushBranch: main\n", "spec.imageWatcher.gitRepos[0].pushBranch", "pushBranch is the repository's branch \"main\""],
    ["a signing format without a key", "    signingFormat: ssh\n", "", "spec.git.signingFormat", "needs signingKeyFile"],
    ["an unknown signing format", "    signingKeyFile: /k\n    signingFormat: x509\n", "", "spec.git.signingFormat", "expected one of ssh, openpgp"],
    ["a host alias ssh cannot be given", "    host: my alias\n", "", "spec.git.host", "must be one word"],
    ["a host name with a quote", '    hostName: "git\\"host"\n', "", "spec.git.hostName", "must be one word"]
  ])("%s", (_name, git, repo, path, part) => {
    const result = decodePipedConfigs("conf/piped.yaml", config(git, repo))
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left.map((e) => [e.file, e.path])).toEqual([["conf/piped.yaml", path]])
    expect(result.left[0]?.line).toBeGreaterThan(3)
    expect(result.left[0]?.reason).toContain(part)
  })
})

describe("branch names", () => {
  test.each([
    ["image-updates", undefined],
    ["bots/image-updates", undefined],
    ["release-1.2", undefined],
    ["", "is not a branch name"],
    ["@", "is not a branch name"],
    ["-x", "must not start with -"],
    ["a b", "must not hold spaces"],
    ["a~1", "must not hold spaces"],
    ["a:b", "must not hold spaces"],
    ["a..b", "must not hold .."],
    ["a@{1}", "must not hold .. or @{"],
    ["/a", "must not start or end with /"],
    ["a/", "must not start or end with /"],
    ["a//b", "must not start or end with /"],
    ["a.", "must not end with ."],
    ["a/.b", "no part may start with ."],
    ["a.lock", "no part may start with . or end with .lock"]
  ])("%j", (name, problem) => {
    const found = branchNameProblem(name)
    if (problem === undefined) expect(found).toBeUndefined()
    else expect(found).toContain(problem)
  })
})
