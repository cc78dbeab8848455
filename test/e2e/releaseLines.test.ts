/**
 * The default policy's release-line rule through the binary, against the real registry: images
 * pushed in release order with their configs' `created` dates, targets that name no policy, what
 * lands in git, the report line, a default policy that follows new lines, and in service mode the
 * `newer` field of the target's JSON event and `runner_targets_newer_outside_range`.
 */
import { beforeAll, describe, expect, test } from "bun:test"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { startPagingProxy, startRegistry, type TestRegistry } from "../support/registry.ts"
import { checkEvery, ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { metric, startDaemon, stopDaemon, until } from "../support/daemon.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

let registry: TestRegistry
let git: TestGitServer

/** An image's tags in release order, the tag its field holds, and what the field must hold after a pass. */
interface Case {
  readonly repository: string
  readonly releases: ReadonlyArray<string>
  readonly current: string
  readonly expected: string
  /** Every release built with its clock at 0: no usable release dates. */
  readonly undated?: boolean
}

const cases = {
  // 8.0 is maintained: 8.0.35 and 8.0.36 came out after 8.1.0, the first release above the 8.0 line.
  mysql: { repository: "lines/mysql", releases: ["8.0.34", "8.1.0", "8.0.35", "8.2.0", "8.0.36", "8.3.0"], current: "8.0.35", expected: "8.0.36" },
  // Nothing of 2.48 came out after 2.49.0: the project moved on.
  prometheus: { repository: "lines/prometheus", releases: ["v2.48.0", "v2.48.1", "v2.49.0", "v2.49.1"], current: "v2.48.1", expected: "v2.49.1" },
  alias: { repository: "lines/postgres", releases: ["15.4", "15", "16.0", "15.5", "16.1", "16"], current: "15", expected: "15" },
  counter: { repository: "lines/fedora", releases: ["40", "41", "42"], current: "41", expected: "42" },
  undated: { repository: "lines/undated", releases: ["8.0.35", "8.1.0", "8.3.0", "8.0.36"], current: "8.0.35", expected: "8.0.36", undated: true }
} satisfies Record<string, Case>

type Name = keyof typeof cases
const names = Object.keys(cases) as ReadonlyArray<Name>

const fileOf = (name: string) => `apps/${name}.yaml`
const imageOf = (name: Name, host = registry.host) => `${host}/${cases[name].repository}`
const fieldOf = (name: Name, tag: string, host = registry.host) => `spec:\n  image: ${imageOf(name, host)}:${tag}\n`
const targets = (host: string) => names.map((name) => ({ image: imageOf(name, host), provider: "local", filePath: fileOf(name), field: "spec.image" }))

/** A repository holding every case's file and one watcher file; `defaultPolicy` goes into the watcher file's spec. */
const createRepo = (repoId: string, defaultPolicy?: string, host = registry.host) => {
  const watcher = watcherFile(targets(host))
  return git.createRepo(repoId, {
    ...Object.fromEntries(names.map((name) => [fileOf(name), fieldOf(name, cases[name].current, host)])),
    ".pipe/w.yaml": defaultPolicy === undefined ? watcher : watcher.replace("spec:\n", `spec:\n  defaultPolicy: ${defaultPolicy}\n`)
  })
}

/** A Piped config of `repoId` in a fresh directory (fresh data: every tag is seen in the first listing). */
const config = (repoId: string, remote: string, imageWatcher?: string, address = registry.url) => {
  const dir = tempDir("runner-lines-")
  const path = writePipedConfig(dir, {
    repoId,
    remote,
    providers: ociProvider("local", address),
    ...(imageWatcher === undefined ? {} : { imageWatcher })
  })
  return { path, dataDir: `${dir}/data` }
}

/** The report line of a case's target: `repo  file  field  image  move  outcome...`. */
const reportLine = (stdout: string, name: Name) => stdout.split("\n").find((line) => line.includes(`  ${fileOf(name)}  spec.image  ${imageOf(name)}  `)) ?? ""

/** What `version: "^"` makes of every case: both 8.0 lines follow 8.3; the alias still floats. */
const followed: Record<Name, string> = { mysql: "8.3.0", prometheus: "v2.49.1", alias: "15", counter: "42", undated: "8.3.0" }

const expectFollowed = async (repoId: string, stdout: string) => {
  for (const name of names) expect(await git.readFile(repoId, fileOf(name))).toBe(fieldOf(name, followed[name]))
  expect(reportLine(stdout, "mysql")).toMatch(/  8\.0\.35 -> 8\.3\.0  updated \([0-9a-f]{7}\)  \[/)
  expect(stdout).not.toContain("newer:")
  expect(stdout).not.toContain("without release dates")
}

useServers(() => ({ registry: startRegistry(), git: startGitServer() }), (s) => ({ registry, git } = s))

/** Pushes every case's releases in order, a week apart (1970 for the undated one). */
const pushReleases = async () => {
  let day = 0
  for (const name of names) {
    const c: Case = cases[name]
    for (const tag of c.releases) {
      day += 1
      const created = c.undated === true ? "1970-01-01T00:00:00Z" : new Date(Date.UTC(2024, 0, 1) + day * 7 * 86_400_000).toISOString()
      await registry.pushImage(c.repository, tag, { created })
    }
  }
}

beforeAll(pushReleases, 60_000)

describe("the default policy follows release lines as projects ship them", () => {
  test("a maintained line is kept, a line the project left is left, aliases float, counters move, undated lines stay", async () => {
    const remote = await createRepo("lines")
    const { path, dataDir } = config("lines", remote)
    const result = await runRunner(["--once", "--config", path, "--data-dir", dataDir])
    expect(result.stderr).not.toMatch(/level=(error|warn)/)
    expect(result.code).toBe(0)
    for (const name of names) expect(await git.readFile("lines", fileOf(name))).toBe(fieldOf(name, cases[name].expected))
    expect(reportLine(result.stdout, "mysql")).toMatch(/  8\.0\.35 -> 8\.0\.36  updated \([0-9a-f]{7}\) on the maintained 8\.0 line \(newer: 8\.3\.0\)  \[/)
    expect(reportLine(result.stdout, "prometheus")).toMatch(/  v2\.48\.1 -> v2\.49\.1  updated \([0-9a-f]{7}\)  \[/)
    expect(reportLine(result.stdout, "alias")).toContain(`  15  alias of 15.x: it follows that line by itself`)
    expect(reportLine(result.stdout, "counter")).toMatch(/  41 -> 42  updated \([0-9a-f]{7}\)  \[/)
    expect(reportLine(result.stdout, "undated")).toContain("  8.0.35 -> 8.0.36  updated")
    expect(reportLine(result.stdout, "undated")).toContain(
      ` on the 8.0 line: 8.3.0 is on a newer line; without release dates the default stays on 8.0 (version: "^" follows new lines)`
    )
    expect(result.stdout).toContain("5 targets: 4 updated, 0 would update, 0 up to date, 0 failed, 1 left alone\n")
  }, 90_000)

  test("spec.imageWatcher.defaultPolicy version ^ follows the newer line", async () => {
    const remote = await createRepo("lines-piped-default")
    const { path, dataDir } = config("lines-piped-default", remote, `  imageWatcher:\n    defaultPolicy: { version: "^" }\n`)
    const result = await runRunner(["--once", "--config", path, "--data-dir", dataDir])
    expect(result.code).toBe(0)
    await expectFollowed("lines-piped-default", result.stdout)
  }, 90_000)

  test("a watcher file's spec.defaultPolicy version ^ follows the newer line", async () => {
    const remote = await createRepo("lines-file-default", `{ version: "^" }`)
    const { path, dataDir } = config("lines-file-default", remote)
    const result = await runRunner(["--once", "--config", path, "--data-dir", dataDir])
    expect(result.code).toBe(0)
    await expectFollowed("lines-file-default", result.stdout)
  }, 90_000)

  test("service mode: the targets that stayed while a newer release exists are counted, and their events name it", async () => {
    const remote = await createRepo("lines-service")
    const { path, dataDir } = config("lines-service", remote, checkEvery("1h"))
    const d = await startDaemon(["--config", path, "--data-dir", dataDir, "--log-format", "json"])
    const newer = /^runner_targets_newer_outside_range\{pipeline="[^"]*piped.yaml",repo="lines-service"\} (\d+)$/m
    try {
      await until(async () => (await fetch(`${d.url}/readyz`)).status === 200, 30_000)
      // The maintained mysql line and the undated one; the others moved or float.
      await until(async () => (await metric(d, newer)) === 2, 5_000)
    } finally {
      expect(await stopDaemon(d)).toBe(0)
    }
    const events = d
      .stderr()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((e) => e.repo === "lines-service" && typeof e.outcome === "string")
    const of = (name: Name) => events.find((e) => e.image === imageOf(name))
    expect(of("mysql")).toMatchObject({ from: "8.0.35", to: "8.0.36", newer: "8.3.0", outcome: "updated" })
    expect(of("undated")).toMatchObject({ from: "8.0.35", to: "8.0.36", newer: "8.3.0", outcome: "updated" })
    for (const name of ["prometheus", "alias", "counter"] as const) {
      expect(of(name)).toBeDefined()
      expect(of(name)?.newer).toBeUndefined()
    }
  }, 90_000)

  test("release dates are kept in the data dir: a run within the provider's interval reads no manifest again", async () => {
    const proxy = await startPagingProxy(registry, 1000)
    try {
      const remote = await createRepo("lines-kept", undefined, proxy.host)
      const { path, dataDir } = config("lines-kept", remote, undefined, proxy.url)
      const manifests = () => proxy.requests.filter((r) => r.includes("/manifests/"))
      const first = await runRunner(["--once", "--dry-run", "--config", path, "--data-dir", dataDir])
      expect(first.code).toBe(0)
      // The maintained line and the undated one asked for dates; the others decided on the listing.
      const read = manifests()
      expect(read.filter((r) => r.startsWith("GET ") && r.includes("/lines/mysql/")).length).toBeGreaterThan(0)
      expect(read.filter((r) => r.startsWith("GET ") && r.includes("/lines/undated/")).length).toBeGreaterThan(0)
      const second = await runRunner(["--once", "--dry-run", "--config", path, "--data-dir", dataDir])
      expect(second.code).toBe(0)
      expect(manifests().slice(read.length)).toEqual([])
      expect(second.stdout.replace(/\d+ ms/g, "")).toBe(first.stdout.replace(/\d+ ms/g, ""))
    } finally {
      await proxy.stop()
    }
  }, 90_000)
})
