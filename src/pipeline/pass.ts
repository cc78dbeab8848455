import { FileSystem, Path } from "@effect/platform"
import { createHash } from "node:crypto"
import { Clock, Data, Duration, Effect, Either, Metric, Option, Redacted, Schedule } from "effect"
import type { Pipeline, RepositoryConfig, Target } from "../config/model.ts"
import { writeFileWhole } from "../files.ts"
import { type Checkout, type FileChange, GitRepo, type RepoSpec } from "../git/GitRepo.ts"
import { type Manifest, parseManifest, type PatchError, type ScalarHit, spliceManifest } from "../manifest/patch.ts"
import type { TagInfo } from "../policy/TagPolicy.ts"
import { targetUpdatesTotal } from "../metrics.ts"
import { imageName } from "../registry/ImageRef.ts"
import { unrankedReason } from "../policy/explain.ts"
import { type CompiledTarget, compileTarget, currentTags, fieldHits, planTarget, type TargetPlan } from "./diff.ts"
import { TagCache } from "./fetchTags.ts"
import { loadParseCache, type ParseCache, saveParseCache } from "./ParseCache.ts"
import { type PassReport, type TargetReport } from "./report.ts"
import { unifiedDiff } from "./unifiedDiff.ts"
import { WatchIndex } from "./WatchIndex.ts"
import { loadWatcherFiles } from "./watchers.ts"

export interface PassOptions {
  readonly dryRun: boolean
  readonly dataDir: string
  /** `runner explain`: the targets whose reports carry how their tags were read. */
  readonly explain?: (target: Target) => boolean
}

class PushRejected extends Data.TaggedError("PushRejected")<{ readonly reason: string }> {}

const PUSH_ATTEMPTS = 5

/** Another writer moved the branch: fetch, recompute, push again, a few times with growing pauses. */
export const pushRetry = Schedule.exponential("250 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(PUSH_ATTEMPTS - 1))
)

const MAX_REGISTRY_CONCURRENCY = 8

/** A target that passed the static checks, ready for the fetch stage. */
interface Prepared extends CompiledTarget {
  readonly target: Target
  readonly watcherFile: string
  readonly provider: Pipeline["providers"][number]
}

/** Fixed per directory name: one working copy per pipeline, repository, remote and branch. */
const workDir = (path: Path.Path, dataDir: string, pipeline: Pipeline, repo: RepositoryConfig): string => {
  // Per pipeline too: pipelines run at once, and two passes must never share a clone.
  const hash = createHash("sha256").update(`${pipeline.name}\u0000${repo.remote}\u0000${repo.branch}`).digest("hex").slice(0, 12)
  return path.join(dataDir, "repos", `${repo.repoId.replace(/[^A-Za-z0-9._-]/g, "_")}-${hash}`)
}

const baseReport = (pipeline: Pipeline, repo: RepositoryConfig, watcherFile: string, target: Target) => ({
  pipeline: pipeline.name,
  repoId: repo.repoId,
  watcherFile,
  line: target.source.line,
  filePath: target.filePath,
  field: target.field,
  image: target.image
})

const failed = (
  pipeline: Pipeline,
  repo: RepositoryConfig,
  watcherFile: string,
  target: Target,
  reason: string,
  current?: string
): TargetReport => ({
  ...baseReport(pipeline, repo, watcherFile, target),
  current,
  chosen: undefined,
  listed: undefined,
  kept: undefined,
  outcome: { _tag: "Failed", reason }
})

/**
 * The diff stage for one target, with the registry lookups it may need: the digest of the
 * chosen tag when the field pins one (looked up once per tag and provider interval).
 */
const planWithDigests = (
  hits: ReadonlyArray<ScalarHit>,
  p: Prepared,
  listed: ReadonlyArray<TagInfo>
): Effect.Effect<Either.Either<TargetPlan, string>, never, TagCache> => {
  // Most targets need no look-up: answer without running an effect for each.
  const first = planTarget(hits, p.target, p, listed)
  if (Either.isLeft(first)) return Effect.succeed(Either.left(first.left))
  if (first.right._tag === "Planned") return Effect.succeed(Either.right(first.right.plan))
  let planned = first.right
  return Effect.gen(function* () {
    const cache = yield* TagCache
    let tags = listed
    for (;;) {
      const tag = planned.tag
      if (tags.some((t) => t.tag === tag && t.digest !== undefined)) return Either.left(`no digest for ${tag}`)
      const digest = yield* Effect.either(cache.digest(p.provider, p.image, tag))
      if (Either.isLeft(digest)) return Either.left(`provider ${p.provider.name}: ${digest.left.message}`)
      tags = tags.map((t) => (t.tag === tag ? { ...t, digest: digest.right } : t))
      const result = planTarget(hits, p.target, p, tags)
      if (Either.isLeft(result)) return Either.left(result.left)
      if (result.right._tag === "Planned") return Either.right(result.right.plan)
      planned = result.right
    }
  })
}

/** Milliseconds spent in each stage of an attempt, logged at debug level to show where a pass goes. */
const stageClock = Effect.map(Clock.currentTimeMillis, (start) => {
  const spent: Array<string> = []
  let last = start
  return {
    mark: (stage: string) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        spent.push(`${stage}=${now - last}ms`)
        last = now
      }),
    log: (repo: RepositoryConfig) =>
      Effect.logDebug(`stages ${spent.join(" ")}`).pipe(Effect.annotateLogs({ repo: repo.repoId }))
  }
})

/**
 * One attempt at a repository from the checkout's current head: the diff, patch and commit
 * stages for every target, then the push. A rejected push fails with `PushRejected` so the
 * caller can start over from the new tip.
 */
const attempt = (pipeline: Pipeline, repo: RepositoryConfig, checkout: Checkout, cache: ParseCache, options: PassOptions) =>
  Effect.gen(function* () {
    const stages = yield* stageClock
    const tags = yield* TagCache
    const watchedRepo = pipeline.watchedRepos.find((w) => w.repoId === repo.repoId)
    const watchers = yield* loadWatcherFiles(checkout, watchedRepo, cache)
    const reports: Array<TargetReport> = []
    yield* stages.mark("watchers")
    const failures = watchers.failures.map((f) => ({ pipeline: pipeline.name, scope: `${repo.repoId}/${f.path}`, reason: f.reason }))

    // Static checks: everything that can be refused before a registry is called.
    const prepared: Array<Prepared> = []
    for (const file of watchers.files) {
      for (const target of file.targets) {
        // Config errors of a target name its watcher file and line, like config errors elsewhere.
        const fail = (reason: string) =>
          reports.push(failed(pipeline, repo, file.path, target, `${target.source.file}:${target.source.line}: ${reason}`))
        const provider = pipeline.providers.find((p) => p.name === target.provider)
        const compiled = compileTarget(target)
        if (provider === undefined) fail(`unknown provider ${JSON.stringify(target.provider)}`)
        else if (Either.isLeft(compiled)) fail(compiled.left)
        else prepared.push({ ...compiled.right, target, watcherFile: file.path, provider })
      }
    }

    // The daemon routes notifications of an image to the repositories that watch it.
    yield* (yield* WatchIndex).record(
      pipeline.name,
      repo.repoId,
      prepared.map((p) => ({ pipeline: pipeline.name, repoId: repo.repoId, provider: p.provider, image: p.image }))
    )

    // Fetch stage: every (provider, image) once, whatever the number of targets.
    const listingKey = (p: Prepared) => `${p.provider.source.file}:${p.provider.source.line}\u0000${imageName(p.image)}`
    const images = new Map(prepared.map((p) => [listingKey(p), p] as const))
    const listed = new Map<string, Either.Either<ReadonlyArray<TagInfo>, string>>()
    yield* Effect.forEach(
      images,
      ([key, p]) =>
        tags.get(p.provider, p.image).pipe(
          Effect.mapError((e) => `provider ${p.provider.name}: ${e.message}`),
          Effect.either,
          Effect.map((r) => listed.set(key, r))
        ),
      { concurrency: MAX_REGISTRY_CONCURRENCY, discard: true }
    )
    // `newest` needs creation times, looked up for the tags its filters keep.
    const dated = new Map<Prepared, Either.Either<ReadonlyArray<TagInfo>, string>>()
    yield* Effect.forEach(
      prepared.filter((p) => p.selector.needsCreated),
      (p) =>
        Effect.gen(function* () {
          const tagList = listed.get(listingKey(p))
          if (tagList === undefined || Either.isLeft(tagList)) return
          const withTimes = tags.withCreated(p.provider, p.image, tagList.right, p.selector.candidates(tagList.right))
          dated.set(
            p,
            yield* withTimes.pipe(
              Effect.mapError((e) => `provider ${p.provider.name}: ${e.message}`),
              Effect.either
            )
          )
        }),
      { concurrency: MAX_REGISTRY_CONCURRENCY, discard: true }
    )
    const listingOf = (p: Prepared) => dated.get(p) ?? listed.get(listingKey(p))
    yield* stages.mark("fetch")

    // Diff and patch stages, file by file, so that several targets in one file build on each other.
    const byFile = new Map<string, Array<Prepared>>()
    for (const p of prepared) {
      // Watcher files are decoded with normalised paths (`./a//b` is `a/b`), and git refuses `..`.
      const group = byFile.get(p.target.filePath)
      if (group === undefined) byFile.set(p.target.filePath, [p])
      else group.push(p)
    }
    /** One commit per changed target, with the index of that target's report. */
    const commits: Array<{ readonly change: FileChange; readonly message: string; readonly report: number }> = []
    const diffs: Array<string> = []
    // Every file in one read: with system git, one process for them all.
    const blobs = yield* checkout.readFiles([...byFile.keys()])
    for (const [i, [filePath, group]] of [...byFile].entries()) {
      const blob = blobs[i] ?? Option.none()
      if (Option.isNone(blob)) {
        for (const p of group) reports.push(failed(pipeline, repo, p.watcherFile, p.target, `file ${filePath} not found`))
        continue
      }
      const { oid, text: original } = blob.value
      // Parsed at most once, and only when the cache does not know what a field holds; each change
      // comes back parsed from the check of the patch.
      let manifest: Either.Either<Manifest, PatchError> | undefined
      let changed = false
      const parsed = () => (manifest ??= parseManifest(original)).pipe(Either.mapLeft((e) => `${filePath}: ${e.message}`))
      const hitsOf = (p: Prepared) => {
        const known = changed ? undefined : cache.hits(oid, p.target.field)
        if (known !== undefined) return Either.right(known)
        const hits = Either.flatMap(parsed(), (m) => fieldHits(m, p))
        if (!changed && Either.isRight(hits)) cache.keepHits(oid, p.target.field, hits.right)
        return hits
      }
      for (const p of group) {
        const hits = hitsOf(p)
        if (Either.isLeft(hits)) {
          reports.push(failed(pipeline, repo, p.watcherFile, p.target, hits.left))
          continue
        }
        const listing = listingOf(p)
        if (listing === undefined || Either.isLeft(listing)) {
          reports.push(failed(pipeline, repo, p.watcherFile, p.target, listing?.left ?? "no tags"))
          continue
        }
        const explained =
          options.explain?.(p.target) === true
            ? { explanations: currentTags(hits.right, p.target, p).map((tag) => p.selector.explain(listing.right, tag)) }
            : {}
        const plan = yield* planWithDigests(hits.right, p, listing.right)
        if (Either.isLeft(plan)) {
          reports.push({ ...failed(pipeline, repo, p.watcherFile, p.target, plan.left), ...explained })
          continue
        }
        const { selection, current } = plan.right
        const report = {
          ...baseReport(pipeline, repo, p.watcherFile, p.target),
          current,
          chosen: selection.tag,
          listed: selection.listed,
          kept: selection.kept,
          ...explained
        }
        if (plan.right.edits.length === 0) {
          reports.push({
            ...report,
            outcome:
              selection._tag === "Ahead"
                ? { _tag: "Ahead", best: selection.best }
                : selection._tag === "Unranked"
                  ? { _tag: "LeftAlone", reason: unrankedReason(selection) }
                  : { _tag: "UpToDate" }
          })
          continue
        }
        const patched = Either.flatMap(parsed(), (m) => spliceManifest(m, plan.right.edits).pipe(Either.mapLeft((e) => e.message)))
        if (Either.isLeft(patched)) {
          reports.push(failed(pipeline, repo, p.watcherFile, p.target, patched.left, current))
          continue
        }
        manifest = Either.right(patched.right)
        changed = true
        const message =
          watchedRepo?.commitMessage !== undefined && watchedRepo.commitMessage !== ""
            ? watchedRepo.commitMessage
            : `Update ${plan.right.oldImage} in ${p.target.filePath} to ${plan.right.newValue}`
        reports.push({ ...report, outcome: { _tag: "WouldUpdate" } })
        commits.push({ change: { path: filePath, content: patched.right.text }, message, report: reports.length - 1 })
      }
      if (options.dryRun && manifest !== undefined && Either.isRight(manifest) && manifest.right.text !== original) {
        diffs.push(unifiedDiff(filePath, original, manifest.right.text))
      }
    }

    yield* stages.mark("plan")
    const inOrder = () =>
      [...reports].sort((a, b) => (a.watcherFile < b.watcherFile ? -1 : a.watcherFile > b.watcherFile ? 1 : a.line - b.line))
    if (options.dryRun || commits.length === 0) {
      yield* stages.log(repo)
      return { targets: inOrder(), failures, diffs } satisfies PassReport
    }

    // Commit stage: one commit per changed target, then the push stage: one push for them all.
    const author = { name: pipeline.git.username, email: pipeline.git.email }
    // Not interruptible: a daemon told to stop must not leave a ref or a lock file half written.
    const oids = yield* Effect.uninterruptible(
      checkout.commitAll(commits.map((c) => ({ files: [c.change], message: c.message, author })))
    )
    yield* stages.mark("commit")
    const pushed = yield* checkout.push
    yield* stages.mark("push")
    yield* stages.log(repo)
    if (pushed._tag === "Rejected") return yield* new PushRejected({ reason: pushed.reason })
    for (const [i, c] of commits.entries()) {
      const r = reports[c.report]
      if (r !== undefined) reports[c.report] = { ...r, outcome: { _tag: "Updated", commit: oids[i] ?? "" } }
    }
    yield* Metric.incrementBy(Metric.tagged(targetUpdatesTotal, "pipeline", pipeline.name), commits.length)
    yield* Effect.logInfo(`pushed ${commits.length} commit(s)`).pipe(Effect.annotateLogs({ repo: repo.repoId }))
    return { targets: inOrder(), failures, diffs } satisfies PassReport
  })

/** How a pipeline's repositories are reached, as `GitRepo.open` takes it. */
export type GitAccess = Pick<RepoSpec, "password" | "username" | "sshKeyFile">

/**
 * The git credentials of a pipeline, once per pass for all its repositories: the password file
 * read then (so rotation needs no restart), Piped's inline password with the configured username
 * (as Piped sends it), and Piped's inline ssh key written to the data dir, readable by its owner
 * only, under a name taken from its content. A failure is the reason each repository fails with.
 */
export const gitAccess = (
  git: Pipeline["git"],
  dataDir: string
): Effect.Effect<Either.Either<GitAccess, string>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const fromFile = git.passwordFile === undefined
      ? undefined
      : yield* fs.readFileString(git.passwordFile).pipe(Effect.mapError((e) => `cannot read spec.git.passwordFile: ${e.message}`))
    const password = fromFile === undefined ? Option.fromNullable(git.password) : Option.some(Redacted.make(fromFile.trim()))
    const username = git.password === undefined ? Option.none() : Option.some(git.username)
    if (git.sshKey === undefined) return { password, username, sshKeyFile: Option.fromNullable(git.sshKeyFile) }
    const key = Redacted.value(git.sshKey)
    const dir = path.join(dataDir, "keys")
    const file = path.join(dir, createHash("sha256").update(key).digest("hex").slice(0, 16))
    // OpenSSH refuses a key whose last line has no line break.
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 }).pipe(
      Effect.zipRight(writeFileWhole(fs, file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 })),
      Effect.mapError((e) => `cannot write the key of spec.git.sshKeyData: ${e.message}`)
    )
    return { password, username, sshKeyFile: Option.some(file) }
  }).pipe(Effect.either)

/** The whole flow for one repository: sync, then diff → patch → commit → push, again from the new tip if the push is rejected. */
export const repoPass = Effect.fn("pipeline.repoPass")(function* (
  pipeline: Pipeline,
  repo: RepositoryConfig,
  options: PassOptions,
  access: Either.Either<GitAccess, string>
) {
  const git = yield* GitRepo
  const path = yield* Path.Path
  const scopeFailure = (reason: string): PassReport => ({
    targets: [],
    failures: [{ pipeline: pipeline.name, scope: `repository ${repo.repoId}`, reason }],
    diffs: []
  })
  if (Either.isLeft(access)) return scopeFailure(access.left)
  const dir = workDir(path, options.dataDir, pipeline, repo)
  const opened = yield* git
    .open(
      {
        repoId: repo.repoId,
        remote: repo.remote,
        branch: repo.branch,
        ...access.right
      },
      dir
    )
    .pipe(Effect.timed, Effect.either)
  if (Either.isLeft(opened)) return scopeFailure(opened.left.message)
  const [openedIn, checkout] = opened.right
  yield* Effect.logDebug(`clone or fetch took ${Math.round(Duration.toMillis(openedIn))}ms`).pipe(Effect.annotateLogs({ repo: repo.repoId }))

  // Beside the working copy, which a new clone replaces: the parses of its blobs stay true.
  const cacheFile = `${dir}.parsed.json`
  const cache = yield* loadParseCache(cacheFile)
  let first = true
  const run = Effect.suspend(() => {
    const sync = first ? Effect.void : checkout.sync
    first = false
    return sync.pipe(Effect.zipRight(attempt(pipeline, repo, checkout, cache, options)))
  })
  const result = yield* run.pipe(
    Effect.tapErrorTag("PushRejected", (e) =>
      Effect.logInfo(`push rejected (${e.reason}); fetching and recomputing`).pipe(Effect.annotateLogs({ repo: repo.repoId }))
    ),
    Effect.retry({ schedule: pushRetry, while: (e) => e._tag === "PushRejected" }),
    Effect.either
  )
  yield* saveParseCache(cacheFile, cache)
  if (Either.isRight(result)) return result.right
  const e = result.left
  return scopeFailure(e._tag === "PushRejected" ? `push rejected ${PUSH_ATTEMPTS} times, the branch kept moving: ${e.reason}` : e.message)
})
