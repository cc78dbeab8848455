/** Piped's chart sources: spec.chartRepositories and spec.chartRegistries, with PipeCD's keys and defaults. */
import { describe, expect, test } from "bun:test"
import { Duration, Either, Redacted } from "effect"
import type { Pipeline } from "../../src/config/model.ts"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"

/** A Piped document whose spec body starts on line 4. */
const piped = (body: string) => "apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n" + body

const only = (text: string): Pipeline => {
  const result = decodePipedConfigs("piped.yaml", text)
  if (Either.isLeft(result)) throw new Error(result.left.map((e) => e.display).join("\n"))
  const [pipeline] = result.right
  if (pipeline === undefined) throw new Error("no pipeline")
  return pipeline
}

const valid: ReadonlyArray<{ readonly name: string; readonly text: string; readonly check: (p: Pipeline) => void }> = [
  {
    name: "none declared: both lists empty",
    text: piped("  repositories: []\n"),
    check: (p) => expect([p.chartRepositories, p.chartRegistries]).toEqual([[], []])
  },
  {
    name: "PipeCD's documented example: HTTP by default, the listing interval's default, address without trailing slash",
    text: piped("  chartRepositories:\n    - name: pipecd\n      address: https://charts.pipecd.dev/\n"),
    check: (p) => {
      expect(p.chartRepositories).toEqual([
        { type: "HTTP", name: "pipecd", address: "https://charts.pipecd.dev", insecure: false, interval: Duration.minutes(5), source: { file: "piped.yaml", line: 5 } }
      ])
    }
  },
  {
    name: "basic auth and insecure: the password redacted",
    text: piped("  chartRepositories:\n    - type: HTTP\n      name: private\n      address: http://charts.internal:8080/sub\n      username: bot\n      password: s3cret\n      insecure: true\n"),
    check: (p) => {
      const [repository] = p.chartRepositories
      if (repository?.type !== "HTTP") throw new Error("expected an HTTP repository")
      expect([repository.address, repository.username, repository.insecure]).toEqual(["http://charts.internal:8080/sub", "bot", true])
      expect(repository.password === undefined ? undefined : Redacted.value(repository.password)).toBe("s3cret")
      expect(String(repository.password)).not.toContain("s3cret")
      expect(JSON.stringify(p)).not.toContain("s3cret")
    }
  },
  {
    name: "a GIT repository is kept with its remote, named or not",
    text: piped("  chartRepositories:\n    - type: GIT\n      gitRemote: git@github.com:org/charts.git\n      sshKeyFile: /etc/piped-secret/key\n    - type: GIT\n      name: gitcharts\n      gitRemote: https://example.com/charts.git\n"),
    check: (p) =>
      expect(p.chartRepositories.map((r) => [r.type, r.name, r.type === "GIT" ? r.gitRemote : ""])).toEqual([
        ["GIT", undefined, "git@github.com:org/charts.git"],
        ["GIT", "gitcharts", "https://example.com/charts.git"]
      ])
  },
  {
    name: "OCI registries by address: PipeCD's example, oci:// and case dropped, a port and a path kept",
    text: piped("  chartRegistries:\n    - type: OCI\n      address: registry.example.com\n      username: sample-username\n      password: sample-password\n    - address: oci://Registry.Example.com:5000/charts/\n"),
    check: (p) => {
      expect(p.chartRegistries.map((r) => [r.type, r.address, r.username, r.source.line])).toEqual([
        ["OCI", "registry.example.com", "sample-username", 5],
        ["OCI", "registry.example.com:5000/charts", undefined, 9]
      ])
      expect(p.chartRegistries[0]?.password === undefined ? "" : Redacted.value(p.chartRegistries[0].password)).toBe("sample-password")
      expect(JSON.stringify(p)).not.toContain("sample-password")
    }
  }
]

describe("chart sources: valid configs", () => {
  test.each(valid)("$name", ({ text, check }) => check(only(text)))
})

const invalid: ReadonlyArray<{ readonly name: string; readonly text: string; readonly errors: ReadonlyArray<readonly [number, string, string]> }> = [
  {
    name: "an HTTP repository without name or address",
    text: piped("  chartRepositories:\n    - username: bot\n"),
    errors: [[5, "spec.chartRepositories[0].name", "needs a name"], [5, "spec.chartRepositories[0].address", "needs an address"]]
  },
  {
    name: "duplicate names, a GIT one included",
    text: piped("  chartRepositories:\n    - name: a\n      address: https://a.example\n    - type: GIT\n      name: a\n      gitRemote: r\n"),
    errors: [[8, "spec.chartRepositories[1].name", "duplicate chart repository name \"a\" (first declared on line 5)"]]
  },
  {
    name: "a non-http(s) address",
    text: piped("  chartRepositories:\n    - name: a\n      address: ftp://a.example\n"),
    errors: [[6, "spec.chartRepositories[0].address", "expected an http:// or https:// URL"]]
  },
  {
    name: "credentials in the address",
    text: piped("  chartRepositories:\n    - name: a\n      address: https://bot:s3cret@a.example\n"),
    errors: [[6, "spec.chartRepositories[0].address", "use username and password"]]
  },
  {
    name: "an unknown type and an unknown key",
    text: piped("  chartRepositories:\n    - type: S3\n      name: a\n      bucket: b\n"),
    errors: [[5, "spec.chartRepositories[0].type", "expected one of HTTP, GIT"], [7, "spec.chartRepositories[0].bucket", "unknown key"]]
  },
  {
    name: "a GIT repository without gitRemote",
    text: piped("  chartRepositories:\n    - type: GIT\n      name: g\n"),
    errors: [[5, "spec.chartRepositories[0].gitRemote", "needs gitRemote"]]
  },
  {
    name: "a password without username",
    text: piped("  chartRepositories:\n    - name: a\n      address: https://a.example\n      password: s3cret\n"),
    errors: [[7, "spec.chartRepositories[0].password", "password needs username"]]
  },
  {
    name: "a registry without address, one with a scheme, a duplicate",
    text: piped("  chartRegistries:\n    - username: u\n      password: p\n    - address: https://r.example\n    - address: r.example\n    - address: R.example/\n"),
    errors: [
      [5, "spec.chartRegistries[0].address", "a chart registry needs an address"],
      [7, "spec.chartRegistries[1].address", "expected a registry host"],
      [9, "spec.chartRegistries[3].address", "duplicate chart registry address \"r.example\" (first declared on line 8)"]
    ]
  },
  {
    name: "a registry has no name",
    text: piped("  chartRegistries:\n    - address: s.example\n      name: s\n"),
    errors: [[6, "spec.chartRegistries[0].name", "unknown key"]]
  }
]

describe("chart sources: errors carry line and key path", () => {
  test.each(invalid)("$name", ({ text, errors }) => {
    const result = decodePipedConfigs("piped.yaml", text)
    if (Either.isRight(result)) throw new Error("expected errors, got a pipeline")
    expect(result.left.map((e) => [e.line, e.path])).toEqual(errors.map(([line, path]) => [line, path]))
    result.left.forEach((error, index) => expect(error.reason).toContain(errors[index]?.[2] ?? ""))
    expect(result.left.some((e) => e.message.includes("s3cret"))).toBe(false)
  })
})
