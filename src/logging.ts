import { Logger } from "effect"

// What JSON.stringify and logfmt's quoting leave raw: controls in unquoted logfmt values, DEL, the C1
// controls (NEL among them), the line and paragraph separators, and the bidi embeddings and overrides.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * A rendered log line with every character that could break it in two or repaint a terminal
 * written as `\uXXXX`: inside a JSON string that is the same character, escaped; in an unquoted
 * logfmt value, the escape itself. A line separator in foreign text (a registry's message, a file
 * of a watched repository) would otherwise end the line for a log collector and forge the next.
 */
export const escapeLogLine = (line: string): string => line.replace(unsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/**
 * One JSON object per line: `level`, `time`, `message`, the cause when there is one, and the
 * annotations (pipeline, repo, provider, image) as top-level fields that log collectors index.
 * The fixed fields come last so an annotation can never mask them.
 */
export const jsonLinesLogger = Logger.map(Logger.structuredLogger, (log) =>
  escapeLogLine(
    JSON.stringify({
      ...log.annotations,
      level: log.logLevel.toLowerCase(),
      time: log.timestamp,
      message: log.message,
      ...(log.cause === undefined ? {} : { cause: log.cause })
    })
  )
)

/** logfmt (`key=value`, values with spaces quoted), one line per entry whatever the values hold. */
export const textLinesLogger = Logger.map(Logger.logfmtLogger, escapeLogLine)
