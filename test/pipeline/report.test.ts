/** Foreign text in the report: one line per target whatever a server or a file says. */
import { describe, expect, test } from "bun:test"
import { oneLine } from "../../src/domain/foreignText.ts"
import { ConfigFailure, GitFailure, RegistryFailure } from "../../src/domain/failures.ts"
import { formatReport, type PassReport, reportLines, type ScopeFailure, type TargetReport } from "../../src/pipeline/report.ts"

const forged = "boom\napp  deploy.yaml  spec.image  evil/app  1.0 -> 9.9  updated (deadbee)\u001b[2J\u001b]0;owned\u0007"

const target = (outcome: TargetReport["outcome"]): TargetReport => ({
  pipeline: "p",
  repoId: "app",
  watcherFile: ".pipe/w.yaml",
  line: 1,
  filePath: "deploy.yaml",
  field: "spec.image",
  image: "example.com/app",
  current: "1.0",
  chosen: undefined,
  listed: undefined,
  kept: undefined,
  outcome,
})

const registryFailure = new RegistryFailure({
  provider: "hostile",
  cause: { _tag: "RegistryError", reason: "Server", message: `server error (500): ${forged}` },
})

const report: PassReport = {
  targets: [target({ _tag: "Failed", failure: registryFailure })],
  failures: [{ pipeline: "p", repoId: "app", scope: "app", failure: new GitFailure({ operation: "fetch", kind: "other", detail: forged }) }],
  diffs: [],
}

describe("the report with a hostile server's message", () => {
  test("each target and failure stays on its line, escapes visible", () => {
    const text = formatReport(report)
    // Two lines and the counts: no forged line.
    expect(text.split("\n")).toHaveLength(4)
    expect(text).not.toContain("\u001b")
    expect(text).not.toContain("\u0007")
    expect(text).not.toMatch(/^app {2}deploy\.yaml {2}spec\.image {2}evil/m)
    const [first = "", second = ""] = reportLines(report).map((line) => line.text)
    expect(first).toContain("failed: provider hostile: server error (500): boom\\napp  deploy.yaml")
    expect(first).toContain("updated (deadbee)\\x1b[2J\\x1b]0;owned\\x07")
    expect(second).toStartWith("app  failed: boom\\napp")
    expect(reportLines(report).at(-1)?.text).toBe("1 targets: 0 updated, 0 would update, 0 up to date, 1 failed; 1 repository failed")
  })

  test("a watcher file's own text is rendered the same way", () => {
    const [line] = reportLines({
      targets: [target({ _tag: "Failed", failure: new ConfigFailure({ detail: "field\r\nx\u202etxt.exe" }) })],
      failures: [],
      diffs: [],
    })
    expect(line?.text).toContain("failed: field\\r\\nx\\u202etxt.exe")
  })
})

describe("the summary line counts what failed whole apart from targets", () => {
  const gitFailure = new GitFailure({ operation: "clone", kind: "notFound", detail: "no such repository" })
  const failure = (level: "repository" | "watcher file"): ScopeFailure => ({
    pipeline: "p",
    repoId: "app",
    scope: "app",
    ...(level === "watcher file" ? { file: ".pipe/images.yaml" } : {}),
    failure: gitFailure
  })
  const upToDate = target({ _tag: "UpToDate" })
  test.each<readonly [string, ReadonlyArray<TargetReport>, ReadonlyArray<ScopeFailure>, string]>([
    ["nothing failed", [upToDate], [], "1 targets: 0 updated, 0 would update, 1 up to date, 0 failed"],
    ["a repository that could not be cloned", [], [failure("repository")], "0 targets: 0 updated, 0 would update, 0 up to date, 0 failed; 1 repository failed"],
    [
      "two repositories and a watcher file beside a failed target",
      [upToDate, target({ _tag: "Failed", failure: registryFailure })],
      [failure("repository"), failure("watcher file"), failure("repository")],
      "2 targets: 0 updated, 0 would update, 1 up to date, 1 failed; 2 repositories failed, 1 watcher file failed"
    ],
    ["watcher files only", [upToDate], [failure("watcher file"), failure("watcher file")], "1 targets: 0 updated, 0 would update, 1 up to date, 0 failed; 2 watcher files failed"]
  ])("%s", (_, targets, failures, summary) => {
    expect(reportLines({ targets, failures, diffs: [] }).at(-1)?.text).toBe(summary)
  })
})

describe("oneLine", () => {
  test.each([
    ["plain text, unicode é ✓", "plain text, unicode é ✓"],
    ["a\nb", "a\\nb"],
    ["tab\there", "tab\\there"],
    ["\u001b[31mred", "\\x1b[31mred"],
    ["c1 \u009b2J", "c1 \\x9b2J"],
    ["del \u007f", "del \\x7f"],
    ["line\u2028sep", "line\\u2028sep"],
    ["rlo \u202egnp.exe", "rlo \\u202egnp.exe"],
    ["isolate \u2066x\u2069", "isolate \\u2066x\\u2069"],
    ["nul \u0000", "nul \\x00"],
  ])("%j", (input, expected) => {
    expect(oneLine(input)).toBe(expected)
  })
})
