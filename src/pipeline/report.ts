/** What a pass did, target by target: the `--once` report and the daemon's log lines. */
import { chartLabel } from "../domain/chartTarget.ts"
import { oneLine } from "../domain/foreignText.ts"
import { type FailureReason, failureReason, isTransient, type ScopeFailureCause, type TargetFailure } from "../domain/failures.ts"
import { formatExplanation } from "../policy/explain.ts"
import type { Explanation } from "../policy/select.ts"
import type { Decision, Update } from "./decide.ts"
import { type HoldReason, holdText } from "./holds.ts"

export type Outcome =
  /** `branch`: the push branch the commit went to, when it is not the repository's branch. */
  | { readonly _tag: "Updated"; readonly commit: string; readonly branch?: string }
  | { readonly _tag: "WouldUpdate" }
  /**
   * Proposed in a request (`pull request #12`, GitLab's `merge request !12`) on `branch`: `opened`
   * by this pass, or open since an earlier one.
   */
  | { readonly _tag: "Proposed"; readonly request: string; readonly url: string; readonly branch: string; readonly opened: boolean }
  | { readonly _tag: "UpToDate" }
  /** The field's tag ranks above every candidate; downgrades are off. */
  | { readonly _tag: "Ahead"; readonly best: string }
  /** Nothing written, nothing failed: the gates passed every candidate over (`gateNotes` says how), or `reason`. */
  | { readonly _tag: "Held"; readonly reason?: HoldReason }
  /** The policy cannot rank the field's tag (a floating tag under `version`), so it is left as it is. */
  | { readonly _tag: "LeftAlone"; readonly reason: string }
  | { readonly _tag: "Failed"; readonly failure: TargetFailure }

export interface TargetReport {
  readonly pipeline: string
  readonly repoId: string
  /** The watcher file that declared the target. */
  readonly watcherFile: string
  /** Line of the target in its watcher file: reports keep the order targets are declared in. */
  readonly line: number
  readonly filePath: string
  readonly field: string
  readonly image: string
  /** Of a chart target, how the text report names it in place of its image: `chart nginx (bitnami)`. */
  readonly chart?: string
  readonly current: string | undefined
  readonly chosen: string | undefined
  readonly listed: number | undefined
  readonly kept: number | undefined
  readonly outcome: Outcome
  /** Candidates the gates passed over, and why: `held: 1.3.0 too new (first seen 3m ago, needs 24h)`. */
  readonly gateNotes?: ReadonlyArray<string>
  /** Of a change to a verified candidate: `signed by cosign.pub`, with `, digest not pinned` when the new value does not carry it. */
  readonly signature?: string
  /** How the tags were read for each tag the field holds: only for targets `runner explain` asked about. */
  readonly explanations?: ReadonlyArray<Explanation>
  /** The default policy kept the field on its release line: `on the maintained 8.0 line (newer: 8.3.0)`. */
  readonly releaseLine?: string
  /** A newer release the policy holds back (`8.3.0`): counted by `runner_targets_newer_outside_range`. */
  readonly newer?: string
}

/** A failure above the level of one target: a repository, a watcher file, a whole pipeline. */
export interface ScopeFailure {
  readonly pipeline: string
  /** The repository the scope is, or is in. */
  readonly repoId: string
  readonly scope: string
  readonly failure: ScopeFailureCause
  /** The watcher file that failed, as its repository names it: a log event's `file`. */
  readonly file?: string
}

/** What failed as a whole, counted apart from targets in the summary line. */
export const levelOf = (failure: ScopeFailure): "repository" | "watcher file" => (failure.file === undefined ? "repository" : "watcher file")

/** The scope of a failure of a whole repository, as the report names it. */
export const repositoryScope = (repoId: string): string => `repository ${repoId}`

export interface PassReport {
  readonly targets: ReadonlyArray<TargetReport>
  readonly failures: ReadonlyArray<ScopeFailure>
  /** Unified diffs of what would be committed (dry runs). */
  readonly diffs: ReadonlyArray<string>
  /**
   * What the pass did or noticed beside its targets, without failing: what was done to pull or
   * merge requests (or would be, by a dry run), `config  no provider for registry.example.com`.
   */
  readonly notes?: ReadonlyArray<string>
}

/** A decision as the report tells it; an update's outcome is what became of it: committed, or not (a dry run). */
export const reportOf = (d: Decision, updated: (u: Update) => Outcome): TargetReport => {
  const { pipeline, repo, watcherFile, target } = d.origin
  const optional = {
    ...(d.gateNotes === undefined ? {} : { gateNotes: d.gateNotes }),
    ...(d.signature === undefined ? {} : { signature: d.signature }),
    ...(d.explanations === undefined ? {} : { explanations: d.explanations }),
    ...(d.line === undefined || d._tag === "Failed" ? {} : { releaseLine: d.line.note, newer: d.line.newer })
  }
  return {
    pipeline: pipeline.name,
    repoId: repo.repoId,
    watcherFile,
    line: target.source.line,
    filePath: target.filePath,
    field: target.field,
    image: target.image,
    ...(target.chart === undefined ? {} : { chart: chartLabel(target.chart, target.provider) }),
    current: d.current,
    chosen: d.chosen,
    listed: d.listed,
    kept: d.kept,
    outcome: outcomeOf(d, updated),
    ...optional
  }
}

const outcomeOf = (d: Decision, updated: (u: Update) => Outcome): Outcome => {
  switch (d._tag) {
    case "Update":
      return updated(d)
    case "Ahead":
      return { _tag: "Ahead", best: d.best }
    case "LeftAlone":
      return { _tag: "LeftAlone", reason: d.reason }
    case "Failed":
      return { _tag: "Failed", failure: d.failure }
    case "Held":
      return d.reason === undefined ? { _tag: "Held" } : { _tag: "Held", reason: d.reason }
    case "UpToDate":
      return { _tag: d._tag }
  }
}

/** Reports in the order their targets are declared: by watcher file, then line. */
export const inDeclarationOrder = (reports: ReadonlyArray<TargetReport>): ReadonlyArray<TargetReport> =>
  [...reports].sort((a, b) => (a.watcherFile < b.watcherFile ? -1 : a.watcherFile > b.watcherFile ? 1 : a.line - b.line))

export const mergeReports = (reports: ReadonlyArray<PassReport>): PassReport => {
  const notes = reports.flatMap((r) => r.notes ?? [])
  return {
    targets: reports.flatMap((r) => r.targets),
    failures: reports.flatMap((r) => r.failures),
    diffs: reports.flatMap((r) => r.diffs),
    ...(notes.length === 0 ? {} : { notes })
  }
}

export const passFailed = (report: PassReport): boolean =>
  report.failures.length > 0 || report.targets.some((t) => t.outcome._tag === "Failed")

const describe = (o: Outcome): string => {
  switch (o._tag) {
    case "Updated":
      return `updated (${o.commit.slice(0, 7)}${o.branch === undefined ? "" : ` on ${o.branch}`})`
    case "WouldUpdate":
      return "would update (dry run)"
    case "Proposed":
      return `${o.request} ${o.opened ? "opened" : "open"} (${o.branch})`
    case "UpToDate":
      return "up to date"
    case "Ahead":
      return `up to date (ahead of the best candidate ${o.best}; downgrades are off)`
    case "Held":
      return o.reason === undefined ? "held back by the gates" : holdText(o.reason)
    case "LeftAlone":
      return o.reason
    case "Failed":
      return `failed: ${o.failure.message}`
  }
}

const tagCounts = (t: TargetReport): string =>
  t.listed === undefined ? "" : `  [${t.listed} tags listed, ${t.kept ?? 0} kept]`

/** A line of the report, with the family of the failure it tells of, so that logs can carry it as a field. */
export interface ReportLine {
  readonly text: string
  readonly failure?: { readonly reason: FailureReason; readonly transient: boolean }
}

const familyOf = (failure: TargetFailure) => ({ reason: failureReason(failure), transient: isTransient(failure) })

/**
 * The report line by line: one per target, one per failed watcher file or repository, then the
 * counts. Each line is one line: a registry's message or a file's path with a line break or a
 * terminal escape in it would otherwise forge lines of the report or of the log.
 */
export const reportLines = (report: PassReport): ReadonlyArray<ReportLine> => {
  const lines: Array<ReportLine> = []
  for (const t of report.targets) {
    const move =
      t.chosen === undefined || t.chosen === t.current ? `${t.current ?? "?"}` : `${t.current ?? "?"} -> ${t.chosen}`
    const gated = t.gateNotes === undefined ? "" : `; ${t.gateNotes.join("; ")}`
    const signed = t.signature === undefined || t.outcome._tag === "Failed" ? "" : ` (${t.signature})`
    const kept = t.releaseLine === undefined ? "" : ` ${t.releaseLine}`
    const text = oneLine(`${t.repoId}  ${t.filePath}  ${t.field}  ${t.chart ?? t.image}  ${move}  ${describe(t.outcome)}${kept}${signed}${gated}${tagCounts(t)}`)
    lines.push(t.outcome._tag === "Failed" ? { text, failure: familyOf(t.outcome.failure) } : { text })
  }
  for (const f of report.failures) lines.push({ text: oneLine(`${f.scope}  failed: ${f.failure.message}`), failure: familyOf(f.failure) })
  for (const n of report.notes ?? []) lines.push({ text: oneLine(n) })
  const count = (tag: Outcome["_tag"]) => report.targets.filter((t) => t.outcome._tag === tag).length
  const extra = ([["held", count("Held")], ["left alone", count("LeftAlone")]] as const).flatMap(([what, n]) => (n === 0 ? [] : [`, ${n} ${what}`]))
  lines.push({
    text:
      `${report.targets.length} targets: ${count("Updated")} updated, ${count("Proposed") === 0 ? "" : `${count("Proposed")} proposed, `}${count("WouldUpdate")} would update, ` +
      `${count("UpToDate") + count("Ahead")} up to date, ${count("Failed")} failed${extra.join("")}${scopeCounts(report.failures)}`
  })
  return lines
}

/**
 * `; 1 repository failed, 2 watcher files failed`: what failed whole holds targets nobody counted,
 * so it is said apart from them; nothing when all was read.
 */
const scopeCounts = (failures: ReadonlyArray<ScopeFailure>): string => {
  const said = (["repository", "watcher file"] as const).flatMap((level) => {
    const n = failures.filter((f) => levelOf(f) === level).length
    const plural = level === "repository" ? "repositories" : "watcher files"
    return n === 0 ? [] : [`${n} ${n === 1 ? level : plural} failed`]
  })
  return said.length === 0 ? "" : `; ${said.join(", ")}`
}

/** The human report printed by `--once`. */
export const formatReport = (report: PassReport): string =>
  reportLines(report).map((line) => line.text).join("\n") + "\n"

/** `runner explain`: for each target asked about, how its tags were read and why the choice fell as it did. */
export const formatExplanations = (report: PassReport): string =>
  report.targets
    .flatMap((t) =>
      (t.explanations ?? []).map((e) => formatExplanation(`${t.image} in ${t.repoId}/${t.filePath} ${t.field}`, e))
    )
    .join("\n")

/** What `runner explain` prints of its pass: `out` on stdout, `err` on stderr, and whether it failed. */
export interface ExplainOutput {
  readonly out: string
  readonly err: string | undefined
  readonly failed: boolean
}

/**
 * The explanations and report lines of the targets asked about (`what` names them). Without any,
 * a repository or watcher file that failed may be where they are: its failure is shown, not an
 * absence that nothing showed.
 */
export const explainOutput = (report: PassReport, asked: (t: TargetReport) => boolean, what: string): ExplainOutput => {
  const targets = report.targets.filter(asked)
  if (targets.length === 0) {
    if (report.failures.length === 0) return { out: "", err: `runner explain: no target watches ${what} (${report.targets.length} targets read)`, failed: true }
    const failures = `${report.failures.length} ${report.failures.length === 1 ? "repository or watcher file" : "repositories or watcher files"}`
    return {
      out: formatReport({ targets: [], failures: report.failures, diffs: [] }),
      err: `runner explain: no target of ${what} found in what could be read; ${failures} failed (in the report)`,
      failed: true
    }
  }
  const mine = { ...report, targets }
  return { out: formatExplanations(mine) + formatReport({ ...mine, diffs: [] }), err: undefined, failed: passFailed(mine) }
}
