import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parseFieldPath, type Segment } from "../../src/manifest/FieldPath.ts"
import { findScalars, type PatchError, type ScalarHit, spliceScalars } from "../../src/manifest/patch.ts"

const segments = (path: string): ReadonlyArray<Segment> => {
  const parsed = parseFieldPath(path)
  if (Either.isLeft(parsed)) throw new Error(parsed.left.message)
  return parsed.right
}

const hitsOf = (text: string, path: string): ReadonlyArray<ScalarHit> => {
  const found = findScalars(text, segments(path))
  if (Either.isLeft(found)) throw new Error(`unexpected ${found.left.reason}: ${found.left.message}`)
  return found.right
}

const errorOf = <A>(result: Either.Either<A, PatchError>): PatchError => {
  if (Either.isRight(result)) throw new Error(`expected an error, got ${JSON.stringify(result.right)}`)
  return result.left
}

/** Patches every hit of the path with the value. */
const patch = (text: string, path: string, value: string): Either.Either<string, PatchError> =>
  Either.flatMap(findScalars(text, segments(path)), (hits) =>
    spliceScalars(text, hits.map((hit) => ({ hit, value }))))

type Found = Pick<ScalarHit, "document" | "line" | "value" | "source" | "style">

const finds: ReadonlyArray<readonly [string, string, string, ReadonlyArray<Found>]> = [
  ["plain string", "a:\n  b: x:1 # c\n", "a.b", [{ document: 0, line: 2, value: "x:1", source: "x:1", style: "PLAIN" }]],
  ["number keeps its spelling", "tag: 1.10\n", "tag", [{ document: 0, line: 1, value: "1.10", source: "1.10", style: "PLAIN" }]],
  ["bool keeps its spelling", "tag: true\n", "tag", [{ document: 0, line: 1, value: "true", source: "true", style: "PLAIN" }]],
  ["int keeps its spelling", "tag: 007\n", "tag", [{ document: 0, line: 1, value: "007", source: "007", style: "PLAIN" }]],
  ["null keeps its spelling", "tag: ~\n", "tag", [{ document: 0, line: 1, value: "~", source: "~", style: "PLAIN" }]],
  ["double-quoted value is unescaped", 'x: "a\\"b"\n', "x", [{ document: 0, line: 1, value: 'a"b', source: '"a\\"b"', style: "QUOTE_DOUBLE" }]],
  ["single-quoted value is unescaped", "x: 'it''s'\n", "x", [{ document: 0, line: 1, value: "it's", source: "'it''s'", style: "QUOTE_SINGLE" }]],
  ["quoted number stays as written", 'x: "1.10"\n', "x", [{ document: 0, line: 1, value: "1.10", source: '"1.10"', style: "QUOTE_DOUBLE" }]],
  ["block literal", "x: |\n  hi\n", "x", [{ document: 0, line: 1, value: "hi\n", source: "|\n  hi\n", style: "BLOCK_LITERAL" }]],
  ["block folded", "x: >-\n  hi\n", "x", [{ document: 0, line: 1, value: "hi", source: ">-\n  hi\n", style: "BLOCK_FOLDED" }]],
  ["sequence index", "l:\n- a\n- b\n", "l[1]", [{ document: 0, line: 3, value: "b", source: "b", style: "PLAIN" }]],
  ["flow sequence", "l: [a, b]\n", "l[1]", [{ document: 0, line: 1, value: "b", source: "b", style: "PLAIN" }]],
  ["index past the end", "l: [a]\n", "l[1]", []],
  ["missing key", "a: 1\n", "b", []],
  ["index into a map", "a: {b: 1}\n", "a[0]", []],
  ["key into a scalar", "a: x\n", "a.b", []],
  ["number key compared as string", "ports:\n  80: http\n", "ports['80']", [{ document: 0, line: 2, value: "http", source: "http", style: "PLAIN" }]],
  ["float key compared by spelling", "v:\n  1.10: yes\n", "v['1.10']", [{ document: 0, line: 2, value: "yes", source: "yes", style: "PLAIN" }]],
  ["empty file", "", "a", []],
  ["comment-only file", "# nothing\n", "a", []],
  ["every resolving document", "a: 1\n---\nb: 2\n---\na: 3\n", "a", [
    { document: 0, line: 1, value: "1", source: "1", style: "PLAIN" },
    { document: 2, line: 5, value: "3", source: "3", style: "PLAIN" }
  ]],
  ["through an alias to the anchor", "x: &v one\ny: *v\n", "y", [{ document: 0, line: 1, value: "one", source: "one", style: "PLAIN" }]],
  ["through an aliased map", "base: &b {img: a:1}\nuse: *b\n", "use.img", [{ document: 0, line: 1, value: "a:1", source: "a:1", style: "PLAIN" }]],
  ["CRLF line numbers", "a: 1\r\nb: 2\r\n", "b", [{ document: 0, line: 2, value: "2", source: "2", style: "PLAIN" }]]
]

const findErrors: ReadonlyArray<readonly [string, string, string, PatchError["reason"], number | undefined]> = [
  ["map at the end of the path", "a:\n  b: 1\n", "a", "NotScalar", 2],
  ["sequence at the end of the path", "a:\n  - 1\n", "a", "NotScalar", 2],
  ["broken YAML", "a: 1\nb: [1, 2\n", "a", "YamlSyntax", 3],
  ["broken second document", "a: 1\n---\na: b: c\n", "a", "YamlSyntax", 3],
  ["duplicate keys", "a: 1\na: 2\n", "a", "YamlSyntax", 2],
  ["duplicate keys in a flow map", "x: 0\nb: {a: 1,\n  a: 2}\n", "x", "YamlSyntax", 3],
  ["duplicate keys in a nested map of a list", "l:\n- n:\n    a: 1\n    a: 2\n", "l", "YamlSyntax", 4],
  ["duplicate keys that are numbers by value", "1: a\n1.0: b\n", "x", "YamlSyntax", 2],
  ["duplicate keys in a later document", "a: 1\n---\nb: 1\nb: 2\n", "a", "YamlSyntax", 4]
]

const distinctKeys: ReadonlyArray<readonly [string, string]> = [
  ["a number and a string", "1: a\n'1': b\n"],
  ["the same key in two maps", "a: {k: 1}\nb: {k: 2}\n"],
  ["the same key in two documents", "k: 1\n---\nk: 2\n"],
  ["two map keys with the same contents", "? {a: 1}\n: x\n? {a: 1}\n: y\n"]
]

describe("findScalars", () => {
  test.each(finds)("%s", (_, text, path, expected) => {
    const hits = hitsOf(text, path)
    expect(hits.map(({ document, line, value, source, style }) => ({ document, line, value, source, style }))).toEqual([
      ...expected
    ])
    for (const hit of hits) expect(text.slice(hit.start, hit.end)).toBe(hit.source)
  })

  test.each(findErrors)("%s", (_, text, path, reason, line) => {
    const error = errorOf(findScalars(text, segments(path)))
    expect(error.reason).toBe(reason)
    expect(error.line).toBe(line)
  })

  test.each(distinctKeys)("keys are not repeats: %s", (_, text) => {
    expect(Either.isRight(findScalars(text, segments("x")))).toBe(true)
  })

  test("a map of 50,000 keys parses in linear time (yaml's own key check took over 20 s)", () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `k${i}: v`).join("\n") + "\nk7: again\n"
    const started = performance.now()
    const error = errorOf(findScalars(text, segments("k1")))
    expect((performance.now() - started) / 1000).toBeLessThan(5)
    expect(error.line).toBe(50_001)
  })
})

const splices: ReadonlyArray<readonly [string, string, string, string, string]> = [
  ["plain stays plain", "a: x:1\n", "a", "x:2", "a: x:2\n"],
  ["plain keeps the trailing comment", "a: x:1   # keep\n", "a", "x:22", "a: x:22   # keep\n"],
  ["plain float is quoted", "a: 1.0.0\n", "a", "1.10", 'a: "1.10"\n'],
  ["plain int is quoted", "a: v1\n", "a", "10", 'a: "10"\n'],
  ["plain hex is quoted", "a: v1\n", "a", "0x10", 'a: "0x10"\n'],
  ["plain exponent is quoted", "a: v1\n", "a", "1e3", 'a: "1e3"\n'],
  ["plain true is quoted", "a: v1\n", "a", "true", 'a: "true"\n'],
  ["plain null is quoted", "a: v1\n", "a", "null", 'a: "null"\n'],
  ["plain tilde is quoted", "a: v1\n", "a", "~", 'a: "~"\n'],
  ["YAML 1.1 boolean is quoted", "a: v1\n", "a", "on", 'a: "on"\n'],
  ["YAML 1.1 sexagesimal is quoted", "a: v1\n", "a", "1:20", 'a: "1:20"\n'],
  ["empty string is quoted", "a: v1\n", "a", "", 'a: ""\n'],
  ["leading alias indicator is quoted", "a: v1\n", "a", "*x", 'a: "*x"\n'],
  ["leading anchor indicator is quoted", "a: v1\n", "a", "&x", 'a: "&x"\n'],
  ["leading tag indicator is quoted", "a: v1\n", "a", "!x", 'a: "!x"\n'],
  ["leading quote is quoted", "a: v1\n", "a", "'x", 'a: "\'x"\n'],
  ["leading dash-space is quoted", "a: v1\n", "a", "- x", 'a: "- x"\n'],
  ["leading percent is quoted", "a: v1\n", "a", "%x", 'a: "%x"\n'],
  ["colon-space is quoted", "a: v1\n", "a", "k: v", 'a: "k: v"\n'],
  ["space-hash is quoted", "a: v1\n", "a", "x #y", 'a: "x #y"\n'],
  ["dash without space stays plain", "a: v1\n", "a", "-x", "a: -x\n"],
  ["comma stays plain in block context", "a: v1\n", "a", "x,y", "a: x,y\n"],
  ["comma is quoted in flow map", "a: {b: v1}\n", "a.b", "x,y", 'a: {b: "x,y"}\n'],
  ["bracket is quoted in flow seq", "a: [v1]\n", "a[0]", "x]", 'a: ["x]"]\n'],
  ["double quotes escape backslash and quote", 'a: "v1"\n', "a", 'x\\"y', 'a: "x\\\\\\"y"\n'],
  ["double quotes escape a newline", 'a: "v1"\n', "a", "x\ny", 'a: "x\\ny"\n'],
  ["single quotes double the apostrophe", "a: 'v1'\n", "a", "it's", "a: 'it''s'\n"],
  ["single quotes fall back to double for a newline", "a: 'v1'\n", "a", "x\ny", 'a: "x\\ny"\n'],
  ["single-quoted number stays quoted", "a: '1.0'\n", "a", "1.10", "a: '1.10'\n"],
  ["empty value gets a space", "a:\nb: 1\n", "a", "v2", "a: v2\nb: 1\n"],
  ["anchor kept, aliases follow", "a: &x v1 # c\nb: *x\n", "b", "v2", "a: &x v2 # c\nb: *x\n"],
  ["tagged scalar keeps its tag", "a: !!str v1\n", "a", "1.10", 'a: !!str "1.10"\n'],
  ["no final newline", "a: v1", "a", "v2", "a: v2"],
  ["CRLF", "a: v1\r\nb: v1\r\n", "b", "v2", "a: v1\r\nb: v2\r\n"],
  ["all resolving documents", "a: v1\n---\nb: v1\n---\na: v1\n...\n", "a", "v2", "a: v2\n---\nb: v1\n---\na: v2\n...\n"],
  ["longer then shorter edits keep offsets", "l: [v1, v1, v1]\n", "l[0]", "longer-value", "l: [longer-value, v1, v1]\n"]
]

describe("spliceScalars", () => {
  test.each(splices)("%s", (_, text, path, value, expected) => {
    expect(patch(text, path, value)).toEqual(Either.right(expected))
  })

  test("several edits in one file apply from the end", () => {
    const text = "l: [a, bb, ccc] # x\nm: {k: 'q'}\n"
    const edits = [
      ...hitsOf(text, "l[0]").map((hit) => ({ hit, value: "AAAA" })),
      ...hitsOf(text, "l[2]").map((hit) => ({ hit, value: "C" })),
      ...hitsOf(text, "m.k").map((hit) => ({ hit, value: "r's" }))
    ]
    expect(spliceScalars(text, edits)).toEqual(Either.right("l: [AAAA, bb, C] # x\nm: {k: 'r''s'}\n"))
  })

  test("no edits is the identity", () => {
    expect(spliceScalars("a: 1 # c\n", [])).toEqual(Either.right("a: 1 # c\n"))
  })

  const spliceErrors: ReadonlyArray<readonly [string, () => Either.Either<string, PatchError>, PatchError["reason"]]> = [
    ["block literal is refused", () => patch("a: |\n  v1\n", "a", "v2"), "Unrepresentable"],
    ["block folded is refused", () => patch("a: >\n  v1\n", "a", "v2"), "Unrepresentable"],
    ["conflicting edits of one anchored scalar", () => {
      const text = "a: &x v1\nb: *x\n"
      const [hit] = hitsOf(text, "b")
      if (hit === undefined) throw new Error("no hit")
      return spliceScalars(text, [{ hit, value: "v2" }, { hit, value: "v3" }])
    }, "Unrepresentable"],
    ["hit from another text", () => {
      const [hit] = hitsOf("a: v1\n", "a")
      if (hit === undefined) throw new Error("no hit")
      return spliceScalars("a: zz\n", [{ hit, value: "v2" }])
    }, "NotScalar"],
    ["hit pointing at a key", () => {
      const [hit] = hitsOf("v1: v1\n", "v1")
      if (hit === undefined) throw new Error("no hit")
      return spliceScalars("v1: v1\n", [{ hit: { ...hit, start: 0, end: 2 }, value: "v2" }])
    }, "NotScalar"],
    ["broken input", () => spliceScalars("a: [\n", []), "YamlSyntax"]
  ]

  test.each(spliceErrors)("%s", (_, run, reason) => {
    expect(errorOf(run()).reason).toBe(reason)
  })
})

interface GoldenCase {
  readonly path: string
  readonly value: string
  readonly expectError?: PatchError["reason"]
}

const goldenDir = join(import.meta.dir, "golden")
const goldenCases = readdirSync(goldenDir).sort()

describe("golden files", () => {
  test("there are enough cases", () => {
    expect(goldenCases.length).toBeGreaterThanOrEqual(12)
  })

  test.each(goldenCases)("%s", (name) => {
    const dir = join(goldenDir, name)
    const spec: GoldenCase = JSON.parse(readFileSync(join(dir, "case.json"), "utf8"))
    const original = readFileSync(join(dir, "original.yaml"), "utf8")
    const expected = readFileSync(join(dir, "expected.yaml"), "utf8")

    const hits = hitsOf(original, spec.path)
    const result = spliceScalars(original, hits.map((hit) => ({ hit, value: spec.value })))

    if (spec.expectError !== undefined) {
      expect(errorOf(result).reason).toBe(spec.expectError)
      expect(expected).toBe(original)
      return
    }
    expect(hits.length).toBeGreaterThan(0)
    expect(result).toEqual(Either.right(expected))

    // Only the lines holding the scalars may differ, and each of them must.
    const before = original.split("\n")
    const after = expected.split("\n")
    expect(after.length).toBe(before.length)
    const changed = before.flatMap((line, i) => (line === after[i] ? [] : [i + 1]))
    expect(changed).toEqual([...new Set(hits.map((hit) => hit.line))].sort((a, b) => a - b))

    for (const hit of hitsOf(expected, spec.path)) expect(hit.value).toBe(spec.value)
  })
})
