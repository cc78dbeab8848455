import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { compileRe2, expandTemplate } from "../../src/policy/re2.ts"

describe("RE2 syntax", () => {
  test.each([
    ["named group", "^(?P<v>\\d+)$", "42", true],
    ["JavaScript named group", "^(?<v>\\d+)$", "42", true],
    ["case-insensitive flag", "(?i)^main-", "MAIN-1", true],
    ["multi-line flag", "(?m)^b$", "a\nb", true],
    ["\\A and \\z anchors", "\\Aab\\z", "ab", true],
    ["\\z does not match before a final newline", "ab\\z", "ab\n", false],
    ["\\Q…\\E literal", "^\\Q1.2+3\\E$", "1.2+3", true],
    ["\\Q…\\E literal is not a pattern", "^\\Q1.2\\E$", "1x2", false],
    ["POSIX digit class", "^[[:digit:]]+$", "0123", true],
    ["POSIX class with others", "^[[:alpha:]_]+$", "ab_c", true],
    ["POSIX class refuses others", "^[[:xdigit:]]+$", "xyz", false],
    ["leading ] in a class is literal", "^[]a]+$", "]a]", true]
  ] as const)("%s", (_name, source, input, matches) => {
    expect(Either.getOrThrow(compileRe2(source)).test(input)).toBe(matches)
  })

  test.each([
    ["unbalanced group", "(a"],
    ["unknown POSIX class", "[[:nope:]]"],
    ["ungreedy flag", "(?U)a+"],
    ["bad class", "[z-a]"]
  ])("refuses %s", (_name, source) => {
    const compiled = compileRe2(source)
    expect(Either.isLeft(compiled) ? compiled.left : "compiled").toContain("invalid regex")
  })
})

describe("extract templates", () => {
  const m = Either.getOrThrow(compileRe2("^(?P<branch>[a-z]+)-(?P<sha>[0-9a-f]+)-(?P<ts>\\d+)$")).exec("main-3f2a1bc-1700000000")
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
    if (m === null) throw new Error("no match")
    expect(expandTemplate(template, m)).toBe(expected)
  })
})
