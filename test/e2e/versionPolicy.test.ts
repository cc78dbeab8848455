/**
 * The default policy through the binary, against the real registry: a realistic tag list per
 * scheme, targets that name no policy, and what lands in git.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startRegistry, type TestRegistry } from "../support/registry.ts"
import { ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let registry: TestRegistry
let git: TestGitServer

/** A scheme: the tags its image has, what the field holds, and what it must hold after a pass. */
interface Scheme {
  readonly repository: string
  readonly tags: ReadonlyArray<string>
  readonly current: string
  readonly expected: string
}

const schemes: Record<string, Scheme> = {
  nginx: {
    repository: "library/nginx",
    tags: ["1.25.3", "1.25.3-alpine", "1.25.3-perl", "1.25", "1.27.3", "1.27.3-alpine", "1.27.3-perl", "1.27", "1.27-alpine", "1-alpine", "stable", "mainline-alpine", "latest"],
    current: "1.25.3-alpine",
    expected: "1.27.3-alpine"
  },
  // 1.25.3 is listed: 1.25 is an alias of that line, which follows it by itself.
  nginxMinor: { repository: "library/nginx", tags: [], current: "1.25", expected: "1.25" },
  nginxStable: { repository: "library/nginx", tags: [], current: "stable", expected: "stable" },
  node: {
    repository: "library/node",
    tags: ["20.10.0-bookworm-slim", "20.11.1-bookworm-slim", "20.11.1-alpine3.19", "20.11.1", "21.6.0-bookworm-slim", "21-bookworm-slim", "lts-bookworm-slim"],
    current: "20.10.0-bookworm-slim",
    expected: "20.11.1-bookworm-slim"
  },
  dotnet: {
    repository: "dotnet/aspnet",
    tags: ["8.0.1", "8.0.2", "8.0.1-windowsservercore-ltsc2022", "8.0.2-windowsservercore-ltsc2022", "8.0.2-nanoserver-1809", "9.0.0-preview.1"],
    current: "8.0.1-windowsservercore-ltsc2022",
    expected: "8.0.2-windowsservercore-ltsc2022"
  },
  temurin: {
    repository: "library/eclipse-temurin",
    tags: ["17.0.9_9-jre", "17.0.10_7-jre", "17.0.10_7-jdk", "17-jre", "21.0.2_13-jre", "21", "latest"],
    current: "17.0.9_9-jre",
    expected: "17.0.10_7-jre"
  },
  bitnami: {
    repository: "bitnami/postgresql",
    tags: ["16.1.0-debian-11-r20", "16.1.0-debian-11-r21", "16.2.0-debian-11-r0", "16.2.0-debian-12-r1", "16.2.0", "16", "latest"],
    current: "16.1.0-debian-11-r20",
    expected: "16.2.0-debian-11-r0"
  },
  traefik: {
    repository: "library/traefik",
    tags: ["v2.10.7", "2.10.7", "v2.11.0", "2.11.0", "v3.0.0", "3.0.0", "v2.11.0-rc1", "latest"],
    current: "v2.10.7",
    expected: "v2.11.0"
  },
  calver: {
    repository: "org/calver",
    tags: ["2023.10.15", "2023.12.01", "2024.01.05", "2024.1.5", "latest"],
    current: "2023.12.01",
    expected: "2024.01.05"
  },
  homeAssistant: {
    repository: "home-assistant/home-assistant",
    tags: ["2024.1.0b3", "2024.1.0b4", "2024.2.0b0", "stable", "beta"],
    current: "2024.1.0b3",
    expected: "2024.1.0b4"
  },
  rc: {
    repository: "org/rc",
    tags: ["2.9.0", "3.0.0-rc.2", "3.0.0-rc.9", "3.0.0-rc.10", "3.1.0-rc.1"],
    current: "3.0.0-rc.2",
    expected: "3.0.0-rc.10"
  },
  sha: { repository: "org/sha", tags: ["sha-1a2b3c4", "sha-9f8e7d6", "1.0.0"], current: "sha-1a2b3c4", expected: "sha-1a2b3c4" },
  build: { repository: "org/build", tags: ["build-41", "build-42"], current: "build-41", expected: "build-41" },
  fourPart: { repository: "org/four", tags: ["1.2.3.4", "1.2.3.5", "1.2.4.0", "2.0.0.0"], current: "1.2.3.4", expected: "1.2.4.0" }
}

const fileOf = (name: string) => `apps/${name}.yaml`
const imageOf = (s: Scheme) => `${registry.host}/${s.repository}`

useServers(() => ({ registry: startRegistry(), git: startGitServer() }), (s) => ({ registry, git } = s))

beforeAll(async () => {
  const pushed = new Set<string>()
  for (const s of Object.values(schemes)) {
    for (const tag of s.tags) {
      if (pushed.has(`${s.repository}:${tag}`)) continue
      pushed.add(`${s.repository}:${tag}`)
      // Built in the order listed, a week apart: the release dates the default's line rule reads.
      await registry.pushImage(s.repository, tag, { created: new Date(Date.UTC(2024, 0, 1) + pushed.size * 7 * 86_400_000).toISOString() })
    }
  }
  const files = Object.fromEntries(
    Object.entries(schemes).map(([name, s]) => [fileOf(name), `spec:\n  image: ${imageOf(s)}:${s.current} # ${name}\n`])
  )
  await git.createRepo("schemes", {
    ...files,
    ".pipe/w.yaml": watcherFile(
      Object.entries(schemes).map(([name, s]) => ({ image: imageOf(s), provider: "local", filePath: fileOf(name), field: "spec.image" }))
    )
  })
}, 120_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), git?.stop()])
}, SERVER_HOOK_TIMEOUT)

const config = () => {
  const dir = tempDir("runner-version-")
  return {
    dir,
    path: writePipedConfig(dir, { repoId: "schemes", remote: `${git.url}/schemes.git`, providers: ociProvider("local", registry.url) })
  }
}

describe("the default policy on a real registry", () => {
  test("runner explain shows how a target's tags were read, changing nothing", async () => {
    const { dir, path } = config()
    const result = await runRunner(["explain", "--config", path, "--data-dir", `${dir}/data`, imageOf(schemes["nginx"] as Scheme), fileOf("nginx")])
    expect(result.stderr).not.toContain("error")
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`${imageOf(schemes["nginx"] as Scheme)} in schemes/apps/nginx.yaml spec.image\n`)
    expect(result.stdout).toContain("  current: 1.25.3-alpine (version 1.25.3, variant alpine)\n")
    expect(result.stdout).toContain("  candidates must have: variant alpine, 3 numbers, major 1, releases\n")
    expect(result.stdout).toMatch(/ {4}1\.27\.3-alpine +version 1\.27\.3, variant alpine {2}<- chosen\n/)
    expect(result.stdout).toMatch(/passed over, another variant \(\d+\):\n/)
    expect(result.stdout).toContain("  result: 1.25.3-alpine -> 1.27.3-alpine: the highest candidate\n")
    // Only the asked target is reported, and nothing was committed.
    expect(result.stdout).toContain("1 targets: 0 updated, 1 would update, 0 up to date, 0 failed\n")
    expect((await git.log("schemes")).length).toBe(1)
  }, 60_000)

  test("runner explain of an image no target watches says so", async () => {
    const { dir, path } = config()
    const result = await runRunner(["explain", "--config", path, "--data-dir", `${dir}/data`, `${registry.host}/nobody/watches`])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`no target watches ${registry.host}/nobody/watches`)
  }, 60_000)

  test("every scheme keeps its variant, precision, spelling and line; floating tags are left alone", async () => {
    const { dir, path } = config()
    const result = await runRunner(["--once", "--config", path, "--data-dir", `${dir}/data`])
    expect(result.stderr).not.toMatch(/level=(error|warn)/)
    // Floating tags are reported, not failed.
    expect(result.code).toBe(0)
    for (const [name, s] of Object.entries(schemes)) {
      expect(await git.readFile("schemes", fileOf(name))).toBe(`spec:\n  image: ${imageOf(s)}:${s.expected} # ${name}\n`)
    }
    for (const name of ["nginxStable", "sha", "build"]) {
      const s = schemes[name] as Scheme
      expect(result.stdout).toContain(`${fileOf(name)}  spec.image  ${imageOf(s)}  ${s.current}  floating tag: name a policy to manage it`)
    }
    const moved = Object.values(schemes).filter((s) => s.expected !== s.current).length
    expect(result.stdout).toContain(`${Object.keys(schemes).length} targets: ${moved} updated, 0 would update, `)
    // Three floating tags and the alias.
    expect(result.stdout).toMatch(/, 0 failed, 4 left alone\n$/)
    expect(result.stdout).toContain(`${fileOf("nginxMinor")}  spec.image  ${imageOf(schemes["nginxMinor"] as Scheme)}  1.25  alias of 1.25.x: it follows that line by itself`)
    const subjects = (await git.log("schemes")).map((c) => c.subject)
    expect(subjects).toContain(`Update ${imageOf(schemes["temurin"] as Scheme)}:17.0.9_9-jre in ${fileOf("temurin")} to 17.0.10_7-jre`)
  }, 90_000)
})
