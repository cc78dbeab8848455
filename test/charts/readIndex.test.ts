/** index.yaml read by the line scanner in helm's layout, by the YAML parser otherwise, within limits. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { type ChartVersions, parseCreated, scanIndex } from "../../src/charts/indexScan.ts"
import { parseIndexYaml, readIndex } from "../../src/charts/readIndex.ts"
import { helmIndex, versionsOf } from "../support/chartIndex.ts"

const plain = (charts: ChartVersions) => [...charts].map(([name, versions]) => [name, versions.map((v) => ({ ...v }))])
const bytes = (text: string) => new TextEncoder().encode(text)

const scanned = (text: string) => {
  const result = scanIndex(text)
  if (result._tag !== "Scanned") throw new Error(`expected a scan, got ${JSON.stringify(result)}`)
  return plain(result.charts)
}
const parsed = (text: string) => plain(Either.getOrThrowWith(parseIndexYaml(text), (why) => new Error(why)))

const canonical: ReadonlyArray<readonly [string, string]> = [
  ["helm's layout, two charts", helmIndex([["nginx", versionsOf(3)], ["redis", versionsOf(2, 1)]])],
  ["an empty repository", "apiVersion: v1\nentries: {}\ngenerated: \"2024-01-01T00:00:00Z\"\n"],
  ["a chart with no versions, items indented by two more, CRLF", "apiVersion: v1\r\nentries:\r\n  empty: []\r\n  app:\r\n    - version: 1.0.0\r\n      created: 2024-01-02T03:04:05+02:00\r\n    - version: \"2.0\"\r\n      digest: 'ab''c'\r\ngenerated: x\r\n"],
  [
    "a version without created or digest, comments, a quoted escape, a block scalar holding keys",
    "# generated\napiVersion: v1\nentries:\n  app:\n  - description: |\n      version: 9.9.9\n    version: \"1.0.0-\\u0061\"\n  - name: app\n    version: 0.9.0 # old\nannotations:\n  a: b\ngenerated: x\n"
  ]
]

describe("the line scanner and the YAML parser agree on helm's layout", () => {
  test.each(canonical)("%s", (_, text) => {
    expect(scanned(text)).toEqual(parsed(text))
  })

  test("what they read from helm's layout", () => {
    expect(scanned(canonical[0]?.[1] ?? "")[0]).toEqual([
      "nginx",
      [
        { version: "0.0.2", created: Date.UTC(2024, 0, 3, 0, 0, 0, 123), digest: "f" + "2".padStart(63, "0") },
        { version: "0.0.1", created: Date.UTC(2024, 0, 2, 0, 0, 0, 123), digest: "f" + "1".padStart(63, "0") },
        { version: "0.0.0", created: Date.UTC(2024, 0, 1, 0, 0, 0, 123), digest: "f" + "0".padStart(63, "0") }
      ]
    ])
    expect(scanned(canonical[2]?.[1] ?? "")).toEqual([
      ["empty", []],
      ["app", [{ version: "1.0.0", created: Date.UTC(2024, 0, 2, 1, 4, 5) }, { version: "2.0", digest: "ab'c" }]]
    ])
  })
})

const otherLayouts: ReadonlyArray<readonly [string, string]> = [
  ["JSON", JSON.stringify({ apiVersion: "v1", entries: { app: [{ version: "1.0.0", created: "2024-01-01T00:00:00Z" }] }, generated: "x" })],
  ["flow style entries", "apiVersion: v1\nentries: {app: [{version: 1.0.0}]}\ngenerated: x\n"],
  ["a flow item", "apiVersion: v1\nentries:\n  app:\n  - {version: 1.0.0}\ngenerated: x\n"],
  ["an anchor on a version", "apiVersion: v1\nentries:\n  app:\n  - version: &v 1.0.0\ngenerated: x\n"],
  ["no generated after entries (cut short at a line?)", "apiVersion: v1\nentries:\n  app:\n  - version: 1.0.0\n"],
  ["a quoted chart name", "apiVersion: v1\nentries:\n  \"app\":\n  - version: 1.0.0\ngenerated: x\n"]
]

describe("an index in another layout goes to the YAML parser", () => {
  test.each(otherLayouts)("%s", (_, text) => {
    expect(scanIndex(text)._tag).toBe("NotCanonical")
    expect(Either.map(readIndex(bytes(text)), plain)).toEqual(Either.right([["app", [expect.objectContaining({ version: "1.0.0" })]]]))
  })
})

const MIB = 1024 * 1024
/** 1.14 MB, over the parser's limit in these cases (1 MiB). */
const big = helmIndex([["app", versionsOf(1500)]])
const inQuotes = big.indexOf('created: "', 100_000) + 15

describe("hostile indexes fail clearly, within their limits", () => {
  const cases: ReadonlyArray<readonly [string, string | Uint8Array, string]> = [
    ["over the size limit", helmIndex([["app", versionsOf(6000)]]), "over the limit of 4 MiB"],
    ["cut short in the middle of a line", big.slice(0, inQuotes), "index.yaml is not valid YAML"],
    ["cut short, too big for the parser", big.slice(0, big.length - 1000), "not in the layout helm writes (the last line is not terminated (cut short?))"],
    ["a huge version", `apiVersion: v1\nentries:\n  app:\n  - version: ${"1".repeat(3 * MIB)}\ngenerated: x\n`, "line 4: version is not a one-line scalar"],
    ["a huge chart name", `apiVersion: v1\nentries:\n  ${"a".repeat(3 * MIB)}:\n  - version: 1.0.0\ngenerated: x\n`, "line 3: a line longer than 64 KiB"],
    ["a huge line without newline", "x".repeat(3 * MIB), "the last line is not terminated"],
    ["non-canonical and over the parser's limit", `apiVersion: v1\nentries: {app: [${"{version: 1.0.0}, ".repeat(200_000)}]}\ngenerated: x\n`, "not in the layout helm writes (line 2: a line longer than 64 KiB); an index in another layout is read up to 1 MiB"],
    ["not an index", "apiVersion: v1\nkind: ConfigMap\n", "not a chart repository index"]
  ]
  test.each(cases)("%s", (_, text, message) => {
    const body = typeof text === "string" ? bytes(text) : text
    const started = performance.now()
    const result = readIndex(body, { maxBytes: 4 * MIB, maxParsedBytes: MIB })
    expect(Either.isLeft(result) ? result.left : "read").toContain(message)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  test("a huge item key value of another key is passed over", () => {
    const text = `apiVersion: v1\nentries:\n  app:\n  - description: ${"d".repeat(200_000)}\n    version: 1.0.0\ngenerated: x\n`
    expect(scanned(text)).toEqual([["app", [{ version: "1.0.0" }]]])
  })
})

describe("created", () => {
  test.each([
    ["2024-01-02T03:04:05.123456789Z", Date.UTC(2024, 0, 2, 3, 4, 5, 123)],
    ["2024-01-02T03:04:05Z", Date.UTC(2024, 0, 2, 3, 4, 5)],
    ["2024-01-02T03:04:05.5-01:30", Date.UTC(2024, 0, 2, 4, 34, 5, 500)],
    ["2024-01-02 03:04:05", Date.UTC(2024, 0, 2, 3, 4, 5)],
    ["yesterday", undefined]
  ] as const)("%s", (text, at) => expect(parseCreated(text)).toBe(at))
})
