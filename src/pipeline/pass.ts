import { FileSystem, Path } from "@effect/platform"
import { Cause, Chunk, Duration, Effect, Either, Metric, Option, Stream } from "effect"
import type { Pipeline, PullRequestSettings, RepositoryConfig, WatchedRepo } from "../config/model.ts"
import { ConfigFailure, failureReason, GitFailure, InternalFailure, type ScopeFailureCause } from "../domain/failures.ts"
import { messageOf } from "../domain/foreignText.ts"
import { type GitAccess, workDir } from "../git/access.ts"
import { holdCloneLock } from "../git/cloneLock.ts"
import { type Checkout, type GitError, GitRepo } from "../git/GitRepo.ts"
import { gitOperationSeconds, pushRetries, targetFailures, targetUpdatesTotal } from "../metrics.ts"
import { mentions } from "../domain/messageTemplate.ts"
import { forgeOf } from "../forge/forgeOf.ts"
import { changeSetsOf, requestCommits } from "./changeSets.ts"
import { commitChanges, planCommits } from "./commit.ts"
import { loadParseCache, type ParseCache, saveParseCache } from "./ParseCache.ts"
import { type Decision, decide, stopped, type Update } from "./decide.ts"
import { stopOf } from "./holds.ts"
import { LastWritten, writtenKey } from "./LastWritten.ts"
import { isPaused, Pauses } from "./Pauses.ts"
import type { Prepared, Subject, TargetOrigin } from "./evidence.ts"
import { type FileTargets, readFields } from "./fields.ts"
import { type PatchedFile, patchFile, type Written } from "./patch.ts"
import { recordDecisions } from "./passMetrics.ts"
import { prepareTargets } from "./prepare.ts"
import { resolve } from "./resolve.ts"
import { listingKey, TagCache } from "./TagCache.ts"
import { gitFailure, pushCommits, retryOnRejectedPush } from "./push.ts"
import { inDeclarationOrder, type Outcome, type PassReport, reportOf, repositoryScope } from "./report.ts"
import { proposeChanges } from "./requests.ts"
import { WatchRouting } from "./WatchRouting.ts"
import { loadWatcherFiles } from "./watchers.ts"
import { discoverTargets } from "./discover.ts"

export interface PassOptions {
  readonly dryRun: boolean
  readonly dataDir: string
  /** `runner explain`: the targets whose reports carry how their tags were read. */
  readonly explain?: (target: Prepared["target"]) => boolean
}

/** A stage of a repository's pass: a span of its own, and its time in a debug log line. */
const stage =
  (repo: RepositoryConfig, name: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    effect.pipe(
      Effect.timed,
      Effect.tap(([took]) =>
        Effect.logDebug(`stage ${name} took ${Math.round(Duration.toMillis(took))}ms`).pipe(Effect.annotateLogs({ repo: repo.repoId }))
      ),
      Effect.map(([, value]) => value),
      Effect.withSpan(`pipeline.${name}`, { attributes: { repo: repo.repoId } })
    )

/** Images resolved at once for one repository's pass; each host's limiter paces their requests further. */
const MAX_REGISTRY_CONCURRENCY = 8

/**
 * A stream's elements through `f`, `concurrency` at a time, in order. Chunk by chunk with
 * Effect.forEach: Stream.mapEffect with concurrency runs each element through a channel and a
 * queue, which costs some 15 times the steps for the same work.
 */
const mapConcurrently =
  <A, B, E, R>(f: (a: A) => Effect.Effect<B, E, R>, concurrency: number) =>
  <E2, R2>(stream: Stream.Stream<A, E2, R2>): Stream.Stream<B, E | E2, R | R2> =>
    Stream.mapChunksEffect(stream, (chunk) => Effect.map(Effect.forEach(chunk, f, { concurrency }), Chunk.unsafeFromArray))

/** The targets grouped by (provider, image): each group is resolved once. */
const byImage = (files: ReadonlyArray<FileTargets>): ReadonlyArray<ReadonlyArray<Subject>> => {
  const groups = new Map<string, Array<Subject>>()
  for (const file of files) {
    for (const s of file.subjects) {
      // A suspended or paused target needs no listing.
      if (s.stop !== undefined) continue
      const key = listingKey(s.prepared.provider, s.prepared.image)
      const group = groups.get(key)
      if (group === undefined) groups.set(key, [s])
      else group.push(s)
    }
  }
  return [...groups.values()]
}

/** What the data dir and the config hold of each target: the tag last written, a suspension or a pause. */
const heldTargets = (dataDir: string, repoId: string, repoSuspended: boolean) =>
  Effect.gen(function* () {
    const written = yield* (yield* LastWritten).read(dataDir, repoId)
    const pauses = yield* (yield* Pauses).list(dataDir)
    return (p: Prepared): Pick<Subject, "lastWritten" | "stop"> => {
      const t = p.target
      const last = written.get(writtenKey(t))?.tag
      const stop = stopOf(t.suspended, repoSuspended, isPaused(pauses, repoId, t))
      return { ...(last === undefined ? {} : { lastWritten: last }), ...(stop === undefined ? {} : { stop }) }
    }
  })

/** Suspended and paused targets, decided without their images. */
const stoppedDecisions = (files: ReadonlyArray<FileTargets>): Map<TargetOrigin, Decision> =>
  new Map(files.flatMap((f) => f.subjects.flatMap((s) => (s.stop === undefined ? [] : [[s.prepared, stopped(s, s.stop)] as const]))))

/**
 * Records what was pushed as what the runner last wrote into each target: called once the push
 * went through, whatever carried it (a push to the branch, a request's branch).
 */
export const recordWritten = (dataDir: string, repoId: string, updates: ReadonlyArray<Update>) =>
  Effect.flatMap(LastWritten, (store) =>
    store.record(
      dataDir,
      repoId,
      updates.flatMap((u) => (u.chosen === undefined ? [] : [{ filePath: u.origin.target.filePath, field: u.origin.target.field, image: u.origin.target.image, tag: u.chosen }]))
    )
  )

/** Each file's decisions in the order its targets are declared, then patched. */
const patchAll = (files: ReadonlyArray<FileTargets>, decided: ReadonlyMap<TargetOrigin, Decision>, dryRun: boolean) =>
  Stream.fromIterable(files).pipe(
    Stream.map((f): PatchedFile => {
      const decisions = [...f.failed, ...f.subjects.flatMap((s) => decided.get(s.prepared) ?? [])]
      return f.file === undefined ? { decisions, written: [], diff: undefined } : patchFile(f.file, decisions, dryRun)
    }),
    Stream.runFold({ decisions: new Array<Decision>(), written: new Array<Written>(), diffs: new Array<string>() }, (all, f) => {
      // One at a time: a spread into push() puts every element on the stack.
      for (const d of f.decisions) all.decisions.push(d)
      for (const w of f.written) all.written.push(w)
      if (f.diff !== undefined) all.diffs.push(f.diff)
      return all
    })
  )

/**
 * One attempt at a repository from the checkout's current head:
 * watchers → prepare → read → resolve (by image) → decide → patch (by file) → commit → push.
 * A rejected push fails with `PushRejected`, and the caller starts over from the new tip.
 */
const attempt = (pipeline: Pipeline, repo: RepositoryConfig, checkout: Checkout, cache: ParseCache, options: PassOptions) =>
  Effect.gen(function* () {
    const watchedRepo = pipeline.watchedRepos.find((w) => w.repoId === repo.repoId)
    const watchers = yield* loadWatcherFiles(checkout, watchedRepo, cache).pipe(stage(repo, "watchers"))
    const failures = watchers.failures.map((f) => ({
      pipeline: pipeline.name,
      repoId: repo.repoId,
      scope: `${repo.repoId}/${f.path}`,
      file: f.path,
      failure: new ConfigFailure({ detail: f.reason })
    }))
    const discovery = yield* discoverTargets(checkout, watchers.files, pipeline, cache).pipe(stage(repo, "discover"))
    const noticed = discovery.notes.map((note) => `${repo.repoId}  ${note}`)
    const { prepared, refused } = prepareTargets(pipeline, repo, discovery.files)
    // The daemon routes notifications of an image to the repositories that watch it.
    yield* (yield* WatchRouting).record(
      pipeline.name,
      repo.repoId,
      prepared.map((p) => ({ pipeline: pipeline.name, repoId: repo.repoId, provider: p.provider, image: p.image }))
    )
    const explain = options.explain
    const held = yield* heldTargets(options.dataDir, repo.repoId, watchedRepo?.suspend === true)
    const files = yield* readFields(checkout, prepared, { pipeline, cache, explain: explain === undefined ? undefined : (p) => explain(p.target), held }).pipe(
      stage(repo, "read")
    )
    const resolving = { pipeline, dataDir: options.dataDir }
    const decided = yield* Stream.fromIterable(byImage(files)).pipe(
      mapConcurrently(
        (subjects) => Effect.map(resolve(subjects, resolving), ({ evidence, decided }) => subjects.map((s) => decided.get(s) ?? decide(s, evidence))),
        MAX_REGISTRY_CONCURRENCY
      ),
      Stream.runFold(stoppedDecisions(files), (all, decisions) => {
        for (const d of decisions) all.set(d.origin, d)
        return all
      }),
      Effect.zipLeft(Effect.flatMap(TagCache, (c) => c.keepDates)),
      stage(repo, "resolve")
    )
    const patched = yield* patchAll(files, decided, options.dryRun).pipe(stage(repo, "patch"))
    const decisions = [...refused, ...patched.decisions]
    const done = (updated: (u: Update) => Outcome = () => ({ _tag: "WouldUpdate" }), requests: ReadonlyArray<string> = []) => {
      const notes = [...noticed, ...requests]
      return recordDecisions(pipeline, decisions).pipe(
        Effect.as<PassReport>({ targets: inDeclarationOrder(decisions.map((d) => reportOf(d, updated))), failures, diffs: patched.diffs, ...(notes.length === 0 ? {} : { notes }) })
      )
    }
    // `runner explain` tells how tags were read: it asks the code host nothing.
    const pullRequest = options.explain === undefined ? watchedRepo?.pullRequest : undefined
    if (pullRequest !== undefined) {
      const { outcomes, lines } = yield* propose(pipeline, repo, watchedRepo, pullRequest, checkout, { files, prepared, written: patched.written }, options).pipe(
        stage(repo, "propose")
      )
      return yield* done((u) => outcomes.get(u) ?? { _tag: "WouldUpdate" }, lines)
    }
    if (options.dryRun || patched.written.length === 0) return yield* done()

    const author = { name: pipeline.git.username, email: pipeline.git.email }
    const digestOf = yield* digestsFor(patched.written, [watchedRepo?.commitMessage])
    const commits = planCommits(patched.written, { repoId: repo.repoId, template: watchedRepo?.commitMessage, group: watchedRepo?.group, digestOf })
    const oids = yield* commitChanges(checkout, commits, author).pipe(stage(repo, "commit"))
    yield* pushCommits(checkout).pipe(timedGit("push"), stage(repo, "push"))
    yield* recordWritten(options.dataDir, repo.repoId, patched.written.map((w) => w.decision))
    const pushBranch = watchedRepo?.pushBranch
    // Without a push branch, reports read as they always have.
    const onBranch = pushBranch === undefined ? {} : { branch: pushBranch }
    const commitOf = new Map(commits.flatMap((c, i) => c.changes.map((w) => [w.decision, oids[i] ?? ""] as const)))
    yield* Metric.incrementBy(Metric.tagged(targetUpdatesTotal, "pipeline", pipeline.name), patched.written.length)
    const branch = pushBranch ?? repo.branch
    yield* Effect.logInfo(`pushed ${oids.length} commit(s) to ${branch}`).pipe(Effect.annotateLogs({ repo: repo.repoId, branch }))
    return yield* done((u) => ({ _tag: "Updated", commit: commitOf.get(u) ?? "", ...onBranch }))
  })

/**
 * `{{digest}}` of the changes whose field pins none: when a template uses it, the new tag's digest
 * is looked up, once per change (the tag cache shares a lookup of the same tag).
 */
const digestsFor = (written: ReadonlyArray<Written>, templates: ReadonlyArray<string | undefined>) =>
  Effect.gen(function* () {
    const found = new Map<Update, string>()
    const digestOf = (u: Update) => found.get(u)
    if (!templates.some((t) => mentions(t, "digest"))) return digestOf
    const cache = yield* TagCache
    yield* Effect.forEach(
      written,
      ({ decision: u }) =>
        u.plan.newDigest !== undefined
          ? Effect.void
          : cache.digest(u.subject.prepared.provider, u.subject.prepared.image, u.plan.newTag).pipe(
              Effect.map((digest) => void found.set(u, digest)),
              Effect.catchAll((e) => Effect.logWarning(`no digest of ${u.plan.image}:${u.plan.newTag} for {{digest}}: ${e.message}`))
            ),
      { concurrency: MAX_REGISTRY_CONCURRENCY, discard: true }
    )
    return digestOf
  })

/**
 * Write-back by request: each change set on a branch of its own, proposed against the watched
 * branch (requests.ts). A change set whose branch name does not work fails alone.
 */
const propose = (
  pipeline: Pipeline,
  repo: RepositoryConfig,
  watchedRepo: WatchedRepo | undefined,
  settings: PullRequestSettings,
  checkout: Checkout,
  pass: { readonly files: ReadonlyArray<FileTargets>; readonly prepared: ReadonlyArray<Prepared>; readonly written: ReadonlyArray<Written> },
  options: PassOptions
) =>
  Effect.gen(function* () {
    const sources = new Map(pass.files.flatMap((f) => (f.file === undefined ? [] : [[f.path, f.file] as const])))
    const targets = new Map<string, number>()
    for (const p of pass.prepared) targets.set(p.target.image, (targets.get(p.target.image) ?? 0) + 1)
    const digestOf = yield* digestsFor(pass.written, [watchedRepo?.commitMessage, settings.branchTemplate, settings.title, settings.body])
    const commits = requestCommits(pass.written, sources, { repoId: repo.repoId, template: watchedRepo?.commitMessage, group: watchedRepo?.group, digestOf })
    const sets = changeSetsOf(commits, { repoId: repo.repoId, settings, shared: (image) => (targets.get(image) ?? 0) > 1, digestOf })
    const ctx = {
      repoId: repo.repoId,
      base: repo.branch,
      baseTip: yield* checkout.head,
      settings,
      author: { name: pipeline.git.username, email: pipeline.git.email },
      dataDir: options.dataDir,
      dryRun: options.dryRun
    }
    const proposed = yield* proposeChanges(checkout, forgeOf(settings), sets.flatMap((s) => (Either.isRight(s) ? [s.right] : [])), ctx)
    const outcomes = new Map(proposed.outcomes)
    for (const s of sets) if (Either.isLeft(s)) for (const u of s.left.updates) outcomes.set(u, { _tag: "Failed", failure: new ConfigFailure({ detail: s.left.problem }) })
    return { outcomes, lines: proposed.lines }
  })

const timedGit = (operation: "clone" | "fetch" | "push") => Metric.trackDurationWith(gitOperationSeconds(operation), Duration.toSeconds)

/** Counts a pass's failures by family, per repository. */
const countFailures = (pipeline: Pipeline, repo: RepositoryConfig, report: PassReport) =>
  Effect.forEach(
    [
      ...report.targets.flatMap((t) => (t.outcome._tag === "Failed" ? [failureReason(t.outcome.failure)] : [])),
      ...report.failures.map((f) => failureReason(f.failure))
    ],
    (reason) => Metric.increment(targetFailures({ pipeline: pipeline.name, repo: repo.repoId, reason })),
    { discard: true }
  )

/** The whole flow for one repository: sync, then the stages, again from the new tip while pushes are rejected. */
export const repoPass = (pipeline: Pipeline, repo: RepositoryConfig, options: PassOptions, access: Either.Either<GitAccess, GitFailure>) =>
  repoStages(pipeline, repo, options, access).pipe(
    // A defect fails this repository, not the pass: the others still run and report. An
    // interruption (a stopping service) is no defect and goes on up.
    Effect.catchAllCause((cause) =>
      Option.match(Cause.dieOption(cause), {
        onNone: () => Effect.failCause(cause),
        onSome: (defect) =>
          Effect.logError("internal error in a repository's pass", cause).pipe(
            Effect.annotateLogs({ pipeline: pipeline.name, repo: repo.repoId }),
            Effect.zipRight(finish(pipeline, repo, scopeFailureOf(pipeline, repo, new InternalFailure({ detail: messageOf(defect) }))))
          )
      })
    )
  )

const scopeFailureOf = (pipeline: Pipeline, repo: RepositoryConfig, failure: ScopeFailureCause): PassReport => ({
  targets: [],
  failures: [{ pipeline: pipeline.name, repoId: repo.repoId, scope: repositoryScope(repo.repoId), failure }],
  diffs: []
})

const finish = (pipeline: Pipeline, repo: RepositoryConfig, report: PassReport) => countFailures(pipeline, repo, report).pipe(Effect.as(report))

const repoStages = Effect.fn("pipeline.repoPass")(function* (
  pipeline: Pipeline,
  repo: RepositoryConfig,
  options: PassOptions,
  access: Either.Either<GitAccess, GitFailure>
) {
  const git = yield* GitRepo
  const path = yield* Path.Path
  const scopeFailure = (failure: ScopeFailureCause) => scopeFailureOf(pipeline, repo, failure)
  const done = (report: PassReport) => finish(pipeline, repo, report)
  if (Either.isLeft(access)) return yield* done(scopeFailure(access.left))
  const dir = workDir(path, options.dataDir, pipeline, repo)
  // One pass at a time in a clone, across runners sharing the data dir, held until the push is done.
  const locked = yield* holdCloneLock(repo.repoId, dir).pipe(Effect.either)
  if (Either.isLeft(locked)) return yield* done(scopeFailure(gitFailure(locked.left)))
  const pushBranch = pipeline.watchedRepos.find((w) => w.repoId === repo.repoId)?.pushBranch
  const spec = { repoId: repo.repoId, remote: repo.remote, branch: repo.branch, pushBranch, ...access.right }
  // Opening clones when there is no clone to reuse yet (the directory may exist, empty), and fetches into it otherwise.
  const reused = yield* (yield* FileSystem.FileSystem).exists(`${dir}/HEAD`).pipe(Effect.orElseSucceed(() => false))
  const opening = reused ? "fetch" : "clone"
  const opened = yield* git.open(spec, dir).pipe(timedGit(opening), stage(repo, "open"), Effect.either)
  if (Either.isLeft(opened)) return yield* done(scopeFailure(gitFailure(opened.left)))
  const checkout = opened.right

  // Beside the working copy, which a new clone replaces: the parses of its blobs stay true.
  const cacheFile = `${dir}.parsed.json`
  const cache = yield* loadParseCache(cacheFile)
  let first = true
  const run = Effect.suspend(() => {
    // Every attempt after the first follows a rejected push.
    const sync: Effect.Effect<unknown, GitError> = first ? Effect.void : Metric.increment(pushRetries).pipe(Effect.zipRight(checkout.sync.pipe(timedGit("fetch"))))
    first = false
    return sync.pipe(Effect.zipRight(attempt(pipeline, repo, checkout, cache, options)))
  })
  const result = yield* retryOnRejectedPush(repo.repoId, run).pipe(Effect.either)
  yield* saveParseCache(cacheFile, cache)
  return yield* done(Either.isRight(result) ? result.right : scopeFailure(gitFailure(result.left)))
}, Effect.scoped)
