/**
 * `bun test` ends with a list of the failed tests by name only, with no file. Run as
 * `bun test/support/failedTests.ts [bun test arguments]`, this runs `bun test` with them, its
 * console output unchanged, and with a JUnit report on the side; if tests failed, it then prints
 * each failure the report holds as `(fail) file:line > describe > test`, and each file with an
 * error outside any test (one that failed to load is not in the report) as `(error) file`, and
 * exits as bun did.
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

/**
 * The failed test cases of a JUnit report as bun writes it, one line each, naming the file (and
 * the line, when bun gives one: not for a failed hook). The describe blocks are read from the
 * nesting of the suites: bun writes a nested case's classname innermost first.
 */
export const failedTests = (report: string): ReadonlyArray<string> => {
  const suites: Array<string> = []
  const failed: Array<string> = []
  for (const [token, suite, attributes, body] of report.matchAll(/<testsuite\b([^>]*)>|<\/testsuite>|<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (suite !== undefined) {
      if (!suite.endsWith("/")) suites.push(attribute(suite, "name"))
    } else if (token === "</testsuite>") {
      suites.pop()
    } else if (attributes !== undefined && body !== undefined && /<(?:failure|error)\b/.test(body)) {
      // The outermost suite is the file.
      const names = [...suites.slice(1), attribute(attributes, "name")].filter((n) => n !== "")
      const line = attribute(attributes, "line")
      failed.push(`(fail) ${attribute(attributes, "file")}${line === "" ? "" : `:${line}`} > ${names.join(" > ")}`)
    }
  }
  return failed
}

/** Bun's console output without colours. */
const plain = (output: string) => output.replace(/\u001b\[[0-9;]*m/g, "")

/**
 * The files of an error outside any test, from bun's console output: a file that failed to load
 * is absent from the report, and the output says which it was only in the header above the error.
 */
export const erroredFiles = (output: string): ReadonlyArray<string> => {
  let file: string | undefined
  const errored = new Set<string>()
  for (const line of plain(output).split(/\r?\n/)) {
    const header = /^(\S+\.(?:test|spec)\.[cm]?[jt]sx?):$/.exec(line)
    if (header?.[1] !== undefined) file = header[1]
    else if (line.startsWith("# Unhandled error between tests") && file !== undefined) errored.add(file)
  }
  return [...errored].map((f) => `(error) ${f} > an error outside any test (it did not load, or threw between tests): see above`)
}

if (import.meta.main) {
  const dir = mkdtempSync(join(tmpdir(), "runner-test-report-"))
  const report = join(dir, "junit.xml")
  const run = Bun.spawn([process.execPath, "test", ...process.argv.slice(2), "--reporter=junit", `--reporter-outfile=${report}`], {
    stdio: ["inherit", "inherit", "pipe"],
    env: { ...process.env, ...(process.stderr.isTTY ? { FORCE_COLOR: "1" } : {}) }
  })
  // bun writes its per-test lines and summary to stderr: passed on as they come, and kept to be read.
  let output = ""
  const decoder = new TextDecoder()
  const reader = run.stderr.getReader()
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    process.stderr.write(chunk.value)
    output += decoder.decode(chunk.value, { stream: true })
  }
  const exitCode = await run.exited
  const failed = [...(existsSync(report) ? failedTests(readFileSync(report, "utf8")) : []), ...erroredFiles(output)]
  rmSync(dir, { recursive: true, force: true })
  if (failed.length > 0) process.stderr.write(`\n${failed.length} tests failed, by file:\n${failed.join("\n")}\n`)
  process.exit(exitCode)
}
