/**
 * Soak: the compiled daemon makes a few hundred passes (a 10 ms check interval, a file:// remote
 * and the tag store, so each pass does the whole fetch, diff and git round) while its resident
 * memory is sampled. A leak of anything kept per pass shows as growth from the first samples to
 * the last; garbage collection only makes the samples wobble.
 */
import { expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { checkEvery, storeProvider, writePipedConfig } from "../support/config.ts"
import { metric, startDaemon, stopDaemon } from "../support/daemon.ts"
import { startGitServer, type TestGitServer } from "../support/gitServer.ts"
import { runRunner, tempDir } from "../support/runner.ts"
import { useServers } from "../support/servers.ts"

const PASSES = 600
// The heap grows to its working size over the first couple of hundred passes, then stays.
const WARM_UP = 250
/** Allowed growth of the peak RSS between the first and the last third of the run. */
const MAX_GROWTH_MB = 24

let git: TestGitServer

useServers(() => ({ git: startGitServer() }), (s) => ({ git } = s))

const rssMb = (pid: number) => {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
  return Number(kb) / 1024
}

test(`${PASSES} passes of the daemon keep memory flat`, async () => {
  await git.createRepo("soak", {
    "app.yaml": "image: nginx:1.25.0\n",
    ".pipe/w.yaml": "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  targets:\n    - image: nginx\n      provider: ci\n      filePath: app.yaml\n      field: image\n"
  })
  const dir = tempDir("runner-soak-")
  const config = writePipedConfig(dir, { repoId: "soak", remote: `file://${git.root}/soak.git`, providers: storeProvider("ci", "10ms"), imageWatcher: checkEvery("10ms") })
  const dataDir = `${dir}/data`
  await runRunner(["notify", "--config", config, "--provider", "ci", "--image", "nginx", "--tag", "1.25.0", "--data-dir", dataDir])
  const daemon = await startDaemon(["--config", config, "--data-dir", dataDir, "--log-level", "error"])
  const passes = () => metric(daemon, /^runner_passes_total\{pipeline="[^"]*",result="success"\} (\d+)$/m).then((n) => (Number.isNaN(n) ? 0 : n))
  const samples: Array<{ passes: number; rss: number }> = []
  try {
    for (let n = 0; n < PASSES; n = await passes()) {
      if (n >= WARM_UP) samples.push({ passes: n, rss: rssMb(daemon.child.pid ?? 0) })
      await Bun.sleep(100)
    }
  } finally {
    expect(await stopDaemon(daemon)).toBe(0)
  }
  expect(daemon.stderr()).toBe("")
  const third = Math.floor(samples.length / 3)
  const peak = (s: ReadonlyArray<{ rss: number }>) => Math.max(...s.map((x) => x.rss))
  const [early, late] = [peak(samples.slice(0, third)), peak(samples.slice(-third))]
  console.log(`soak: ${samples.at(-1)?.passes} passes, peak RSS ${early.toFixed(1)} MB early, ${late.toFixed(1)} MB late`)
  expect(third).toBeGreaterThan(5)
  expect(late - early).toBeLessThan(MAX_GROWTH_MB)
  // Nothing changed: every pass found the file up to date and pushed nothing.
  expect((await git.log("soak")).length).toBe(1)
}, 180_000)
