/** Log lines stay lines: whatever a message or an annotation holds, one entry is one line, without raw controls. */
import { describe, expect, test } from "bun:test"
import { Effect, Logger, LogLevel } from "effect"
import { jsonLinesLogger, stderrIsJournal, textLinesLogger, withPriority, withSyslogPrefix } from "../../src/logging.ts"

const logged = (logger: Logger.Logger<unknown, string>, message: string, annotation: string) => {
  const lines: Array<string> = []
  Effect.runSync(
    Effect.logWarning(message).pipe(
      Effect.annotateLogs({ image: annotation }),
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.map(logger, (line) => lines.push(line))))
    )
  )
  return lines
}

const raw = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/

const cases = [
  { name: "line separator", text: "a\u2028level=ERROR message=forged", escaped: "\\u2028" },
  { name: "paragraph separator", text: "a\u2029b", escaped: "\\u2029" },
  { name: "next line (C1)", text: "a\u0085b", escaped: "\\u0085" },
  { name: "newline and carriage return", text: "a\r\nb", escaped: "\\r\\n" },
  // No whitespace: logfmt leaves the value unquoted, so JSON.stringify never sees it.
  { name: "terminal escape in an unquoted value", text: "a\x1b[2Jb", escaped: "\\u001b[2J" },
  { name: "bidi override", text: "a\u202eb", escaped: "\\u202e" }
]

describe.each([
  ["json", jsonLinesLogger],
  ["text (logfmt)", textLinesLogger]
] as const)("%s logs", (format, logger) => {
  test.each(cases)("$name", ({ text, escaped }) => {
    const lines = logged(logger, `message ${text}`, text)
    expect(lines.length).toBe(1)
    const [line = ""] = lines
    expect(line).not.toMatch(raw)
    expect(line.split(escaped).length).toBe(3)
    // The JSON line still reads back as the same message and field.
    if (format === "json") expect(JSON.parse(line)).toMatchObject({ message: `message ${text}`, image: text })
  })
})

const loggedAt = (logger: Logger.Logger<unknown, string>, level: LogLevel.LogLevel, message: string) => {
  const lines: Array<string> = []
  Effect.runSync(
    Effect.logWithLevel(level, message).pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.map(logger, (line) => lines.push(line)))),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
  )
  return lines
}

describe("journald's priority prefix", () => {
  test.each([
    ["fatal", LogLevel.Fatal, "<2>"],
    ["error", LogLevel.Error, "<3>"],
    ["warning", LogLevel.Warning, "<4>"],
    ["info", LogLevel.Info, "<6>"],
    ["debug", LogLevel.Debug, "<7>"],
    ["trace", LogLevel.Trace, "<7>"]
  ] as const)("%s", (_name, level, prefix) => {
    const [text = ""] = loggedAt(withSyslogPrefix(textLinesLogger), level, "pass\nfailed")
    expect(text.startsWith(`${prefix}timestamp=`)).toBe(true)
    // The message's newline is escaped first, so the prefix starts the only line.
    expect(text.split("\n").length).toBe(1)
    const [json = ""] = loggedAt(withSyslogPrefix(jsonLinesLogger), level, "pass")
    expect(json.startsWith(`${prefix}{`)).toBe(true)
    // What journald keeps once it has taken the prefix off is the plain JSON line.
    expect(JSON.parse(json.slice(prefix.length))).toMatchObject({ message: "pass" })
  })

  test("every line of a multi-line message written straight to stderr", () => {
    expect(withPriority(3, "config error: a\nconfig error: b")).toBe("<3>config error: a\n<3>config error: b")
  })

  test.each([
    ["the journal's stream", "8:1234", true],
    ["another device", "9:1234", false],
    ["another inode: a child whose stderr went elsewhere inherited the variable", "8:1235", false],
    ["not set", undefined, false],
    ["malformed", "8:1234x", false],
    ["empty", "", false]
  ] as const)("stderr is the journal: %s", (_name, value, expected) => {
    expect(stderrIsJournal(value, { dev: 8n, ino: 1234n })).toBe(expected)
  })
})

test("text lines carry no fiber number, only what an operator reads", () => {
  const [line = ""] = logged(textLinesLogger, "message", "nginx")
  expect(line).toMatch(/^timestamp=\S+ level=WARN message=message image=nginx$/)
})
