import { describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either, Logger, Option, TestClock, TestContext } from "effect"
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseImageRef } from "../../src/domain/ImageRef.ts"
import type { Dated } from "../../src/domain/TagInfo.ts"
import { type KeptDates, makeKeptDates, makeKeptDatesIn } from "../../src/pipeline/keptDates.ts"
import { providerConfig } from "../support/config.ts"
import { tempDir } from "../support/tempDirs.ts"

const provider = providerConfig({ name: "reg" })
const image = Either.getOrThrow(parseImageRef("registry.test/team/app:1.0.0"))
const FRESH = 60_000
const JAN = Date.UTC(2025, 0, 1)

/** A registry of one tag whose digest and date a step can change, counting what is asked of it. */
const registry = () => {
  const state = { digest: Option.some("sha256:a") as Option.Option<string>, created: Option.some(new Date(JAN)) as Option.Option<Date>, dated: 0, heads: 0 }
  const source = {
    dated: Effect.sync((): Dated => ((state.dated += 1), { digest: state.digest, created: state.created })),
    digest: Effect.sync(() => ((state.heads += 1), Option.getOrElse(state.digest, () => "sha256:none")))
  }
  return { state, source }
}

type Registry = ReturnType<typeof registry>

interface Step {
  /** What happens before the ask: time passes, the tag moves, the process restarts. */
  readonly before?: (r: Registry, dir: string) => void
  readonly wait?: number
  /** A new process over the same data dir. */
  readonly restart?: boolean
  /** Requests the ask made: whole date reads, and digest checks. */
  readonly asked: { readonly dated: number; readonly heads: number }
  readonly date: number | undefined
}

const rows: ReadonlyArray<{ readonly name: string; readonly onDisk: boolean; readonly steps: ReadonlyArray<Step> }> = [
  {
    name: "a date read once is kept by a new process within the interval",
    onDisk: true,
    steps: [
      { asked: { dated: 1, heads: 0 }, date: JAN },
      { restart: true, asked: { dated: 0, heads: 0 }, date: JAN }
    ]
  },
  {
    name: "after the interval one HEAD confirms the digest, and the date holds for another interval",
    onDisk: true,
    steps: [
      { asked: { dated: 1, heads: 0 }, date: JAN },
      { restart: true, wait: FRESH, asked: { dated: 0, heads: 1 }, date: JAN },
      { restart: true, wait: FRESH - 1, asked: { dated: 0, heads: 0 }, date: JAN }
    ]
  },
  {
    name: "a tag rebuilt in place is read again after the interval, and its new date is kept",
    onDisk: true,
    steps: [
      { asked: { dated: 1, heads: 0 }, date: JAN },
      { before: (r) => ((r.state.digest = Option.some("sha256:b")), (r.state.created = Option.some(new Date(JAN + 86_400_000)))), wait: FRESH, restart: true, asked: { dated: 1, heads: 1 }, date: JAN + 86_400_000 },
      { restart: true, asked: { dated: 0, heads: 0 }, date: JAN + 86_400_000 }
    ]
  },
  {
    name: "an image that gives no date is kept as none",
    onDisk: true,
    steps: [
      { before: (r) => void (r.state.created = Option.none()), asked: { dated: 1, heads: 0 }, date: undefined },
      { restart: true, asked: { dated: 0, heads: 0 }, date: undefined }
    ]
  },
  {
    name: "a date without a digest (a tag store's) is not kept",
    onDisk: true,
    steps: [
      { before: (r) => void (r.state.digest = Option.none()), asked: { dated: 1, heads: 0 }, date: JAN },
      { asked: { dated: 1, heads: 0 }, date: JAN }
    ]
  },
  {
    name: "an unreadable file is read again, not trusted",
    onDisk: true,
    steps: [
      { asked: { dated: 1, heads: 0 }, date: JAN },
      { before: (_, dir) => corrupt(dir), restart: true, asked: { dated: 1, heads: 0 }, date: JAN },
      { restart: true, asked: { dated: 0, heads: 0 }, date: JAN }
    ]
  },
  {
    name: "without a data dir the dates live as long as the process",
    onDisk: false,
    steps: [
      { asked: { dated: 1, heads: 0 }, date: JAN },
      { asked: { dated: 0, heads: 0 }, date: JAN },
      { restart: true, asked: { dated: 1, heads: 0 }, date: JAN }
    ]
  }
]

/** Overwrites every kept file of the data dir with what no JSON parser reads. */
const corrupt = (dir: string) => {
  const walk = (d: string): Array<string> => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]))
  for (const file of walk(dir)) writeFileSync(file, "{not json")
}

describe("release dates kept by digest", () => {
  test.each(rows)("$name", async ({ onDisk, steps }) => {
    const dir = tempDir("kept-dates-")
    const r = registry()
    const program = Effect.gen(function* () {
      const make: Effect.Effect<KeptDates, never, NodeContext.NodeContext> = onDisk ? makeKeptDatesIn(dir) : makeKeptDates
      let dates = yield* make
      yield* TestClock.adjust(JAN)
      const seen: Array<{ asked: Step["asked"]; date: number | undefined }> = []
      for (const step of steps) {
        // A process ends by keeping what it learnt; then the registry or the data dir may change.
        if (step.restart === true) yield* dates.keep
        step.before?.(r, dir)
        if (step.wait !== undefined) yield* TestClock.adjust(step.wait)
        if (step.restart === true) dates = yield* make
        const [dated, heads] = [r.state.dated, r.state.heads]
        const date = yield* dates.created(provider, image, "1.0.0", FRESH, r.source)
        seen.push({ asked: { dated: r.state.dated - dated, heads: r.state.heads - heads }, date: Option.getOrUndefined(Option.map(date, (d) => d.getTime())) })
      }
      return seen
    })
    const seen = await program.pipe(Effect.provide(NodeContext.layer), Effect.provide(TestContext.TestContext), Effect.provide(Logger.remove(Logger.defaultLogger)), Effect.runPromise)
    expect(seen).toEqual(steps.map(({ asked, date }) => ({ asked, date })))
  })
})

/** What `freshOf` answers of a tag after a date was asked (or not), then time passed, maybe in a new process. */
const freshRows: ReadonlyArray<{
  readonly name: string
  readonly ask: boolean
  readonly created?: Option.Option<Date>
  readonly wait: number
  readonly restart: boolean
  /** The date freshOf answers, null for "the image does not say", undefined for "not kept fresh: ask". */
  readonly fresh: number | null | undefined
}> = [
  { name: "a date just read is fresh", ask: true, wait: 0, restart: false, fresh: JAN },
  { name: "and fresh in a new process within the interval", ask: true, wait: FRESH - 1, restart: true, fresh: JAN },
  { name: "not fresh once the interval has passed: its digest is checked", ask: true, wait: FRESH, restart: false, fresh: undefined },
  { name: "an image that does not say when it was made is known to say nothing", ask: true, created: Option.none(), wait: 0, restart: false, fresh: null },
  { name: "a tag never asked about is not kept", ask: false, wait: 0, restart: false, fresh: undefined }
]

describe("release dates kept fresh answer without asking", () => {
  test.each(freshRows)("$name", async (row) => {
    const dir = tempDir("kept-fresh-")
    const r = registry()
    if (row.created !== undefined) r.state.created = row.created
    const program = Effect.gen(function* () {
      yield* TestClock.adjust(JAN)
      let dates = yield* makeKeptDatesIn(dir)
      if (row.ask) yield* dates.created(provider, image, "1.0.0", FRESH, r.source)
      yield* TestClock.adjust(row.wait)
      if (row.restart) {
        yield* dates.keep
        dates = yield* makeKeptDatesIn(dir)
      }
      const fresh = (yield* dates.freshOf(provider, image, FRESH))("1.0.0")
      return fresh === undefined ? undefined : Option.getOrNull(Option.map(fresh, (d) => d.getTime()))
    })
    const fresh = await program.pipe(Effect.provide(NodeContext.layer), Effect.provide(TestContext.TestContext), Effect.provide(Logger.remove(Logger.defaultLogger)), Effect.runPromise)
    expect(fresh).toEqual(row.fresh)
    // Answering from what is kept asks the registry nothing.
    expect(r.state.dated).toBe(row.ask ? 1 : 0)
  })
})
