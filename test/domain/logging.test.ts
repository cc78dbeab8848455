/** Log lines stay lines: whatever a message or an annotation holds, one entry is one line, without raw controls. */
import { describe, expect, test } from "bun:test"
import { Effect, Logger } from "effect"
import { jsonLinesLogger, textLinesLogger } from "../../src/logging.ts"

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
