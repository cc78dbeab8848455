/**
 * Write-back by request, end to end in process: the real pipeline (`runOnce`) over the real
 * `git http-backend`, with the registry in memory and the code host a loopback fake of GitHub or
 * GitLab whose branches are the git server's. A provider adapter lets one scenario run on both
 * hosts: its settings, its requests as a person sees them, and a person's hand on them.
 */
import { NodeContext } from "@effect/platform-node"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either, Layer, Logger, LogLevel } from "effect"
import type { Pipeline, PullRequestSettings, WatchedRepo } from "../../src/config/model.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { Signatures } from "../../src/gates/Signatures.ts"
import { GitRepo } from "../../src/git/GitRepo.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { LastWritten } from "../../src/pipeline/LastWritten.ts"
import { type Pause, Pauses } from "../../src/pipeline/Pauses.ts"
import { Readiness } from "../../src/pipeline/Readiness.ts"
import { type PassReport, reportLines } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { TagCache } from "../../src/pipeline/TagCache.ts"
import { Triggers } from "../../src/pipeline/Triggers.ts"
import { WatchRouting } from "../../src/pipeline/WatchRouting.ts"
import { TagSource } from "../../src/registry/TagSource.ts"
import { type BranchStore, gitServerBranches } from "./fakeBranches.ts"
import { startFakeGithub } from "./fakeGithub.ts"
import { startFakeGitlab } from "./fakeGitlab.ts"
import { type FileContent, git, type TestGitServer } from "./gitServer.ts"
import { pipelineOf } from "./inProcess.ts"
import { tempDir } from "./tempDirs.ts"

export type Provider = "github" | "gitlab"

/** A request as a person sees it on the host. */
export interface SeenRequest {
  readonly number: number
  readonly state: "open" | "closed" | "merged"
  readonly branch: string
  readonly base: string
  readonly title: string
  readonly body: string
  readonly labels: ReadonlyArray<string>
  readonly comments: ReadonlyArray<string>
  readonly autoMerge: boolean
}

/** One fake host, in the terms both share. */
export interface Host {
  readonly provider: Provider
  /** The `pullRequest` settings that reach it, with the token in `tokenFile`. */
  readonly settings: PullRequestSettings
  readonly requests: () => ReadonlyArray<SeenRequest>
  /** As a person on the site: closed unmerged, or marked merged (the git side is the test's). */
  readonly setState: (number: number, state: "closed" | "merged") => void
  /** The next API answer is the host's rate limit (429 with Retry-After: 1). */
  readonly rateLimitOnce: () => void
  /** The token of `tokenFile` is refused from now on. */
  readonly refuseToken: () => void
  /** What the host's API was asked: method and path. */
  readonly asked: () => ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

const TOKEN = "glpat-fakeTokenFor0Tests1234"

const githubHost = async (branches: BranchStore, tokenFile: string): Promise<Host> => {
  const fake = await startFakeGithub({ branches })
  writeFileSync(tokenFile, fake.token)
  return {
    provider: "github",
    settings: { provider: "github", apiURL: fake.url, repository: fake.repository, tokenFile, labels: ["image-update"], autoMerge: false },
    requests: () =>
      fake.pulls.map((p) => ({
        number: p.number,
        state: p.merged_at !== null ? "merged" : p.state,
        branch: p.head,
        base: p.base,
        title: p.title,
        body: p.body ?? "",
        labels: p.labels,
        comments: p.comments,
        autoMerge: p.autoMerge
      })),
    setState: fake.setState,
    rateLimitOnce: () => fake.failNext("429"),
    refuseToken: () => fake.requireToken("ghp_anotherTokenAltogether99"),
    asked: () => fake.exchanges.map((e) => `${e.method} ${e.path}`),
    stop: fake.stop
  }
}

const gitlabHost = async (branches: BranchStore, tokenFile: string): Promise<Host> => {
  let token = TOKEN
  const fake = await startFakeGitlab({ token, branches })
  writeFileSync(tokenFile, token)
  const stateOf = (s: string): SeenRequest["state"] => (s === "opened" ? "open" : s === "merged" ? "merged" : "closed")
  return {
    provider: "gitlab",
    settings: { provider: "gitlab", apiURL: fake.apiURL, repository: fake.path, tokenFile, labels: ["image-update"], autoMerge: false },
    requests: () =>
      fake.mergeRequests.map((mr) => ({
        number: mr.iid,
        state: stateOf(mr.state),
        branch: mr.source_branch,
        base: mr.target_branch,
        title: mr.title,
        body: mr.description,
        labels: mr.labels,
        comments: mr.notes,
        autoMerge: mr.merge_when_pipeline_succeeds
      })),
    setState: fake.setState,
    rateLimitOnce: () => fake.refuseNext(1),
    refuseToken: () => {
      // The fake takes the token it started with: the file now holds another.
      token = "glpat-notTheRightToken0000"
      writeFileSync(tokenFile, token)
    },
    asked: () => fake.requests.map((r) => `${r.method} ${r.url.split("?")[0] ?? ""}`),
    stop: fake.stop
  }
}

/** The report's words for a request: `pull request #1`, `merge request !1`. */
export const requestName = (provider: Provider, number: number) => (provider === "gitlab" ? `merge request !${number}` : `pull request #${number}`)
export const requestRef = (provider: Provider, number: number) => (provider === "gitlab" ? `!${number}` : `#${number}`)

export const IMAGE = "gcr.io/org/app"

export const tagsOf = (...tags: ReadonlyArray<string>): ReadonlyArray<TagInfo> => tags.map((tag) => ({ tag }))

export interface WorldOptions {
  /** The repository's files; by default `app.yaml` at 1.0.0 and a watcher file of its one target. */
  readonly files?: Record<string, FileContent>
  readonly tags?: ReadonlyArray<string>
  /** More of the `gitRepos` entry: suspend, group. */
  readonly watched?: Partial<WatchedRepo>
  readonly pullRequest?: Partial<PullRequestSettings>
}

export const WATCHER = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: image}
`

/**
 * A repository `name` on the git server, a host of `provider` over it, and passes of the pipeline
 * that watches it in request mode, each with a fresh set of services over one data dir.
 */
export const requestWorld = async (server: TestGitServer, provider: Provider, name: string, options: WorldOptions = {}) => {
  const files = options.files ?? { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": WATCHER }
  const remote = await server.createRepo(name, files)
  const dataDir = tempDir("runner-requests-")
  const tokenFile = join(tempDir("runner-token-"), "token")
  const real = gitServerBranches(server, name)
  let lagging = false
  // A host that has not seen a push yet (its replicas lag) knows no such branch, once.
  const branches: BranchStore = {
    tip: (branch) => (lagging ? ((lagging = false), Promise.resolve(undefined)) : real.tip(branch)),
    delete: real.delete
  }
  const host = await (provider === "github" ? githubHost : gitlabHost)(branches, tokenFile)
  const images = new Map<string, ReadonlyArray<TagInfo>>([[IMAGE, tagsOf(...(options.tags ?? ["1.0.0", "1.1.0"]))]])
  const settings = { ...host.settings, ...options.pullRequest }
  const base = pipelineOf()
  const pipeline: Pipeline = {
    ...base,
    repositories: base.repositories.map((repo) => ({ ...repo, remote })),
    watchedRepos: [{ repoId: "config", includes: [], excludes: [], ...options.watched, pullRequest: settings }]
  }
  const layer = Layer.merge(TagCache.layer, Signatures.layerTest(() => Either.left("no signature"))).pipe(
    Layer.provideMerge(
      Layer.mergeAll(TagSource.layerTest(images), GitRepo.layer, WatchRouting.layer, Readiness.layer, Triggers.layer, LastWritten.layer, Pauses.layer, RegistryHttp.layer)
    ),
    Layer.provideMerge(NodeContext.layer),
    Layer.provideMerge(Logger.minimumLogLevel(LogLevel.None))
  )
  const pass = (opts: { readonly dryRun?: boolean } = {}): Promise<PassReport> =>
    Effect.runPromise(runOnce([pipeline], { dryRun: opts.dryRun ?? false, dataDir }).pipe(Effect.provide(layer)))
  return {
    name,
    remote,
    host,
    dataDir,
    pass,
    /** The report's lines, the summary included. */
    lines: (report: PassReport) => reportLines(report).map((l) => l.text),
    /** The host's next look at a branch does not find it yet. */
    hostLags: () => void (lagging = true),
    setTags: (...tags: ReadonlyArray<string>) => void images.set(IMAGE, tagsOf(...tags)),
    pause: (p: Pause) => Effect.runPromise(Effect.flatMap(Pauses, (store) => store.pause(dataDir, p)).pipe(Effect.provide(Pauses.layer), Effect.provide(NodeContext.layer))),
    /** The remote's branches and their tips. */
    tip: (branch: string) => server.tip(name, branch),
    readFile: (path: string, branch = "main") => server.readFile(name, path, { branch }),
    /** A branch made by a person at main's tip (the first commit, not the runner's). */
    branchAsPerson: (branch: string) => git(["branch", branch, "main"], { cwd: join(server.root, `${name}.git`) }),
    commitAs: (files: Record<string, string>, message: string, branch = "main") => server.commitAs(name, files, message, { branch }),
    stop: host.stop
  }
}

export type RequestWorld = Awaited<ReturnType<typeof requestWorld>>
