/**
 * The platforms gate through the binary, against the real registry behind a proxy that counts
 * requests and fails what a test asks: a multi-platform index with every platform, one with
 * amd64 alone (a Docker manifest list), single-platform images read through their configs, an
 * index the registry fails to serve, and an image with no gate, which costs no manifest request.
 */
import { describe, expect, test } from "bun:test"
import { ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startPagingProxy, startRegistry, type TestPlatform, type TestRegistry } from "../support/registry.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let registry: TestRegistry
let git: TestGitServer

useServers(() => ({ registry: startRegistry(), git: startGitServer() }), (s) => ({ registry, git } = s))

const AMD64: TestPlatform = { os: "linux", architecture: "amd64" }
const ARM64: TestPlatform = { os: "linux", architecture: "arm64", variant: "v8" }
const ARM_V7: TestPlatform = { os: "linux", architecture: "arm", variant: "v7" }

const fileName = (repository: string) => `${repository.replace(/\//g, "-")}.yaml`

describe("the platforms gate on a real registry", () => {
  test("only candidates with an image for every listed platform land; the others are held with why", async () => {
    const repos = ["plat/both", "plat/amd64only", "plat/single", "plat/singlearm", "plat/broken", "free/app"]
    for (const r of repos) await registry.pushImage(r, "1.0.0")
    await registry.pushIndex("plat/both", "1.1.0", [AMD64, ARM64, ARM_V7])
    await registry.pushIndex("plat/amd64only", "1.1.0", [AMD64], { docker: true })
    await registry.pushImage("plat/single", "1.1.0", { platform: ARM64 })
    await registry.pushImage("plat/singlearm", "1.1.0", { platform: { os: "linux", architecture: "arm", variant: "v6" } })
    const broken = await registry.pushIndex("plat/broken", "1.1.0", [AMD64, ARM64])
    await registry.pushImage("free/app", "1.1.0")
    // The proxy fails every GET of the broken index (HEAD, which tells its digest, goes through).
    const proxy = await startPagingProxy(registry, 100, { manifestFaults: new Map([[broken, 403]]) })
    try {
      await git.createRepo("platforms1", {
        ...Object.fromEntries(repos.map((r) => [fileName(r), `image: ${proxy.host}/${r}:1.0.0\n`])),
        ".pipe/w.yaml": watcherFile(repos.map((r) => ({ image: `${proxy.host}/${r}`, provider: "local", filePath: fileName(r), field: "image", policy: { version: "^" } })))
      })
      const dir = tempDir("runner-platforms-")
      const gates = [
        `      - images: ["${proxy.host}/plat/*"]`,
        "        platforms: [linux/arm64]",
        `      - images: ["${proxy.host}/plat/both", "${proxy.host}/plat/amd64only", "${proxy.host}/plat/broken"]`,
        "        platforms: [linux/amd64, linux/arm64/v8]",
        `      - images: ["${proxy.host}/plat/singlearm"]`,
        "        platforms: [linux/arm/v7]",
        ""
      ].join("\n")
      const config = writePipedConfig(dir, {
        repoId: "platforms1",
        remote: `${git.url}/platforms1.git`,
        providers: ociProvider("local", proxy.url),
        imageWatcher: `  imageWatcher:\n    gates:\n${gates}`
      })
      const result = await runRunner(["--once", "--config", config, "--data-dir", `${dir}/data`])
      expect(result.stderr).not.toMatch(/level=(ERROR|WARN)/i)
      expect(result.code).toBe(0)

      const fileOf = (r: string) => git.readFile("platforms1", fileName(r))
      expect(await fileOf("plat/both")).toBe(`image: ${proxy.host}/plat/both:1.1.0\n`)
      expect(await fileOf("plat/single")).toBe(`image: ${proxy.host}/plat/single:1.1.0\n`)
      expect(await fileOf("free/app")).toBe(`image: ${proxy.host}/free/app:1.1.0\n`)
      for (const held of ["plat/amd64only", "plat/singlearm", "plat/broken"]) expect(await fileOf(held)).toBe(`image: ${proxy.host}/${held}:1.0.0\n`)
      const lineOf = (r: string) => result.stdout.split("\n").find((l) => l.includes(`${proxy.host}/${r} `)) ?? ""
      expect(lineOf("plat/amd64only")).toContain("1.0.0  held back by the gates; held: 1.1.0 has no linux/arm64 image")
      expect(lineOf("plat/singlearm")).toContain("held: 1.1.0 has no linux/arm64 or linux/arm/v7 image")
      expect(lineOf("plat/broken")).toContain("held: 1.1.0 platforms cannot be read (")
      expect(lineOf("plat/broken")).toContain("injected 403")
      expect(result.stdout).toContain("6 targets: 3 updated, 0 would update, 0 up to date, 0 failed, 3 held")

      // Without a gate nothing but the tag list is asked; with one, the digest, then the index (or
      // a single image's manifest and config).
      const asked = (r: string) => proxy.requests.filter((q) => q.includes(`/v2/${r}/`) && !q.includes("/tags/list"))
      expect(asked("free/app")).toEqual([])
      expect(asked("plat/both").map((q) => q.replace(/sha256:[0-9a-f]{64}/, "D"))).toEqual(["HEAD /v2/plat/both/manifests/1.1.0", "GET /v2/plat/both/manifests/D"])
      expect(asked("plat/single").map((q) => q.replace(/sha256:[0-9a-f]{64}/, "D"))).toEqual([
        "HEAD /v2/plat/single/manifests/1.1.0",
        "GET /v2/plat/single/manifests/D",
        "GET /v2/plat/single/blobs/D"
      ])
    } finally {
      await proxy.stop()
    }
  }, 120_000)
})
