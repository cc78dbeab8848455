import { describe, expect, test } from "bun:test"
import { Errors } from "isomorphic-git"
import type { GitErrorKind } from "../../src/git/GitError.ts"
import { gitOutputLines, kindOfGitOutput } from "../../src/git/gitOutput.ts"
import { isoKindOf } from "../../src/git/isoFailures.ts"
import { PackTooLarge } from "../../src/git/isoPackLimit.ts"

describe("gitOutputLines: git's output cut to what went wrong, on one line", () => {
  test.each<readonly [string, string, string]>([
    [
      "a clone of a path that is no repository",
      "fatal: '/nonexistent/repo.git' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n",
      "'/nonexistent/repo.git' does not appear to be a git repository"
    ],
    [
      "a push a hook refused (porcelain stdout, then stderr)",
      "To ../r.git\n!\trefs/heads/main:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n\nremote: protected: pushes to main need a review        \nerror: failed to push some refs to '../r.git'\n",
      "refs/heads/main [remote rejected] (pre-receive hook declined); remote: protected: pushes to main need a review"
    ],
    [
      "progress with carriage returns and CRLF endings",
      "remote: Counting objects: 50% (1/2)\rremote: Counting objects: 100% (2/2), done.\r\nfatal: the remote end hung up unexpectedly\r\nfatal: early EOF\r\n",
      "the remote end hung up unexpectedly; early EOF"
    ],
    ["only the generic line", "fatal: Could not read from remote repository.\n", "Could not read from remote repository."],
    ["advice is left out", "hint: Updates were rejected because the tip of your current branch is behind\nerror: some refs failed\n", "some refs failed"],
    ["a line said twice is said once", "fatal: x\nfatal: x\n", "x"],
    ["at most four lines", "a\nb\nc\nd\ne\nf\n", "a; b; c; d; (2 more lines)"],
    ["nothing", "", ""]
  ])("%s", (_name, output, expected) => {
    const cut = gitOutputLines(output)
    expect(cut).toBe(expected)
    expect(cut).not.toMatch(/[\r\n]|\\[rn]/)
  })

  test("ssh's refusal of a host key is left whole, for the host key guard to read and say in one sentence", () => {
    const banner = "@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key for [127.0.0.1]:2222 has changed\nOffending ED25519 key in /data/known_hosts:1\nfatal: Could not read from remote repository.\n"
    expect(gitOutputLines(banner)).toBe(banner.trim())
  })
})

describe("kindOfGitOutput: system git's own words, read where the error is made", () => {
  test.each<readonly [string, string, GitErrorKind]>([
    ["no password to send", "fatal: could not read Username for 'http://127.0.0.1:1': terminal prompts disabled", "auth"],
    ["a password refused", "remote: Invalid username or password.\nfatal: Authentication failed for 'https://git.test/org/repo.git/'", "auth"],
    ["a token without the right", "fatal: unable to access 'https://git.test/org/repo.git/': The requested URL returned error: 403", "auth"],
    ["an ssh key refused", "git@git.test: Permission denied (publickey).\nfatal: Could not read from remote repository.", "auth"],
    ["an ssh host key refused", "Host key verification failed.\nfatal: Could not read from remote repository.", "hostKey"],
    ["no such repository", "remote: Repository not found.\nfatal: repository 'https://git.test/org/none.git/' not found", "notFound"],
    ["no such branch", "fatal: couldn't find remote ref refs/heads/nope", "notFound"],
    ["a hook's refusal", "! refs/heads/main:refs/heads/main [remote rejected] (pre-receive hook declined)", "rejected"],
    ["a server's ERR line", "fatal: remote error: your header was Basic ***", "rejected"],
    ["a push that lost a race", "! refs/heads/main:refs/heads/main [rejected] (fetch first)", "race"],
    ["no such host", "fatal: unable to access 'https://git.test/': Could not resolve host: git.test", "network"],
    ["nobody listening", "fatal: unable to access 'http://127.0.0.1:1/': Failed to connect to 127.0.0.1 port 1: Connection refused", "network"],
    ["a server error", "fatal: unable to access 'https://git.test/': The requested URL returned error: 502", "network"],
    ["a connection dropped mid-pack", "fatal: the remote end hung up unexpectedly\nfatal: early EOF", "network"],
    ["a broken clone", "error: object file objects/ab/cdef is empty\nfatal: loose object abcdef (stored in objects/ab/cdef) is corrupt", "corrupt"],
    ["words no rule knows", "fatal: something new went wrong", "other"]
  ])("%s", (_name, output, kind) => {
    expect(kindOfGitOutput(output)).toBe(kind)
  })
})

describe("isoKindOf: what isomorphic-git threw, by class, status and code", () => {
  const coded = (code: string) => Object.assign(new Error("connect failed"), { code })
  test.each<readonly [string, unknown, GitErrorKind]>([
    ["401", new Errors.HttpError(401, "Unauthorized", ""), "auth"],
    ["403", new Errors.HttpError(403, "Forbidden", ""), "auth"],
    ["404", new Errors.HttpError(404, "Not Found", ""), "notFound"],
    ["502", new Errors.HttpError(502, "Bad Gateway", ""), "network"],
    ["429", new Errors.HttpError(429, "Too Many Requests", ""), "network"],
    ["another status", new Errors.HttpError(418, "I'm a teapot", ""), "other"],
    ["a refused connection", coded("ECONNREFUSED"), "network"],
    ["a fetch with no answer", new TypeError("fetch failed"), "network"],
    ["a pack too large to hold", new PackTooLarge(1), "config"],
    ["a file name it refuses", new Errors.UnsafeFilepathError("a\\b"), "config"],
    ["a missing object", new Errors.NotFoundError("abc"), "notFound"],
    ["anything else", new Error("odd"), "other"]
  ])("%s", (_name, error, kind) => {
    expect(isoKindOf(error)).toBe(kind)
  })
})
