import { type LogLevel, Logger } from "effect"

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

/**
 * logfmt (`key=value`, values with spaces quoted), one line per entry whatever the values hold.
 * effect's `fiber=#N` (its first field after the level) is left out: a fiber number tells an operator nothing.
 */
export const textLinesLogger = Logger.map(Logger.logfmtLogger, (line) => escapeLogLine(line.replace(/ fiber=#\d+/, "")))

/**
 * The syslog priority of a log level, as journald reads it from a `<N>` line prefix (sd-daemon(3)):
 * `journalctl -p warning` then shows warnings and errors, and nothing that merely went well.
 */
export const syslogPriority = (level: LogLevel.LogLevel): number => {
  switch (level._tag) {
    case "Fatal":
      return 2
    case "Error":
      return 3
    case "Warning":
      return 4
    case "Info":
      return 6
    default:
      return 7
  }
}

/** Every line of `text` with the `<N>` prefix of `priority`. */
export const withPriority = (priority: number, text: string): string =>
  text
    .split("\n")
    .map((line) => `<${priority}>${line}`)
    .join("\n")

/**
 * A line logger whose lines start with their level's syslog priority. journald strips the prefix
 * (SyslogLevelPrefix=, on by default) and keeps it as the entry's PRIORITY, so a JSON line stays
 * plain JSON in the entry's MESSAGE.
 */
export const withSyslogPrefix = <Message>(logger: Logger.Logger<Message, string>): Logger.Logger<Message, string> =>
  Logger.make((options) => withPriority(syslogPriority(options.logLevel), logger.log(options)))

/**
 * Whether stderr is the journal: systemd sets JOURNAL_STREAM to the `device:inode` of the stream it
 * connects, and a child whose stderr went elsewhere inherits the variable, so both must match
 * (systemd.exec(5)).
 */
export const stderrIsJournal = (journalStream: string | undefined, stderr: { readonly dev: bigint; readonly ino: bigint }): boolean => {
  const match = /^(\d+):(\d+)$/.exec(journalStream ?? "")
  return match !== null && match[1] === String(stderr.dev) && match[2] === String(stderr.ino)
}
