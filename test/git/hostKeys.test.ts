/** The pure side of ssh trust: known-hosts lines, fingerprints, ssh's refusals, the generated ssh config. */
import { describe, expect, test } from "bun:test"
import { Either, Option } from "effect"
import { describeKey, fingerprint, parseKnownHost, parseRefusal, type Refusal } from "../../src/git/hostKeys.ts"
import { isSshRemote } from "../../src/git/remote.ts"
import { configPath, sshConfigText } from "../../src/git/sshConfig.ts"

// A key and the fingerprint `ssh-keygen -lf` printed for it.
const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIMCb56TD68iztRWgc0TLvjSK2sqrGmhqY4MPZZkMpEaH"
const FINGERPRINT = "SHA256:fjFpi+GIc0iiWzsHpdGHAwJVJT21RI9uqwEjqxN285A"

// What git passes on from OpenSSH 9.2 when the key differs from the one remembered.
const CHANGED = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the RSA key sent by the remote host is
SHA256:9mR2oR6ufGNtHpGGQCdSyX288/aCnzpUE8LsVSJSQGM.
Please contact your system administrator.
Add correct host key in /data/ssh/known_hosts to get rid of this message.
Offending ED25519 key in /data/ssh/known_hosts:3
  remove with:
  ssh-keygen -f "/data/ssh/known_hosts" -R "[127.0.0.1]:22222"
Host key for [127.0.0.1]:22222 has changed and you have requested strict checking.
Host key verification failed.
fatal: Could not read from remote repository.`

describe("known-hosts lines", () => {
  test.each([
    ["plain", `github.com ssh-ed25519 ${KEY}`, Option.some({ hosts: "github.com", type: "ssh-ed25519", key: KEY })],
    ["with a port and a comment", `[h]:2222,10.0.0.1 ssh-ed25519 ${KEY} me@host`, Option.some({ hosts: "[h]:2222,10.0.0.1", type: "ssh-ed25519", key: KEY })],
    ["with a marker", `@revoked h ssh-ed25519 ${KEY}`, Option.some({ hosts: "h", type: "ssh-ed25519", key: KEY })],
    ["a comment", `# h ssh-ed25519 ${KEY}`, Option.none()],
    ["blank", "   ", Option.none()],
    ["cut short", "h ssh-ed25519", Option.none()]
  ])("%s", (_name, line, expected) => {
    expect(parseKnownHost(line)).toEqual(expected)
  })

  test("fingerprints as ssh-keygen prints them", () => {
    expect(fingerprint(KEY)).toEqual(Option.some(FINGERPRINT))
    expect(describeKey({ type: "ssh-ed25519", key: KEY })).toBe(`ED25519 key ${FINGERPRINT}`)
    expect(describeKey({ type: "ecdsa-sha2-nistp256", key: KEY })).toStartWith("ECDSA key ")
    expect(fingerprint("not base64!")).toEqual(Option.none())
  })
})

describe("ssh's refusals", () => {
  test.each<[string, string, Option.Option<Refusal>]>([
    ["a changed key", CHANGED, Option.some({ _tag: "Changed", host: "[127.0.0.1]:22222", now: "RSA key SHA256:9mR2oR6ufGNtHpGGQCdSyX288/aCnzpUE8LsVSJSQGM", file: "/data/ssh/known_hosts", line: 3 })],
    [
      "an unknown host under strict checking",
      "No ED25519 host key is known for git.example.com and you have requested strict checking.\nHost key verification failed.",
      Option.some({ _tag: "Unknown", host: "git.example.com", type: "ED25519" })
    ],
    ["a uid ssh cannot name", "No user exists for uid 1000740000\nfatal: Could not read from remote repository.", Option.some({ _tag: "NoUser", uid: "1000740000" })],
    ["anything else", "Permission denied (publickey).\nfatal: Could not read from remote repository.", Option.none()]
  ])("%s", (_name, text, expected) => {
    expect(parseRefusal(text)).toEqual(expected)
  })
})

describe("which remotes go through ssh", () => {
  test.each([
    ["git@github.com:org/repo.git", true],
    ["github-alias:org/repo.git", true],
    ["ssh://git@host:2222/org/repo.git", true],
    ["git+ssh://host/repo.git", true],
    ["https://github.com/org/repo.git", false],
    ["file:///srv/repo.git", false],
    ["/srv/repo.git", false],
    ["./dir:with/colon", false],
    ["git://host/repo.git", false],
    ["ext::ssh -i key host %S repo", false]
  ])("%s", (remote, expected) => {
    expect(isSshRemote(remote)).toBe(expected)
  })
})

describe("the runner's ssh config", () => {
  const text = (input: Parameters<typeof sshConfigText>[0]) => Either.getOrThrow(sshConfigText(input)).split("\n")

  test("trust on first use, the key, and Piped's block with its defaults", () => {
    const lines = text({ knownHostsFile: "/data/ssh/known_hosts", strict: false, keyFile: Option.some("/keys/100%") })
    expect(lines).toContain("StrictHostKeyChecking accept-new")
    expect(lines).toContain('UserKnownHostsFile "/data/ssh/known_hosts"')
    expect(lines).toContain("GlobalKnownHostsFile /dev/null")
    expect(lines).toContain('IdentityFile "/keys/100%%"')
    expect(lines.slice(-4)).toEqual(["Host github.com", "  HostName github.com", "  User git", ""])
  })

  test("strict checking with an alias, no key", () => {
    const lines = text({ knownHostsFile: "/etc/kh", strict: true, keyFile: Option.none(), host: "gh", hostName: "10.0.0.1" })
    expect(lines).toContain("StrictHostKeyChecking yes")
    expect(lines.some((l) => l.startsWith("IdentityFile"))).toBe(false)
    expect(lines.slice(-4)).toEqual(["Host gh", "  HostName 10.0.0.1", "  User git", ""])
  })

  test("no key and no alias: no host block", () => {
    expect(text({ knownHostsFile: "/k", strict: false, keyFile: Option.none() }).some((l) => l.startsWith("Host "))).toBe(false)
  })

  test.each(['/a"b', "/a\nb", "/a${HOME}"])("a path ssh cannot be given: %p", (path) => {
    expect(Either.isLeft(configPath(path))).toBe(true)
    expect(Either.isLeft(sshConfigText({ knownHostsFile: path, strict: false, keyFile: Option.none() }))).toBe(true)
  })
})
