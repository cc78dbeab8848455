import { describe, expect, test } from "bun:test"
import { spawnSync } from "node:child_process"
import { resolve } from "node:path"
import { Either } from "effect"
import { RE2JS } from "re2js"
import { compileRe2, expandTemplate } from "../../src/policy/re2.ts"
import { linearRegExp } from "../../src/policy/re2linear.ts"

const matches = (source: string, input: string) => Either.getOrThrow(compileRe2(source)).test(input)

describe("RE2 syntax", () => {
  test.each([
    ["named group", "^(?P<v>\\d+)$", "42", true],
    ["JavaScript named group", "^(?<v>\\d+)$", "42", true],
    ["case-insensitive flag", "(?i)^main-", "MAIN-1", true],
    ["multi-line flag", "(?m)^b$", "a\nb", true],
    ["without (?m), $ is the end of the text", "^b$", "b\na", false],
    ["dot stops at a newline", "^a.b$", "a\nb", false],
    ["(?s) lets dot match a newline", "(?s)^a.b$", "a\nb", true],
    ["flags in a group", "^(?i:main)-x$", "MAIN-x", true],
    ["\\A and \\z anchors", "\\Aab\\z", "ab", true],
    ["\\z does not match before a final newline", "ab\\z", "ab\n", false],
    ["\\Q…\\E literal", "^\\Q1.2+3\\E$", "1.2+3", true],
    ["\\Q…\\E literal is not a pattern", "^\\Q1.2\\E$", "1x2", false],
    ["POSIX digit class", "^[[:digit:]]+$", "0123", true],
    ["POSIX class with others", "^[[:alpha:]_]+$", "ab_c", true],
    ["POSIX class refuses others", "^[[:xdigit:]]+$", "xyz", false],
    ["negated POSIX class", "^[[:^digit:]]+$", "abc", true],
    ["negated POSIX class refuses", "^[[:^digit:]]+$", "a1", false],
    ["leading ] in a class is literal", "^[]a]+$", "]a]", true],
    ["ungreedy flag makes + lazy", "(?U)^a+", "aaa", true],
    ["Unicode letter class \\pL", "^\\pL+$", "héllo", true],
    ["Unicode class \\p{Greek}", "^\\p{Greek}+$", "αβγ", true],
    ["Unicode class \\p{Greek} refuses Latin", "^\\p{Greek}+$", "abc", false],
    ["negated Unicode class \\PL", "^\\PL+$", "123", true],
    ["word boundary", "\\bfoo\\b", "a foo b", true],
    ["no word boundary inside a word", "\\bfoo\\b", "afoob", false],
    ["\\d is ASCII only", "^\\d$", "٣", false],
    ["a code point is one character", "^.$", "😀", true],
    ["/ needs no escape", "^a/b$", "a/b", true]
  ] as const)("%s", (_name, source, input, expected) => {
    expect(matches(source, input)).toBe(expected)
  })

  test("(?U) swaps greediness, as in Go", () => {
    expect(Either.getOrThrow(compileRe2("(?U)a+")).exec("aaa")?.[0]).toBe("a")
    expect(Either.getOrThrow(compileRe2("(?U)a+?")).exec("aaa")?.[0]).toBe("aaa")
  })

  test.each([
    ["unbalanced group", "(a", "missing closing )"],
    ["unknown POSIX class", "[[:nope:]]", "invalid character class range"],
    ["bad class", "[z-a]", "invalid character class range"],
    ["repeat count above 1000", "a{1001}", "invalid repeat count"],
    ["backreference", "(a)\\1", "backreferences such as \\1 are not RE2 syntax"],
    ["lookahead", "a(?=b)", "lookahead and lookbehind assertions are not RE2 syntax"],
    ["negative lookahead", "a(?!b)", "lookahead and lookbehind assertions are not RE2 syntax"],
    ["lookbehind", "(?<=a)b", "lookahead and lookbehind assertions are not RE2 syntax"],
    ["negative lookbehind", "(?<!a)b", "lookahead and lookbehind assertions are not RE2 syntax"],
    ["unknown flag", "(?x)a", "invalid or unsupported Perl syntax"]
  ])("refuses %s", (_name, source, reason) => {
    const compiled = compileRe2(source)
    const message = Either.isLeft(compiled) ? compiled.left : "compiled"
    expect(message).toStartWith(`invalid regex ${JSON.stringify(source)}: `)
    expect(message).toContain(reason)
  })

  test("an escaped backslash before a digit is no backreference", () => {
    expect(matches("^a\\\\1$", "a\\1")).toBe(true)
  })
})

describe("the native fast path", () => {
  const inputs = ["", "main-3f2a1bc-1700000000", "MAIN-3F2A1BC-17", "1.2.3", "v1.2.3", "1.2.3-rc.1", "x.sig", "a/b/x", "aaa", "K-1", "\u212a-1", "ſ", "a\nb", "😀-1", "feature-x", "-rc.12"]
  const fast = [
    "^main-(?P<sha>[0-9a-f]+)-(?P<ts>\\d+)$", "^.*\\.sig$", "-rc\\.\\d+$", "^feature-", "(?i)MAIN-[0-9a-f]{7}", "^v?\\d+\\.\\d+\\.\\d+$",
    "^[^/]+/x$", "^.*$", "\\.sig$", "^x{2,5}y$", "(?i)^k-\\d$", "^[a-z]+-\\d+$", "^(?:a)(b)", "^[\\w.-]+$"
  ]
  test.each(fast)("%s runs natively and agrees with re2js", (source) => {
    expect(linearRegExp(source)).toBeDefined()
    const re2 = RE2JS.compile(source)
    const compiled = Either.getOrThrow(compileRe2(source))
    for (const input of inputs) {
      expect([input, compiled.test(input)]).toEqual([input, re2.test(input)])
      const m = compiled.exec(input)
      expect([input, m === null ? null : Array.from({ length: m.length }, (_, i) => m[i])]).toEqual([input, re2.exec(input)?.map((v) => v ?? undefined) ?? null])
    }
  })

  test.each([
    "^(a+)+$", "^(a|a?)+$", "^(.*a){25}$", "^.*.*x$", "^\\d+\\d+$", "a[ab]*c", "(?i)k+s", "^a+?b", "^(ab)*$", "(?m)^a$", "^\\s+$", "^\\pL$", "\\bx"
  ])("%s stays with re2js", (source) => {
    expect(linearRegExp(source)).toBeUndefined()
  })
})

describe("linear time", () => {
  const PATHOLOGICAL = ["^(a+)+$", "^(a|a?)+$", "^(.*a){25}$"]
  const tag = `${"a".repeat(127)}b`

  test.each(PATHOLOGICAL)("%s against a 128-character tag under Bun", (source) => {
    const re = Either.getOrThrow(compileRe2(source))
    const started = performance.now()
    expect(re.test(tag)).toBe(false)
    expect(re.exec(tag)).toBeNull()
    expect(performance.now() - started).toBeLessThan(200)
  })

  test("the same patterns under Deno", () => {
    const root = resolve(import.meta.dir, "../..")
    const script = `import { compileRe2 } from "./src/policy/re2.ts"
      const started = performance.now()
      const results = ${JSON.stringify(PATHOLOGICAL)}.map((p) => { const r = compileRe2(p); return r._tag === "Right" && r.right.test(${JSON.stringify(tag)}) })
      console.log(JSON.stringify({ results, ms: performance.now() - started }))`
    const deno = spawnSync(resolve(root, "node_modules/.bin/deno"), ["eval", "--quiet", script], {
      cwd: root,
      timeout: 20_000,
      encoding: "utf8",
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" }
    })
    expect(deno.stderr).toBe("")
    const out = JSON.parse(deno.stdout) as { results: Array<boolean>; ms: number }
    expect(out.results).toEqual([false, false, false])
    expect(out.ms).toBeLessThan(3_000)
  }, 30_000)
})

describe("extract templates", () => {
  const m = Either.getOrThrow(compileRe2("^(?P<branch>[a-z]+)-(?P<sha>[0-9a-f]+)-(?P<ts>\\d+)$")).exec("main-3f2a1bc-1700000000")
  const slow = Either.getOrThrow(compileRe2("^(?P<branch>[a-z]+|x)-(?P<sha>[0-9a-f]+)-(?P<ts>\\d+)$")).exec("main-3f2a1bc-1700000000")
  test.each([
    ["$1", "main"],
    ["$3", "1700000000"],
    ["$ts", "1700000000"],
    ["${branch}.${ts}", "main.1700000000"],
    ["$ts$sha", "17000000003f2a1bc"],
    ["$$ts", "$ts"],
    ["$tsx", ""],
    ["${nope}-x", "-x"],
    ["literal", "literal"]
  ])("%s", (template, expected) => {
    if (m === null || slow === null) throw new Error("no match")
    expect(expandTemplate(template, m)).toBe(expected)
    expect(expandTemplate(template, slow)).toBe(expected)
  })

  test("a group that took no part expands to nothing", () => {
    const none = Either.getOrThrow(compileRe2("^(?P<a>x)|(?P<b>y)$")).exec("y")
    if (none === null) throw new Error("no match")
    expect(expandTemplate("[$a][$b][$1]", none)).toBe("[][y][]")
  })
})
