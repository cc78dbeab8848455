/** A target's outcome as data: the fields of its log event and the state the `runner_targets` gauge counts it under. */
import { failureReason, isTransient } from "../domain/failures.ts"
import { holdText, holdWord } from "./holds.ts"
import type { Outcome, TargetReport } from "./report.ts"

/** Every state a target can end a pass in; the gauge has a series for each from start-up. */
export const TARGET_STATES = ["up_to_date", "updated", "proposed", "would_update", "held", "left_alone", "failed"] as const
export type TargetState = (typeof TARGET_STATES)[number]

export const targetState = (outcome: Outcome): TargetState => {
  switch (outcome._tag) {
    case "Updated":
      return "updated"
    case "Proposed":
      return "proposed"
    case "WouldUpdate":
      return "would_update"
    case "UpToDate":
    case "Ahead":
      return "up_to_date"
    case "Held":
      return "held"
    case "LeftAlone":
      return "left_alone"
    case "Failed":
      return "failed"
  }
}

/**
 * A target's outcome as the fields of one log event, for queries such as "every failure of this
 * image": `reason` is a failure's family, as the metrics count it; `commit` is set once pushed.
 */
export const targetFields = (t: TargetReport): Record<string, string | boolean> => {
  const o = t.outcome
  const optional = (key: string, value: string | undefined) => (value === undefined ? {} : { [key]: value })
  return {
    image: t.image,
    ...optional("from", t.current),
    ...optional("to", t.chosen),
    ...optional("newer", t.newer),
    file: t.filePath,
    field: t.field,
    repo: t.repoId,
    outcome: targetState(o),
    ...(o._tag === "Failed" ? { reason: failureReason(o.failure), transient: isTransient(o.failure) } : {}),
    ...(o._tag === "Held" && o.reason !== undefined ? { reason: holdWord(o.reason), held: holdText(o.reason) } : {}),
    ...(o._tag === "Updated" ? { commit: o.commit, ...optional("branch", o.branch) } : {}),
    ...(o._tag === "Proposed" ? { request: o.request, url: o.url, branch: o.branch } : {})
  }
}
