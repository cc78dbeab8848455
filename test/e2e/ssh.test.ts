/**
 * The compiled binary against a real sshd: a --once pass that lands a tag registered with
 * `runner notify` over ssh, trusting the new host on first use, then a changed host key that
 * fails the repository clearly.
 */
import { describe, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startSshd, type TestSshd } from "../support/sshd.ts"
import { storeProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let git: TestGitServer
let sshd: TestSshd

useServers(() => ({ git: startGitServer(), sshd: startSshd() }), (s) => ({ git, sshd } = s))

describe("git over ssh", () => {
  test("trusted on first use with a warning, then a changed host key fails the pass with exit 1 and pushes nothing", async () => {
    await git.createRepo("viassh", {
      "web.yaml": "image: nginx:1.25.0\n",
      ".pipe/watch.yaml": watcherFile([{ image: "nginx", provider: "ci", filePath: "web.yaml", field: "image" }])
    })
    const dir = tempDir("runner-ssh-")
    const data = join(dir, "data")
    const home = join(dir, "home")
    const config = writePipedConfig(dir, {
      repoId: "viassh",
      remote: sshd.url(join(git.root, "viassh.git")),
      git: `    sshKeyFile: ${sshd.clientKeyFile}\n`,
      providers: storeProvider("ci", "30s")
    })
    const notify = (tag: string) =>
      runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", tag, "--data-dir", data])
    const once = () => runRunner(["--once", "--config", config, "--data-dir", data], { env: { HOME: home } })

    expect((await notify("1.26.0")).code).toBe(0)
    const first = await once()
    expect(first.code).toBe(0)
    expect(await git.readFile("viassh", "web.yaml")).toBe("image: nginx:1.26.0\n")
    const knownHosts = join(data, "ssh", "known_hosts")
    const warning = first.stderr.split("\n").filter((line) => line.includes("trusting ssh host"))
    expect(warning).toHaveLength(1)
    expect(warning[0]).toContain("level=WARN")
    expect(warning[0]).toContain(`trusting ssh host ${sshd.hostName} on first use with its ED25519 key ${sshd.hostKey().fingerprint}`)
    expect(warning[0]).toContain(knownHosts)
    expect(readFileSync(knownHosts, "utf8")).toBe(`${sshd.knownHostsLine()}\n`)
    const remembered = readFileSync(knownHosts, "utf8")

    const old = sshd.hostKey()
    await sshd.restartWithNewHostKey()
    expect((await notify("1.27.0")).code).toBe(0)
    const second = await once()
    expect(second.code).toBe(1)
    expect(second.stdout).toContain(
      `failed: git fetch of repository "viassh" failed: host key of ${sshd.hostName} changed ` +
        `(was ED25519 key ${old.fingerprint}, now ED25519 key ${sshd.hostKey().fingerprint}): not connecting — ` +
        `remove the old key from ${knownHosts} if the change is expected`
    )
    expect(second.stdout + second.stderr).not.toMatch(/@@@|REMOTE HOST IDENTIFICATION/)
    expect(second.stderr).not.toContain("trusting ssh host")
    expect(await git.readFile("viassh", "web.yaml")).toBe("image: nginx:1.26.0\n")
    expect(readFileSync(knownHosts, "utf8")).toBe(remembered)
    expect(existsSync(join(home, ".ssh"))).toBe(false)
  }, 60_000)

  test("a push branch over ssh: created, accumulated, and started again from main once merged", async () => {
    await git.createRepo("sshbranch", {
      "web.yaml": "image: nginx:1.25.0\n",
      // Its CI registers each release: `^` takes every new minor at once.
      ".pipe/watch.yaml": watcherFile([{ image: "nginx", provider: "ci", filePath: "web.yaml", field: "image", policy: { version: "^" } }])
    })
    const dir = tempDir("runner-sshbranch-")
    const data = join(dir, "data")
    const config = writePipedConfig(dir, {
      repoId: "sshbranch",
      remote: sshd.url(join(git.root, "sshbranch.git")),
      git: `    sshKeyFile: ${sshd.clientKeyFile}\n`,
      providers: storeProvider("ci", "30s"),
      imageWatcher: "  imageWatcher:\n    gitRepos:\n      - repoId: sshbranch\n        pushBranch: image-updates\n"
    })
    const notify = (tag: string) =>
      runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", tag, "--data-dir", data])
    const once = () => runRunner(["--once", "--config", config, "--data-dir", data], { env: { HOME: join(dir, "home") } })
    const mainTip = await git.tip("sshbranch", "main")

    await notify("1.26.0")
    const created = await once()
    expect(created.code).toBe(0)
    expect(created.stdout).toMatch(/updated \([0-9a-f]{7} on image-updates\)/)
    const first = await git.tip("sshbranch", "image-updates")
    expect(await git.tip("sshbranch", "main")).toBe(mainTip)
    expect(await git.readFile("sshbranch", "web.yaml", { branch: "image-updates" })).toBe("image: nginx:1.26.0\n")

    await notify("1.27.0")
    expect((await once()).code).toBe(0)
    const second = await git.tip("sshbranch", "image-updates")
    expect(first !== undefined && second !== undefined && (await git.isAncestor("sshbranch", first, second))).toBe(true)
    expect(await git.tip("sshbranch", "main")).toBe(mainTip)

    // A person merges the branch; the next change starts again from main.
    const merged = await git.merge("sshbranch", "image-updates", "main")
    await notify("1.28.0")
    expect((await once()).code).toBe(0)
    const third = await git.tip("sshbranch", "image-updates")
    expect(third !== undefined && (await git.isAncestor("sshbranch", merged, third))).toBe(true)
    expect(second !== undefined && third !== undefined && (await git.isAncestor("sshbranch", second, third))).toBe(true)
    expect(await git.tip("sshbranch", "main")).toBe(merged)
    expect(await git.readFile("sshbranch", "web.yaml", { branch: "image-updates" })).toBe("image: nginx:1.28.0\n")
  }, 90_000)
})
