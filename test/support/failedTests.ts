/**
 * `bun test` ends with a list of the failed tests by name only, with no file. Run as
 * `bun test/support/failedTests.ts [bun test arguments]`, this runs `bun test` with them, its
 * console output unchanged, and with a JUnit report on the side; if tests failed, it then prints
 * each failure the report holds as `(fail) file:line > describe > test`, and exits as bun did.
 * Bun leaves out of the report a file that failed to load; its error stays in the output above.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" }

const unescaped = (text: string) =>
  text.replace(/&(?:#(\d+)|(\w+));/g, (whole, code: string | undefined, name: string | undefined) =>
    code !== undefined ? String.fromCharCode(Number(code)) : (ENTITIES[name ?? ""] ?? whole)
  )

const attribute = (attributes: string, name: string) => unescaped(new RegExp(`\\b${name}="([^"]*)"`).exec(attributes)?.[1] ?? "")

/** The failed test cases of a JUnit report as bun writes it, one line each, naming the file. */
export const failedTests = (report: string): ReadonlyArray<string> =>
  [...report.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)]
    .filter(([, , body]) => body !== undefined && /<(?:failure|error)\b/.test(body))
    .map(([, attributes = ""]) => {
      const names = [attribute(attributes, "classname"), attribute(attributes, "name")].filter((n) => n !== "")
      return `(fail) ${attribute(attributes, "file")}:${attribute(attributes, "line")} > ${names.join(" > ")}`
    })

if (import.meta.main) {
  const dir = mkdtempSync(join(tmpdir(), "runner-test-report-"))
  const report = join(dir, "junit.xml")
  const run = Bun.spawnSync([process.execPath, "test", ...process.argv.slice(2), "--reporter=junit", `--reporter-outfile=${report}`], {
    stdio: ["inherit", "inherit", "inherit"]
  })
  const failed = existsSync(report) ? failedTests(readFileSync(report, "utf8")) : []
  rmSync(dir, { recursive: true, force: true })
  if (failed.length > 0) process.stderr.write(`\n${failed.length} tests failed, by file:\n${failed.join("\n")}\n`)
  process.exit(run.exitCode ?? 1)
}
