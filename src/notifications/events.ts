/**
 * What a pass tells the receivers, derived from its report and what earlier passes told: pure, so
 * that its rules read as a table. A subject is a target (pipeline, repository, file, field) or a
 * scope that failed whole (a repository, a watcher file). Only subjects failing or held are kept.
 */
import { Either } from "effect"
import type { NotificationEvent, NotificationRoute } from "../config/model.ts"
import { remoteLocation } from "../config/pullRequest.ts"
import { oneLine } from "../domain/foreignText.ts"
import { imageGlob } from "../domain/glob.ts"
import { memoizeString } from "../memo.ts"
import { holdText } from "../pipeline/holds.ts"
import { type PassReport, repositoryScope, type TargetReport } from "../pipeline/report.ts"

/** One event, with the fields a receiver is told; `time` is added when it is queued. */
export interface Notice {
  readonly event: NotificationEvent
  readonly pipeline: string
  readonly repo: string
  readonly image?: string
  /** Of a chart target, how reports name it: `chart nginx (bitnami)`. */
  readonly chart?: string
  readonly from?: string
  readonly to?: string
  readonly file?: string
  readonly field?: string
  readonly commit?: string
  readonly url?: string
  readonly reason?: string
  /** The repository or watcher file that failed whole (or recovered). */
  readonly scope?: string
}

/** What is kept of a subject between passes. */
export interface Subject {
  readonly pipeline: string
  readonly repo: string
  /** Set for a scope subject: its scope as the report names it. */
  readonly scope?: string
  readonly failing: boolean
  /** What is held (a tag, or the reason), told once. */
  readonly held?: string
  /** When a pass last saw the subject, in milliseconds since the epoch. */
  readonly seen: number
}

/** Subjects kept at most; past it, the longest unseen go first. */
export const MAX_SUBJECTS = 10_000

/** What a pass covered: its pipeline, the remotes of its repositories, and which of them it passed over (all when undefined). */
export interface PassScope {
  readonly pipeline: string
  readonly remoteOf: (repoId: string) => string | undefined
  readonly repoIds?: ReadonlySet<string>
}

const targetKey = (t: TargetReport): string => JSON.stringify(["target", t.pipeline, t.repoId, t.filePath, t.field])
const scopeKey = (pipeline: string, scope: string): string => JSON.stringify(["scope", pipeline, scope])

/** A commit's page on the hosts whose URLs are known: github.com and gitlab.com. */
export const commitURL = (remote: string | undefined, commit: string): string | undefined => {
  const location = remote === undefined ? undefined : remoteLocation(remote)
  if (location === undefined || location.path === "") return undefined
  const host = location.host.toLowerCase()
  if (host === "github.com") return `https://github.com/${location.path}/commit/${commit}`
  if (host === "gitlab.com") return `https://gitlab.com/${location.path}/-/commit/${commit}`
  return undefined
}

/** The candidate the gates held (`held: 1.3.0 too new ...`), else why the target is held. */
const heldOf = (t: TargetReport): { readonly key: string; readonly tag?: string; readonly reason: string } => {
  const o = t.outcome
  if (o._tag === "Held" && o.reason !== undefined) return { key: holdText(o.reason), reason: holdText(o.reason) }
  const note = t.gateNotes?.[0]
  const tag = note === undefined ? undefined : /^[a-z]+: (\S+)/.exec(note)?.[1]
  return { key: tag ?? t.chosen ?? "held", ...(tag === undefined ? {} : { tag }), reason: note ?? "held back by the gates" }
}

const aboutTarget = (t: TargetReport) => ({
  pipeline: t.pipeline,
  repo: t.repoId,
  image: t.image,
  ...(t.chart === undefined ? {} : { chart: t.chart }),
  ...(t.current === undefined ? {} : { from: t.current }),
  file: t.filePath,
  field: t.field
})

/** The notices of one target's outcome, and what is kept of it after. */
const ofTarget = (t: TargetReport, before: Subject | undefined, scope: PassScope, now: number) => {
  const o = t.outcome
  const about = aboutTarget(t)
  const notices: Array<Notice> = []
  const subject = { pipeline: t.pipeline, repo: t.repoId, seen: now }
  if (o._tag === "Failed") {
    if (before?.failing !== true) notices.push({ event: "failed", ...about, reason: oneLine(o.failure.message) })
    return { notices, after: { ...subject, failing: true } }
  }
  if (before?.failing === true) notices.push({ event: "recovered", ...about, ...(t.chosen === undefined ? {} : { to: t.chosen }) })
  if (o._tag === "Updated") {
    const url = commitURL(scope.remoteOf(t.repoId), o.commit)
    notices.push({ event: "updated", ...about, ...(t.chosen === undefined ? {} : { to: t.chosen }), commit: o.commit, ...(url === undefined ? {} : { url }) })
  }
  if (o._tag === "Proposed" && o.opened) {
    notices.push({ event: "updated", ...about, ...(t.chosen === undefined ? {} : { to: t.chosen }), url: o.url, reason: `${o.request} opened` })
  }
  if (o._tag !== "Held") return { notices, after: undefined }
  const held = heldOf(t)
  if (before?.held !== held.key) notices.push({ event: "held", ...about, ...(held.tag === undefined ? {} : { to: held.tag }), reason: oneLine(held.reason) })
  return { notices, after: { ...subject, failing: false, held: held.key } }
}

/** Keeps the `max` subjects seen last. */
const bounded = (kept: Map<string, Subject>, max: number): Map<string, Subject> =>
  kept.size <= max ? kept : new Map([...kept].sort((a, b) => b[1].seen - a[1].seen).slice(0, max))

/**
 * The notices of a pass, in report order (targets, then scopes that failed, then those
 * recovered), and the subjects kept after it. A repository the pass did not cover, or could not
 * read, recovers nothing.
 */
export const noticesOf = (report: PassReport, scope: PassScope, kept: ReadonlyMap<string, Subject>, now: number, max = MAX_SUBJECTS) => {
  const after = new Map(kept)
  const notices: Array<Notice> = []
  for (const t of report.targets) {
    const key = targetKey(t)
    const told = ofTarget(t, kept.get(key), scope, now)
    notices.push(...told.notices)
    if (told.after === undefined) after.delete(key)
    else after.set(key, told.after)
  }
  const failing = new Set<string>()
  for (const f of report.failures) {
    const key = scopeKey(f.pipeline, f.scope)
    failing.add(key)
    if (kept.get(key)?.failing !== true) notices.push({ event: "failed", pipeline: f.pipeline, repo: f.repoId, scope: f.scope, reason: oneLine(f.failure.message) })
    after.set(key, { pipeline: f.pipeline, repo: f.repoId, scope: f.scope, failing: true, seen: now })
  }
  const unread = new Set(report.failures.filter((f) => f.scope === repositoryScope(f.repoId)).map((f) => f.repoId))
  for (const [key, s] of kept) {
    const covered = s.pipeline === scope.pipeline && (scope.repoIds === undefined || scope.repoIds.has(s.repo)) && !unread.has(s.repo)
    if (s.scope === undefined || !s.failing || failing.has(key) || !covered) continue
    notices.push({ event: "recovered", pipeline: s.pipeline, repo: s.repo, scope: s.scope })
    after.delete(key)
  }
  return { notices, kept: bounded(after, max) }
}

/** The routes a notice goes by: its event, repository and image among each route's. */
export const routesOf = (notice: Notice, routes: ReadonlyArray<NotificationRoute>): ReadonlyArray<NotificationRoute> =>
  routes.filter((route) => {
    if (!route.events.includes(notice.event)) return false
    if (route.repos !== undefined && !route.repos.includes(notice.repo)) return false
    if (route.images === undefined) return true
    const image = notice.image
    return image !== undefined && route.images.some((glob) => globOf(glob)(image))
  })

// The config loader refused invalid globs, so a failure here matches nothing.
const globOf = memoizeString((pattern) => Either.getOrElse(imageGlob(pattern), () => () => false))
