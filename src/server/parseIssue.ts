import { ParseResult } from "effect"

/**
 * A decoding failure as one short line for an API caller: which field is wrong and how. The
 * schema itself is never shown: its dump says more about our code than about the request.
 */
export const parseIssueLine = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (issue === undefined || issue.path.length === 0) return "body must be a JSON object"
  const message = issue._tag === "Type" ? "has the wrong type" : (issue.message.split("\n")[0] ?? "")
  return `${issue.path.join(".")}: ${message}`
}
