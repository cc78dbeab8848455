import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"
import { lineBreakIn, mentions, parseTemplate, renderLines, renderTemplate } from "../../src/domain/messageTemplate.ts"

const values = { image: "gcr.io/pipecd/foo", old: "0.1.0", tag: "0.2.0", digest: "sha256:abc", file: "foo/deploy.yaml", field: "$.spec.image", repoId: "config" }

describe("commit message templates", () => {
  test.each([
    ["chore: bump {{image}} to {{tag}} in {{file}}", "chore: bump gcr.io/pipecd/foo to 0.2.0 in foo/deploy.yaml"],
    ["{{image}}:{{old}} -> {{tag}}@{{digest}}", "gcr.io/pipecd/foo:0.1.0 -> 0.2.0@sha256:abc"],
    ["[{{repoId}}] {{field}}", "[config] $.spec.image"],
    ["{{ tag }} with spaces inside braces", "0.2.0 with spaces inside braces"],
    ["no placeholder at all", "no placeholder at all"],
    ["{{tag}}{{tag}}", "0.2.00.2.0"],
    ["single {braces} stay", "single {braces} stay"],
    ["", ""]
  ])("%j", (template, expected) => {
    expect(Either.map(parseTemplate(template), (t) => renderTemplate(t, values))).toEqual(Either.right(expected))
  })

  test.each([
    ["bump {{imag}}", "unknown placeholder {{imag}}"],
    ["bump {{}}", "unknown placeholder {{}}"],
    ["bump {{Tag}}", "unknown placeholder {{Tag}}"],
    ["two\nlines", "is one line"],
    ["two\rlines", "is one line"],
    ["two\u2028lines", "is one line"],
    ["two\u2029lines", "is one line"],
    ["two\u0085lines", "is one line"]
  ])("%j is refused", (template, part) => {
    const parsed = parseTemplate(template)
    expect(Either.isLeft(parsed) && parsed.left).toContain(part)
  })

  test("an unknown placeholder is a config error naming file, line and key", () => {
    const result = decodePipedConfigs(
      "conf/piped.yaml",
      `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  repositories:
    - repoId: config
      remote: https://example.com/config.git
  imageWatcher:
    gitRepos:
      - repoId: config
        commitMessage: "bump {{image}} to {{version}}"
        group: file
`
    )
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left.map((e) => [e.file, e.line, e.path])).toEqual([["conf/piped.yaml", 10, "spec.imageWatcher.gitRepos[0].commitMessage"]])
    expect(result.left[0]?.reason).toContain("unknown placeholder {{version}}")
  })

  test("group takes target, file or pass", () => {
    const result = decodePipedConfigs(
      "p.yaml",
      "apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n  repositories:\n    - {repoId: c, remote: r}\n  imageWatcher:\n    gitRepos:\n      - {repoId: c, group: repo}\n"
    )
    expect(Either.isLeft(result) && result.left[0]?.reason).toContain("expected one of target, file, pass")
  })
})

describe("values with line breaks", () => {
  test.each([
    ["none", values, undefined],
    ["a line feed in the field", { ...values, field: "$.spec['a\nSigned-off-by: m']" }, "field"],
    ["a carriage return in the file", { ...values, file: "a\r.yaml" }, "file"],
    ["a line separator in the old tag", { ...values, old: "1\u2028x" }, "old"],
    ["a paragraph separator in the image", { ...values, image: "a\u2029b" }, "image"],
    ["a next line in the digest", { ...values, digest: "sha256:\u0085" }, "digest"],
    ["a vertical tab in the tag", { ...values, tag: "1\v2" }, "tag"],
    ["tabs and spaces only", { ...values, old: "1\t 2" }, undefined]
  ])("%s", (_name, given, expected) => {
    expect(lineBreakIn(given)).toBe(expected)
  })
})

describe("templates of several lines (a request's body)", () => {
  test.each([
    ["Bumps {{image}}\n\nto {{tag}}", "Bumps gcr.io/pipecd/foo\n\nto 0.2.0"],
    ["one line {{tag}}", "one line 0.2.0"],
    ["a\r\nb {{old}}", "a\nb 0.1.0"],
    ["fine\nbut {{nope}}", undefined]
  ])("%j", (template, expected) => {
    expect(renderLines(template, values)).toEqual(expected)
  })

  test.each([
    ["{{digest}}", true],
    ["text\n{{ digest }} on a second line", true],
    ["{{tag}} only", false],
    ["digest without braces", false],
    [undefined, false]
  ])("%j mentions {{digest}}: %p", (template, expected) => {
    expect(mentions(template, "digest")).toBe(expected)
  })
})
