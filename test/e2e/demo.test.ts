/** The README's first command, `npm ci && npm run demo`, leaves a binary to try and says where. */
import { describe, expect, test } from "bun:test"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { ensureBuilt } from "../support/runner.ts"

const root = resolve(import.meta.dir, "../..")

describe("npm run demo", () => {
  test("builds dist/runner before it runs the demo on it", () => {
    const scripts: unknown = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")).scripts
    expect(scripts).toMatchObject({ demo: "bun build.ts && bun scripts/demo.ts dist/runner" })
  })

  test("the demo run on the binary updates the image, then names the binary and what to try with it", () => {
    ensureBuilt()
    const demo = spawnSync(process.execPath, ["scripts/demo.ts", "dist/runner"], { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } })
    expect(demo.status).toBe(0)
    expect(demo.stdout).toContain("gcr.io/pipecd/helloworld:0.2.0")
    const end = demo.stdout.slice(demo.stdout.indexOf("(demo files are in"))
    expect(end).toContain("The runner you just watched is dist/runner")
    expect(end).toContain("dist/runner --help")
    expect(end).toMatch(/dist\/runner validate --config \S+piped\.yaml/)
  }, 60_000)
})
