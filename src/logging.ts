import { Logger } from "effect"

/**
 * One JSON object per line: `level`, `time`, `message`, the cause when there is one, and the
 * annotations (pipeline, repo, provider, image) as top-level fields that log collectors index.
 * The fixed fields come last so an annotation can never mask them.
 */
export const jsonLinesLogger = Logger.map(Logger.structuredLogger, (log) =>
  JSON.stringify({
    ...log.annotations,
    level: log.logLevel.toLowerCase(),
    time: log.timestamp,
    message: log.message,
    ...(log.cause === undefined ? {} : { cause: log.cause })
  })
)
