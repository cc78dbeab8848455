/**
 * The default policy's release-line rule, decided on evidence: a line the project still ships
 * is kept, one it has left is left; dates by each clock, dates that tell nothing, rebuilds in
 * place; and the dates asked for, only for the few tags at stake.
 */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { DEFAULT_EXCLUDE_TAGS } from "../../src/domain/Target.ts"
import { compileSelector } from "../../src/policy/select.ts"
import { checkRow, DAY, HUB, IMAGE, NOW, type Row, tag } from "../support/decision.ts"

const AUTO = { policy: { _tag: "version", range: "auto" } } as const
const img = (t: string) => `image: ${IMAGE}:${t}\n`
const kept = (line: string, newer: string) => `{on the maintained ${line} line (newer: ${newer})}`
const undated = (line: string, newer: string) =>
  `{on the ${line} line: ${newer} is on a newer line; without release dates the default stays on ${line} (version: "^" follows new lines)}`

// MySQL: 8.0 is patched after 8.1 and 8.3 came out.
const mysql = [tag("8.0.35", { pushed: 400 * DAY }), tag("8.1.0", { pushed: 300 * DAY }), tag("8.0.36", { pushed: 100 * DAY }), tag("8.3.0", { pushed: 50 * DAY })]
// Prometheus: no 2.48.x after 2.49.0.
const prometheus = [tag("v2.48.0", { pushed: 90 * DAY }), tag("v2.48.1", { pushed: 80 * DAY }), tag("v2.49.0", { pushed: 60 * DAY }), tag("v2.49.1", { pushed: 40 * DAY })]

const rows: ReadonlyArray<Row> = [
  { name: "a line patched after a newer one began: kept, its newest release taken", text: img("8.0.35"), target: AUTO, listing: mysql, expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) ${kept("8.0", "8.3.0")}` },
  { name: "already at the line's newest: up to date, the newer line said", text: img("8.0.36"), target: AUTO, listing: mysql, expect: `UpToDate 8.0.36 ${kept("8.0", "8.3.0")}` },
  {
    name: "the first line after the current one counts, not the best candidate's",
    text: img("8.0.36"),
    target: AUTO,
    listing: [tag("8.0.36", { pushed: 100 * DAY }), tag("8.1.0", { pushed: 300 * DAY }), tag("8.3.0", { pushed: 50 * DAY })],
    expect: `UpToDate 8.0.36 ${kept("8.0", "8.3.0")}`
  },
  { name: "a project that moved on: the newer line taken", text: img("v2.48.1"), target: AUTO, listing: prometheus, expect: `Update v2.49.1 (image: ${IMAGE}:v2.49.1)` },
  { name: "the same line: no dates asked for", text: img("v2.49.0"), target: AUTO, listing: [tag("v2.49.0"), tag("v2.49.1")], expect: `Update v2.49.1 (image: ${IMAGE}:v2.49.1)` },
  { name: "^ follows the newer line whatever the dates", text: img("8.0.35"), target: { policy: { _tag: "version", range: "^" } }, listing: mysql, expect: `Update 8.3.0 (image: ${IMAGE}:8.3.0)` },
  { name: "~ keeps the line whatever the dates", text: img("8.0.35"), target: { policy: { _tag: "version", range: "~" } }, listing: mysql, expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36)` },
  {
    name: "the current tag rebuilt in place after the newer line: kept",
    text: img("8.0.36"),
    target: AUTO,
    listing: [tag("8.0.36", { pushed: 10 * DAY }), tag("8.1.0", { pushed: 300 * DAY })],
    expect: `UpToDate 8.0.36 ${kept("8.0", "8.1.0")}`
  },
  {
    name: "the first tag of the newer line is its lowest version, not its first listed",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35", { pushed: 400 * DAY }), tag("8.1.1", { pushed: 200 * DAY }), tag("8.1.0", { pushed: 300 * DAY }), tag("8.0.36", { pushed: 100 * DAY })],
    expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) ${kept("8.0", "8.1.1")}`
  },
  { name: "without dates: asked for, push times first", text: img("8.0.35"), target: AUTO, listing: [tag("8.0.35"), tag("8.0.36"), tag("8.3.0")], expect: "Needs PushTimes" },
  {
    name: "then the configs' created of every tag compared, asked at once",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35"), tag("8.0.36"), tag("8.3.0")],
    facts: { pushTimes: "none" },
    expect: "Needs Created 8.3.0 8.0.36 8.0.35"
  },
  {
    name: "only those still missing",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35"), tag("8.0.36"), tag("8.3.0")],
    facts: { pushTimes: "none", created: { "8.3.0": 50 * DAY } },
    expect: "Needs Created 8.0.36 8.0.35"
  },
  {
    name: "created dates decide",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35"), tag("8.0.36"), tag("8.3.0")],
    facts: { pushTimes: "none", created: { "8.3.0": 50 * DAY, "8.0.36": 10 * DAY, "8.0.35": 400 * DAY } },
    expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) ${kept("8.0", "8.3.0")}`
  },
  {
    name: "Docker Hub's push times decide",
    text: img("8.0.35"),
    target: AUTO,
    provider: HUB,
    listing: [tag("8.0.35"), tag("8.0.36"), tag("8.3.0")],
    facts: { pushTimes: { "8.3.0": 35 * DAY, "8.0.36": 50 * DAY, "8.0.35": 400 * DAY } },
    expect: `Update 8.3.0 (image: ${IMAGE}:8.3.0)`
  },
  {
    name: "a newer line begun days ago: too soon to tell, it waits on the line",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35", { pushed: 400 * DAY }), tag("8.0.36", { pushed: 50 * DAY }), tag("8.3.0", { pushed: 5 * DAY })],
    expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) {on the 8.0 line: 8.3.0 is on a newer line begun 5 days ago; the default waits 30 days to see whether 8.0 is still patched}`
  },
  {
    name: "a newer line begun 30 days ago, nothing of the current one since: moved on",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35", { pushed: 400 * DAY }), tag("8.0.36", { pushed: 50 * DAY }), tag("8.3.0", { pushed: 30 * DAY })],
    expect: `Update 8.3.0 (image: ${IMAGE}:8.3.0)`
  },
  {
    name: "released with the newer line (two days before its first release): kept",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35", { pushed: 400 * DAY }), tag("8.0.36", { pushed: 102 * DAY }), tag("8.1.0", { pushed: 100 * DAY })],
    expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) ${kept("8.0", "8.1.0")}`
  },
  {
    name: "released four days before the newer line, nothing since: moved on",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35", { pushed: 400 * DAY }), tag("8.0.36", { pushed: 104 * DAY }), tag("8.1.0", { pushed: 100 * DAY })],
    expect: `Update 8.1.0 (image: ${IMAGE}:8.1.0)`
  },
  {
    name: "a clock behind the dates tells no age: it does not wait",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35", { pushed: 400 * DAY }), tag("8.0.36", { pushed: 100 * DAY }), tag("8.3.0", { pushed: -DAY })],
    expect: `Update 8.3.0 (image: ${IMAGE}:8.3.0)`
  },
  {
    name: "no date to be had: stays on the line, and says how to follow new lines",
    text: img("8.0.35"),
    target: AUTO,
    listing: [tag("8.0.35"), tag("8.0.36"), tag("8.3.0")],
    facts: { pushTimes: "none", created: { "8.3.0": "unknown", "8.0.36": "unknown", "8.0.35": "unknown" } },
    expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) ${undated("8.0", "8.3.0")}`
  },
  {
    name: "dates of 1970 tell nothing",
    text: img("8.0.36"),
    target: AUTO,
    listing: [tag("8.0.36", { created: Date.now() }), tag("8.3.0", { created: Date.now() - 1 })],
    facts: { pushTimes: "none" },
    expect: `UpToDate 8.0.36 ${undated("8.0", "8.3.0")}`
  },
  {
    name: "equal dates tell nothing",
    text: img("8.0.36"),
    target: AUTO,
    listing: [tag("8.0.36", { pushed: 10 * DAY }), tag("8.3.0", { pushed: 10 * DAY })],
    expect: `UpToDate 8.0.36 ${undated("8.0", "8.3.0")}`
  },
  { name: "beyond the range: a newer major is said, not written", text: img("15.5"), target: AUTO, listing: [tag("15.5"), tag("16.1")], expect: "UpToDate 15.5 {(newer: 16.1, outside version auto)}" },
  { name: "beyond ~: a newer line is said", text: img("8.0.36"), target: { policy: { _tag: "version", range: "~" } }, listing: [tag("8.0.36"), tag("8.3.0")], expect: "UpToDate 8.0.36 {(newer: 8.3.0, outside version ~)}" },
  { name: "* has nothing beyond it", text: img("16.1"), target: { policy: { _tag: "version", range: "*" } }, listing: [tag("15.5"), tag("16.1")], expect: "UpToDate 16.1" },
  { name: "a counter moves to the highest", text: img("41"), target: AUTO, listing: [tag("41"), tag("42")], expect: `Update 42 (image: ${IMAGE}:42)` },
  { name: "a calendar version moves to the highest", text: img("2023.12.01"), target: AUTO, listing: [tag("2023.12.01"), tag("2024.01.05")], expect: `Update 2024.01.05 (image: ${IMAGE}:2024.01.05)` },
  {
    name: "a two-number version is a line of its own",
    text: img("22.04"),
    target: AUTO,
    listing: [tag("22.04", { pushed: 30 * DAY }), tag("22.10", { pushed: 400 * DAY }), tag("24.04", { pushed: 200 * DAY })],
    // 24.04 is another major: `auto` keeps 22, and 22.04 was rebuilt after 22.10 came out.
    expect: `UpToDate 22.04 ${kept("22.04", "22.10")}`
  },
  {
    name: "only tags of the variant count",
    text: img("8.0.35-oracle"),
    target: AUTO,
    listing: [tag("8.0.35-oracle", { pushed: 400 * DAY }), tag("8.3.0-oracle", { pushed: 50 * DAY }), tag("8.0.36", { pushed: 10 * DAY })],
    expect: `Update 8.3.0-oracle (image: ${IMAGE}:8.3.0-oracle)`
  }
]

const at = (ago: number) => new Date(NOW - ago).toISOString()

// `runner explain` shows the lines, the dates compared, by which clock, and the rule that decided.
const explained: ReadonlyArray<Row> = [
  {
    name: "kept: the dates, their clock and the rule",
    text: img("8.0.35"),
    target: AUTO,
    listing: mysql,
    explain: true,
    explained: 1,
    expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) ${kept("8.0", "8.3.0")}`,
    explainText: [
      "    8.0.36  version 8.0.36  <- chosen",
      "  release line: 8.0; newer line 8.3 (best: 8.3.0); release dates compared:",
      `    8.1.0   ${at(300 * DAY)} (pushed)  first release above 8.0`,
      `    8.0.36  ${at(100 * DAY)} (pushed)  newest of 8.0`,
      `    8.0.35  ${at(400 * DAY)} (pushed)  current`,
      "  line rule: kept: 8.0.36 released after 8.1.0, the first release above 8.0",
      "  result: 8.0.35 -> 8.0.36: the highest candidate on the 8.0 line"
    ]
  },
  {
    name: "moved on: the rule says so, and the newer line is chosen",
    text: img("v2.48.1"),
    target: AUTO,
    listing: prometheus,
    explain: true,
    explained: 1,
    expect: `Update v2.49.1 (image: ${IMAGE}:v2.49.1)`,
    explainText: [
      "  release line: 2.48; newer line 2.49 (best: v2.49.1); release dates compared:",
      `    v2.49.0  ${at(60 * DAY)} (pushed)  first release above 2.48`,
      `    v2.48.1  ${at(80 * DAY)} (pushed)  newest of 2.48, current`,
      "  line rule: moved on: no 2.48 release with or after v2.49.0, 60 days ago",
      "  result: v2.48.1 -> v2.49.1: the highest candidate"
    ]
  },
  {
    name: "no usable dates: it stays, and each clock is named",
    text: img("8.0.35"),
    target: AUTO,
    provider: HUB,
    listing: [tag("8.0.35"), tag("8.0.36"), tag("8.3.0", { created: 50 * DAY })],
    facts: { pushTimes: { "8.0.36": 50 * DAY }, created: { "8.0.35": "unknown" } },
    explain: true,
    explained: 1,
    expect: `Update 8.0.36 (image: ${IMAGE}:8.0.36) ${undated("8.0", "8.3.0")}`,
    explainText: [
      `    8.3.0   ${at(50 * DAY)} (created)  first release above 8.0`,
      `    8.0.36  ${at(50 * DAY)} (hub push)  newest of 8.0`,
      "    8.0.35  no date  current",
      "  line rule: no usable release dates: stays on 8.0 (none, before 2000 or all equal)",
      "  result: 8.0.35 -> 8.0.36: the highest candidate on the 8.0 line"
    ]
  },
  {
    name: "the same line: no dates asked, the plain result",
    text: img("v2.49.0"),
    target: AUTO,
    listing: [tag("v2.49.0"), tag("v2.49.1")],
    explain: true,
    explained: 1,
    expect: `Update v2.49.1 (image: ${IMAGE}:v2.49.1)`,
    explainText: ["  2 tags listed, 2 candidates, best first:", "  result: v2.49.0 -> v2.49.1: the highest candidate"]
  }
]

describe("runner explain of the maintained-line rule", () => {
  test.each(explained.map((r) => [r.name, r] as const))("%s", (_name, row) => checkRow(row))
  test("a target not asked about carries no explanation, and the same decision", () => {
    for (const { explained: _n, explainText: _t, ...row } of explained) checkRow({ ...row, explain: false })
  })
})

describe("the maintained-line rule", () => {
  test.each(rows.map((r) => [r.name, r] as const))("%s", (_name, row) => checkRow(row))
})

describe("the question", () => {
  test("is asked once per listing and lines at stake, by the selector's own reading", () => {
    const selector = Either.getOrThrow(compileSelector({ policy: { _tag: "version", range: "auto" }, excludeTags: DEFAULT_EXCLUDE_TAGS, allowDowngrade: false }))
    const tags = mysql.map(({ tag }) => ({ tag }))
    const question = selector.maintained?.question(tags, "8.0.35", "8.3.0")
    expect(question).toEqual({ line: "8.0", newerLine: "8.3", newer: "8.3.0", first: "8.1.0", latest: ["8.0.36", "8.0.35"] })
    expect(selector.maintained?.question(tags, "8.0.35", "8.3.0")).toBe(question)
    expect(selector.maintained?.question(tags, "8.0.35", "8.0.36")).toBeUndefined()
  })
})
