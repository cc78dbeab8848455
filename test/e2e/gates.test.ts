/**
 * Gates through the binary, against the real registry and git server: cosign signatures laid out
 * exactly as `cosign sign --key` lays them out, and minimum ages by first sighting.
 */
import { beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { rmSync } from "node:fs"
import { ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { generateP256, pushGarbageSignature, pushSignature, type TestKeyPair } from "../support/cosign.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { runRunner, tempDir, writeFile } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let registry: TestRegistry
let git: TestGitServer
let trusted: TestKeyPair
let other: TestKeyPair

useServers(() => ({ registry: startRegistry(), git: startGitServer() }), (s) => ({ registry, git } = s))

beforeAll(() => {
  trusted = generateP256()
  other = generateP256()
}, SERVER_HOOK_TIMEOUT)

/** Pushes 1.0.0 and 1.1.0 of `repository` (distinct images) and returns their digests. */
const pushTwo = async (repository: string) => ({
  old: await registry.pushImage(repository, "1.0.0", { created: "2024-01-01T00:00:00Z" }),
  fresh: await registry.pushImage(repository, "1.1.0", { created: "2024-02-01T00:00:00Z" })
})

/** A repository with one file per image, each at 1.0.0, and one target per file; one pass through the binary. */
const passOver = async (name: string, repositories: ReadonlyArray<string>, gates: string, extra: ReadonlyArray<string> = []) => {
  const files = Object.fromEntries(repositories.map((r) => [`${r.replace(/\//g, "-")}.yaml`, `image: ${registry.host}/${r}:1.0.0\n`]))
  await git.createRepo(name, {
    ...files,
    ".pipe/w.yaml": watcherFile(
      // `^`: the gates alone decide; the default would also read the images' created as release dates.
      repositories.map((r) => ({ image: `${registry.host}/${r}`, provider: "local", filePath: `${r.replace(/\//g, "-")}.yaml`, field: "image", policy: { version: "^" } }))
    )
  })
  const dir = tempDir("runner-gates-")
  const config = writePipedConfig(dir, {
    repoId: name,
    remote: `${git.url}/${name}.git`,
    providers: ociProvider("local", registry.url),
    imageWatcher: `  imageWatcher:\n    gates:\n${gates}`
  })
  return { dir, config, run: () => runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`, ...extra]) }
}

const fileOf = (name: string, repository: string) => git.readFile(name, `${repository.replace(/\//g, "-")}.yaml`)

describe("cosign gates on a real registry", () => {
  test("only what the trusted key signed lands, pinned to the digest that was verified", async () => {
    const keyFile = writeFile(tempDir("runner-key-"), "cosign.pub", trusted.publicKeyPem)
    const signed = await pushTwo("gate/signed")
    await pushSignature(registry, "gate/signed", signed.fresh, trusted.privateKey)
    await pushTwo("gate/unsigned")
    const otherKey = await pushTwo("gate/otherkey")
    await pushSignature(registry, "gate/otherkey", otherKey.fresh, other.privateKey)
    const otherDigest = await pushTwo("gate/otherdigest")
    await pushSignature(registry, "gate/otherdigest", otherDigest.fresh, trusted.privateKey, { payloadDigest: otherDigest.old })
    const repointed = await pushTwo("gate/repointed")
    await pushSignature(registry, "gate/repointed", repointed.fresh, trusted.privateKey)
    await registry.pushImage("gate/repointed", "1.1.0", { created: "2024-03-01T00:00:00Z" })
    const garbage = await pushTwo("gate/garbage")
    await pushGarbageSignature(registry, "gate/garbage", garbage.fresh, "index")
    const huge = await pushTwo("gate/huge")
    await pushSignature(registry, "gate/huge", huge.fresh, trusted.privateKey, { padTo: 3 * 1024 * 1024 })
    const unpinned = await pushTwo("unpinned/app")
    await pushSignature(registry, "unpinned/app", unpinned.fresh, trusted.privateKey)
    await pushTwo("free/app")

    const gates = [
      `      - images: ["${registry.host}/gate/*"]`,
      `        cosign: { publicKeyFile: ${keyFile} }`,
      `      - images: ["${registry.host}/unpinned/**"]`,
      `        cosign: { publicKeyFile: ${keyFile} }`,
      "        pinDigest: false",
      ""
    ].join("\n")
    const repos = ["gate/signed", "gate/unsigned", "gate/otherkey", "gate/otherdigest", "gate/repointed", "gate/garbage", "gate/huge", "unpinned/app", "free/app"]
    const { run } = await passOver("cosign1", repos, gates)
    const result = await run()
    expect(result.stderr).not.toMatch(/level=(ERROR|WARN)/i)
    expect(result.code).toBe(0)

    expect(await fileOf("cosign1", "gate/signed")).toBe(`image: ${registry.host}/gate/signed:1.1.0@${signed.fresh}\n`)
    expect(await fileOf("cosign1", "unpinned/app")).toBe(`image: ${registry.host}/unpinned/app:1.1.0\n`)
    expect(await fileOf("cosign1", "free/app")).toBe(`image: ${registry.host}/free/app:1.1.0\n`)
    for (const held of ["gate/unsigned", "gate/otherkey", "gate/otherdigest", "gate/repointed", "gate/garbage", "gate/huge"]) {
      expect(await fileOf("cosign1", held)).toBe(`image: ${registry.host}/${held}:1.0.0\n`)
    }
    const lineOf = (repository: string) => result.stdout.split("\n").find((l) => l.includes(`${registry.host}/${repository} `)) ?? ""
    expect(lineOf("gate/unsigned")).toContain("1.0.0  held back by the gates; skipped: 1.1.0 not signed by cosign.pub (no signature)")
    expect(lineOf("gate/otherkey")).toContain("skipped: 1.1.0 not signed by cosign.pub (signature does not verify)")
    expect(lineOf("gate/otherdigest")).toContain(`skipped: 1.1.0 not signed by cosign.pub (signature is for ${otherDigest.old.slice(0, 19)}`)
    expect(lineOf("gate/repointed")).toContain("skipped: 1.1.0 not signed by cosign.pub (no signature)")
    expect(lineOf("gate/garbage")).toContain("skipped: 1.1.0 not signed by cosign.pub (malformed signature manifest)")
    expect(lineOf("gate/huge")).toContain("skipped: 1.1.0 not signed by cosign.pub (signature payload too large")
    expect(result.stdout).toContain("9 targets: 3 updated, 0 would update, 0 up to date, 0 failed, 6 held")
    expect((await git.log("cosign1")).map((c) => c.subject)).toContain(
      `Update ${registry.host}/gate/signed:1.0.0 in gate-signed.yaml to 1.1.0@${signed.fresh}`
    )
  }, 120_000)

  test("an unreadable key file fails its targets alone; the rest lands", async () => {
    await pushTwo("badkey/app")
    await pushTwo("fine/app")
    const gates = `      - images: ["${registry.host}/badkey/*"]\n        cosign: { publicKeyFile: /nonexistent/cosign.pub }\n`
    const { run } = await passOver("cosign2", ["badkey/app", "fine/app"], gates)
    const result = await run()
    expect(result.code).toBe(1)
    expect(result.stdout).toContain("failed: gate ")
    expect(result.stdout).toContain("cannot read the cosign key /nonexistent/cosign.pub")
    expect(await fileOf("cosign2", "badkey/app")).toBe(`image: ${registry.host}/badkey/app:1.0.0\n`)
    expect(await fileOf("cosign2", "fine/app")).toBe(`image: ${registry.host}/fine/app:1.1.0\n`)
  }, 60_000)
})

describe("minimum age on a real registry", () => {
  test("a tag that appears after the first listing is held for minAge, whatever its image's created says", async () => {
    await registry.pushImage("age/app", "1.0.0", { created: "2024-01-01T00:00:00Z" })
    const gates = `      - images: ["${registry.host}/age/**"]\n        minAge: 1h\n`
    const { run } = await passOver("age1", ["age/app"], gates)
    expect((await run()).code).toBe(0)
    // Published now, backdated to 2019.
    await registry.pushImage("age/app", "1.1.0", { created: "2019-01-01T00:00:00Z" })
    const result = await run()
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/1\.0\.0 {2}held back by the gates; held: 1\.1\.0 too new \(first seen \d+s ago, needs 1h\)/)
    expect(await fileOf("age1", "age/app")).toBe(`image: ${registry.host}/age/app:1.0.0\n`)
  }, 60_000)

  test("an emptied data dir does not let a backdated tag newer than the current one through", async () => {
    await registry.pushImage("reset/app", "1.0.0", { created: "2024-01-01T00:00:00Z" })
    const gates = `      - images: ["${registry.host}/reset/**"]\n        minAge: 1h\n`
    const { dir, run } = await passOver("age2", ["reset/app"], gates)
    expect((await run()).code).toBe(0)
    // The data dir is lost (a pod restarted without its volume), then a backdated tag is published.
    rmSync(`${dir}/data`, { recursive: true, force: true })
    await registry.pushImage("reset/app", "1.1.0", { created: "2019-01-01T00:00:00Z" })
    const result = await run()
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/1\.0\.0 {2}held back by the gates; held: 1\.1\.0 too new \(first seen \d+s ago, needs 1h\)/)
    expect(await fileOf("age2", "reset/app")).toBe(`image: ${registry.host}/reset/app:1.0.0\n`)
  }, 60_000)
})
