/**
 * The request stage of write-back with `pullRequest`: each change set goes to a branch of its own
 * and one pull or merge request against the watched branch. Nothing is ever forced. An open
 * request is kept current by merging the base into its branch; one that conflicts is closed and
 * replaced on a suffixed branch. A request a person closed unmerged declines its tag for good; a
 * merged one the base no longer holds was rolled back. A newer change closes the older requests of
 * the same targets. The runner knows its requests by the marker in their bodies.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Metric, Option } from "effect"
import type { PullRequestSettings } from "../config/model.ts"
import { ForgeFailure, type TargetFailure } from "../domain/failures.ts"
import type { Forge, ForgeError, ReviewRequest } from "../forge/Forge.ts"
import type { Author, Checkout, GitError } from "../git/GitRepo.ts"
import { pullRequestOperations, pullRequests } from "../metrics.ts"
import { type ChangeSet, MARKER, targetsOfBody } from "./changeSets.ts"
import type { Update } from "./decide.ts"
import { LastWritten } from "./LastWritten.ts"
import { gitFailure } from "./push.ts"
import type { Outcome } from "./report.ts"
import { type RequestChange, type RequestLog, readRequestLog, writeRequestLog } from "./requestLog.ts"

export interface RequestContext {
  readonly repoId: string
  /** The watched branch, which requests target, and its tip as this pass read it. */
  readonly base: string
  readonly baseTip: string
  readonly settings: PullRequestSettings
  readonly author: Author
  readonly dataDir: string
  readonly dryRun: boolean
}

export interface Proposals {
  readonly outcomes: ReadonlyMap<Update, Outcome>
  /** What was done to requests, or would be: one report line each. */
  readonly lines: ReadonlyArray<string>
}

/** Suffixed branches tried after a request was replaced for a conflict: `<branch>-2` up to this. */
const MAX_REPLACEMENTS = 9

type StepError = ForgeError | GitError | Refusal

/** A change set the stage will not carry out, in its own words. */
class Refusal {
  readonly _tag = "Refusal"
  constructor(readonly message: string) {}
}

const failureOf = (e: StepError): TargetFailure =>
  e._tag === "ForgeError" ? new ForgeFailure({ reason: e.reason, detail: e.message }) : e._tag === "GitError" ? gitFailure(e) : new ForgeFailure({ reason: "Refused", detail: e.message })

/** An operation on the host or a request branch, counted by its outcome. */
const counted = <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapBoth({
      onFailure: () => Metric.increment(pullRequestOperations({ operation, outcome: "error" })),
      onSuccess: () => Metric.increment(pullRequestOperations({ operation, outcome: "ok" }))
    })
  )

/** `pull request #12`, GitLab's `merge request !12`. */
const nameOf = (settings: PullRequestSettings, number: number) => (settings.provider === "gitlab" ? `merge request !${number}` : `pull request #${number}`)
const refOf = (settings: PullRequestSettings, number: number) => (settings.provider === "gitlab" ? `!${number}` : `#${number}`)

/** The outcome of an update a request proposes: `opened` by this pass, or open since an earlier one. */
const proposed = (settings: PullRequestSettings, request: ReviewRequest, branch: string, opened: boolean): Outcome => ({
  _tag: "Proposed",
  request: nameOf(settings, request.number),
  url: request.url,
  branch,
  opened
})

/** Records changes as written into their targets: what a person may roll back below. */
const recordWrittenChanges = (ctx: RequestContext, changes: ReadonlyArray<RequestChange>) =>
  Effect.flatMap(LastWritten, (store) => store.record(ctx.dataDir, ctx.repoId, changes))

const changesOf = (updates: ReadonlyArray<Update>): ReadonlyArray<RequestChange> =>
  updates.map((u) => ({ filePath: u.origin.target.filePath, field: u.origin.target.field, image: u.origin.target.image, tag: u.plan.newTag }))

/** What became of one change set: each of its updates' outcome, and the request that now proposes them. */
interface SetResult {
  readonly outcome: (u: Update) => Outcome
  /** Whether a request proposes the changes now (or would, in a dry run): what supersedes older ones. */
  readonly live: boolean
  readonly request?: ReviewRequest
  readonly branch: string
}

interface Stage {
  readonly checkout: Checkout
  readonly forge: Forge
  readonly ctx: RequestContext
  readonly log: RequestLog
  readonly lines: Array<string>
}

/** Whether the branch's tip is the runner's own commit: only then may the runner delete it. */
const ownTip = (stage: Stage, branch: string) =>
  Effect.flatMap(stage.checkout.branches.fetch(branch), (tip) =>
    Option.match(tip, { onNone: () => Effect.succeed(false), onSome: (oid) => Effect.map(stage.checkout.branches.authorOf(oid), (a) => a.email === stage.ctx.author.email) })
  )

/** Closes a request with a comment, and deletes its branch when its tip is the runner's own commit. */
const closeRequest = (stage: Stage, request: ReviewRequest, comment: string, because: "superseded" | "replaced") =>
  Effect.gen(function* () {
    const { ctx, forge, log } = stage
    const name = nameOf(ctx.settings, request.number)
    if (ctx.dryRun) {
      stage.lines.push(`${ctx.repoId}  would close ${name}: ${comment}`)
      return
    }
    yield* counted("close", forge.close(request.number, comment))
    log.closed.set(request.number, because)
    log.open.delete(request.number)
    stage.lines.push(`${ctx.repoId}  closed ${name}: ${comment}`)
    // A branch left behind is untidy, not wrong: its failure is said, and the pass goes on.
    const deleted = Effect.flatMap(ownTip(stage, request.branch), (own) => (own ? counted("delete_branch", forge.deleteBranch(request.branch)) : Effect.void))
    yield* deleted.pipe(Effect.catchAll((e) => Effect.sync(() => void stage.lines.push(`${ctx.repoId}  branch ${request.branch} of ${name} not deleted: ${e.message}`))))
  })

/** Opens the request of a change set on `branch`: the branch pushed from the base (or the runner's own, brought up to date), then the request. */
const openOn = (stage: Stage, set: ChangeSet, branch: string): Effect.Effect<SetResult, StepError> =>
  Effect.gen(function* () {
    const { checkout, ctx, forge } = stage
    const kind = ctx.settings.provider === "gitlab" ? "merge request" : "pull request"
    if (ctx.dryRun) {
      stage.lines.push(`${ctx.repoId}  would open a ${kind} on ${branch}: ${set.title}`)
      return { outcome: () => ({ _tag: "WouldUpdate" }), live: true, branch }
    }
    const tip = yield* checkout.branches.fetch(branch)
    let head: string
    if (Option.isSome(tip)) {
      // Left by an earlier pass that pushed and could not open: the same changes, by their name.
      const author = yield* checkout.branches.authorOf(tip.value)
      if (author.email !== ctx.author.email) return yield* Effect.fail(new Refusal(`branch ${branch} exists and its tip is not the runner's commit: rename it, or set branchTemplate`))
      const merged = yield* checkout.branches.merge(tip.value, ctx.baseTip, `Merge ${ctx.base} into ${branch}`, ctx.author)
      if (merged._tag === "Conflict") return yield* Effect.fail(new Refusal(`branch ${branch} conflicts with ${ctx.base} in ${merged.paths.join(", ")}`))
      head = merged._tag === "Merged" ? merged.oid : tip.value
    } else {
      const [oid] = yield* checkout.branches.commitOnto(ctx.baseTip, [{ files: set.commit.files, message: set.commit.message, author: ctx.author }])
      if (oid === undefined) return yield* Effect.fail(new Refusal(`no commit written for ${branch}`))
      head = oid
    }
    if (Option.isNone(tip) || head !== tip.value) {
      const pushed = yield* checkout.branches.push(branch, head)
      if (pushed._tag === "Rejected") return yield* Effect.fail(new Refusal(`push to ${branch} rejected, another writer moved it: ${pushed.reason}`))
    }
    const request = yield* counted("open", forge.open({ branch, base: ctx.base, title: set.title, body: set.body, labels: ctx.settings.labels }))
    stage.log.open.set(request.number, { branch, changes: changesOf(set.updates) })
    stage.lines.push(`${ctx.repoId}  opened ${nameOf(ctx.settings, request.number)} on ${branch}: ${request.url}`)
    if (ctx.settings.autoMerge) {
      yield* counted("auto_merge", forge.autoMerge(request)).pipe(
        Effect.catchAll((e) => Effect.sync(() => void stage.lines.push(`${ctx.repoId}  auto-merge of ${nameOf(ctx.settings, request.number)} not enabled: ${e.message}`)))
      )
    }
    return { outcome: () => proposed(ctx.settings, request, branch, true), live: true, request, branch }
  })

/**
 * Keeps an open request current: the base merged into its branch when the base moved. Undefined
 * when the merge conflicts: the request was closed, and the change set goes to the next branch.
 */
const keepCurrent = (stage: Stage, request: ReviewRequest): Effect.Effect<SetResult | undefined, StepError> =>
  Effect.gen(function* () {
    const { checkout, ctx } = stage
    const name = nameOf(ctx.settings, request.number)
    const result: SetResult = { outcome: () => proposed(ctx.settings, request, request.branch, false), live: true, request, branch: request.branch }
    if (ctx.dryRun) return result
    const tip = yield* checkout.branches.fetch(request.branch)
    if (Option.isNone(tip)) return result
    const merged = yield* counted("merge_base", checkout.branches.merge(tip.value, ctx.baseTip, `Merge ${ctx.base} into ${request.branch}`, ctx.author))
    if (merged._tag === "UpToDate") return result
    if (merged._tag === "Merged") {
      const pushed = yield* checkout.branches.push(request.branch, merged.oid)
      stage.lines.push(
        pushed._tag === "Pushed" ? `${ctx.repoId}  merged ${ctx.base} into ${name} (${request.branch})` : `${ctx.repoId}  ${name} not brought up to date: its branch moved meanwhile`
      )
      return result
    }
    yield* closeRequest(stage, request, `${ctx.base} moved and now conflicts with this change (${merged.paths.join(", ")}); the runner replaces this request with a new one.`, "replaced")
    return undefined
  })

/** One change set: its open request kept current, its history respected, or a new request opened. */
const proposeSet = (stage: Stage, set: ChangeSet, mine: ReadonlyArray<ReviewRequest>): Effect.Effect<SetResult, StepError, LastWritten> =>
  Effect.gen(function* () {
    const { ctx, forge, log } = stage
    for (let n = 1; n <= MAX_REPLACEMENTS; n++) {
      const branch = n === 1 ? set.branch : `${set.branch}-${n}`
      const open = mine.find((r) => r.branch === branch)
      if (open !== undefined) {
        const kept = yield* keepCurrent(stage, open)
        if (kept === undefined) continue
        if (!ctx.dryRun) log.open.set(open.number, { branch, changes: changesOf(set.updates) })
        return kept
      }
      const [latest] = yield* counted("list", forge.requestsFor(branch))
      if (latest === undefined || log.closed.get(latest.number) === "superseded") return yield* openOn(stage, set, branch)
      // Open, but not the runner's (no marker, or against another base): nothing the runner may touch.
      if (latest.state === "open") return { outcome: () => proposed(ctx.settings, latest, branch, false), live: false, branch }
      if (latest.state === "merged") {
        // Merged, yet the base holds the old tag again: a person rolled it back.
        if (!ctx.dryRun) yield* recordWrittenChanges(ctx, changesOf(set.updates))
        return { outcome: (u) => ({ _tag: "Held", reason: { _tag: "RolledBack", below: u.plan.newTag } }), live: false, branch }
      }
      if (log.closed.get(latest.number) !== "replaced") return { outcome: () => ({ _tag: "Held", reason: { _tag: "Declined", request: refOf(ctx.settings, latest.number) } }), live: false, branch }
    }
    return yield* Effect.fail(new Refusal(`${set.branch} was replaced ${MAX_REPLACEMENTS} times after conflicts; close or merge its requests`))
  })

/**
 * Requests the runner left open that are open no more: a merge records its changes as written
 * (so that a rollback is obeyed), and either way the log forgets them.
 */
const noticeClosed = (stage: Stage, mine: ReadonlyArray<ReviewRequest>) =>
  Effect.gen(function* () {
    const { ctx, log } = stage
    const open = new Set(mine.map((r) => r.number))
    for (const [number, entry] of [...log.open]) {
      if (open.has(number)) continue
      const found = (yield* counted("list", stage.forge.requestsFor(entry.branch))).find((r) => r.number === number)
      if (found?.state === "merged") yield* recordWrittenChanges(ctx, entry.changes)
      if (found?.state !== "open") log.open.delete(number)
    }
  })

/** Closes the runner's open requests of the same targets as a request of this pass on another branch. */
const supersede = (stage: Stage, mine: ReadonlyArray<ReviewRequest>, results: ReadonlyArray<{ readonly set: ChangeSet; readonly result: SetResult }>) =>
  Effect.gen(function* () {
    const current = new Set(results.map(({ result }) => result.branch))
    for (const request of mine) {
      if (current.has(request.branch) || stage.log.closed.has(request.number)) continue
      const targets = new Set(targetsOfBody(request.body, stage.ctx.repoId) ?? [])
      const by = results.find(({ set, result }) => result.live && set.targets.some((t) => targets.has(t)))
      if (by === undefined) continue
      const newer = by.result.request === undefined ? `the request on ${by.result.branch}` : refOf(stage.ctx.settings, by.result.request.number)
      yield* closeRequest(stage, request, `Superseded by ${newer}.`, "superseded")
    }
  })

/**
 * The request stage for a repository's change sets. A failure of the host's listing fails every
 * change (nothing is pushed before it answers); a failure of one change set fails its updates only.
 */
export const proposeChanges = <R>(
  checkout: Checkout,
  forgeOf: Effect.Effect<Forge, ForgeError, R>,
  sets: ReadonlyArray<ChangeSet>,
  ctx: RequestContext
): Effect.Effect<Proposals, never, R | LastWritten | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const outcomes = new Map<Update, Outcome>()
    const log = yield* readRequestLog(ctx.dataDir, ctx.repoId)
    // Nothing to propose and nothing left open: the host is not asked.
    if (sets.length === 0 && log.open.size === 0) return { outcomes, lines: [] }
    const listed = yield* Effect.flatMap(forgeOf, (forge) => Effect.map(counted("list", forge.openRequests(ctx.base, MARKER)), (open) => ({ forge, open }))).pipe(Effect.either)
    if (Either.isLeft(listed)) {
      const failure = failureOf(listed.left)
      for (const set of sets) for (const u of set.updates) outcomes.set(u, { _tag: "Failed", failure })
      return { outcomes, lines: sets.length === 0 ? [`${ctx.repoId}  requests: ${failure.message}`] : [] }
    }
    const { forge } = listed.right
    const mine = listed.right.open.filter((r) => targetsOfBody(r.body, ctx.repoId) !== undefined)
    const stage: Stage = { checkout, forge, ctx, log, lines: [] }
    const results: Array<{ readonly set: ChangeSet; readonly result: SetResult }> = []
    const steps = Effect.gen(function* () {
      yield* noticeClosed(stage, mine)
      for (const set of sets) {
        const result = yield* proposeSet(stage, set, mine).pipe(Effect.either)
        if (Either.isLeft(result)) {
          const failure = failureOf(result.left)
          for (const u of set.updates) outcomes.set(u, { _tag: "Failed", failure })
          continue
        }
        results.push({ set, result: result.right })
        for (const u of set.updates) outcomes.set(u, result.right.outcome(u))
      }
      yield* supersede(stage, mine, results)
    })
    // A failure past the listing (the host went away) leaves what was done done, and said.
    const broke = yield* steps.pipe(Effect.either)
    if (Either.isLeft(broke)) stage.lines.push(`${ctx.repoId}  requests: ${failureOf(broke.left).message}`)
    if (!ctx.dryRun) yield* writeRequestLog(ctx.dataDir, ctx.repoId, stage.log)
    const declined = [...outcomes.values()].filter((o) => o._tag === "Held" && o.reason?._tag === "Declined").length
    yield* Metric.set(pullRequests({ repo: ctx.repoId, state: "open" }), stage.log.open.size)
    yield* Metric.set(pullRequests({ repo: ctx.repoId, state: "declined" }), declined)
    return { outcomes, lines: stage.lines }
  })
