import { Command, type CommandExecutor, FileSystem } from "@effect/platform"
import { Clock, Effect, Option, Ref, Stream } from "effect"
import {
  type Checkout,
  type FileChange,
  GitError,
  isRaceRejection,
  networkTimeout,
  type PushResult,
  type RepoSpec,
  scrub,
  secretsOf,
  validPath
} from "./GitRepo.ts"

type Operation = GitError["operation"]

interface Output {
  readonly stdout: string
  readonly stderr: string
  readonly exitCode: number
}

const REMOTE = "origin"

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

/** One `ls-tree -z` record: "<mode> <type> <oid>\t<path>". */
const parseLsTree = (output: string) =>
  output
    .split("\0")
    .filter((record) => record.length > 0)
    .flatMap((record) => {
      const match = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(record)
      return match?.[1] !== undefined && match[2] !== undefined && match[3] !== undefined && match[4] !== undefined
        ? [{ mode: match[1], type: match[2], oid: match[3], path: match[4] }]
        : []
    })

/**
 * The system `git` backend for ssh, scp-like, file:// and path remotes: a bare, shallow,
 * single-branch clone in `dir`. git pushes from a shallow clone as long as the server has the
 * shallow boundary commit, which it always does for a branch that was not rewritten.
 */
export const openSystemGit = Effect.fn("GitRepo.openSystemGit")(function*(spec: RepoSpec, dir: string) {
  const files = yield* FileSystem.FileSystem
  const executor = yield* Effect.context<CommandExecutor.CommandExecutor>()
  const secrets = secretsOf(spec)
  const remote = scrub(spec.remote, secrets)
  const branchRef = `refs/heads/${spec.branch}`
  const remoteRef = `refs/remotes/${REMOTE}/${spec.branch}`

  const baseEnv: Record<string, string> = {
    GIT_TERMINAL_PROMPT: "0",
    // Messages are matched (rejections), so they must not be translated.
    LC_ALL: "C",
    ...Option.match(spec.sshKeyFile, {
      onNone: () => ({}),
      onSome: (key) => ({
        GIT_SSH_COMMAND: `ssh -i ${
          shellQuote(key)
        } -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`
      })
    })
  }

  const fail = (operation: Operation, detail: string) =>
    new GitError({ repoId: spec.repoId, operation, detail: scrub(detail, secrets) })

  const collect = <E>(stream: Stream.Stream<Uint8Array, E>) => stream.pipe(Stream.decodeText(), Stream.mkString)

  /** Runs git (an argument array, never a shell line) and returns its output whatever the exit code. */
  const exec = (
    operation: Operation,
    args: ReadonlyArray<string>,
    options: { readonly stdin?: string; readonly env?: Record<string, string> } = {}
  ): Effect.Effect<Output, GitError> => {
    const base = Command.make("git", ...args).pipe(Command.env({ ...baseEnv, ...options.env }))
    const command = options.stdin === undefined ? base : Command.feed(base, options.stdin)
    return Effect.scoped(
      Effect.gen(function*() {
        const process = yield* Command.start(command)
        const [stdout, stderr, exitCode] = yield* Effect.all(
          [collect(process.stdout), collect(process.stderr), process.exitCode],
          { concurrency: "unbounded" }
        )
        return { stdout, stderr, exitCode: Number(exitCode) }
      })
    ).pipe(
      Effect.mapError((error) => fail(operation, `cannot run git: ${error.message}`)),
      Effect.provide(executor)
    )
  }

  /** Runs git in the clone and fails on a non-zero exit with git's own message. */
  const gitIn = (
    operation: Operation,
    args: ReadonlyArray<string>,
    options: { readonly stdin?: string; readonly env?: Record<string, string> } = {}
  ) =>
    exec(operation, [`--git-dir=${dir}`, ...args], options).pipe(
      Effect.flatMap((out) =>
        out.exitCode === 0
          ? Effect.succeed(out.stdout)
          : Effect.fail(fail(operation, `git ${args[0] ?? ""} failed for ${remote}: ${out.stderr.trim()}`))
      )
    )

  const overNetwork = <A, R>(operation: Operation, effect: Effect.Effect<A, GitError, R>) =>
    effect.pipe(
      Effect.timeoutFail({
        duration: networkTimeout,
        onTimeout: () => fail(operation, `no answer from ${remote} within 2 minutes`)
      })
    )

  const resolve = (ref: string) =>
    exec("read", [`--git-dir=${dir}`, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).pipe(
      Effect.map((out) => out.exitCode === 0 ? Option.some(out.stdout.trim()) : Option.none<string>())
    )

  const isUsableClone = Effect.gen(function*() {
    if (!(yield* files.exists(dir))) return false
    const bare = yield* exec("read", [`--git-dir=${dir}`, "rev-parse", "--is-bare-repository"])
    if (bare.exitCode !== 0 || bare.stdout.trim() !== "true") return false
    const url = yield* exec("read", [`--git-dir=${dir}`, "config", "--get", `remote.${REMOTE}.url`])
    return url.exitCode === 0 && url.stdout.trim() === spec.remote
  }).pipe(Effect.orElseSucceed(() => false))

  const initialize = Effect.gen(function*() {
    yield* files.remove(dir, { recursive: true, force: true }).pipe(
      Effect.mapError((error) => fail("clone", `cannot clear ${dir}: ${error.message}`))
    )
    const init = yield* exec("clone", ["init", "--bare", "--quiet", dir])
    if (init.exitCode !== 0) return yield* fail("clone", `git init failed in ${dir}: ${init.stderr.trim()}`)
    yield* gitIn("clone", ["config", `remote.${REMOTE}.url`, spec.remote])
  })

  if (!(yield* isUsableClone)) {
    yield* Effect.logDebug("cloning").pipe(Effect.annotateLogs({ repoId: spec.repoId, remote }))
    yield* initialize
  }

  const head = yield* Ref.make(Option.getOrElse(yield* resolve(branchRef), () => ""))

  const sync = Effect.gen(function*() {
    // Only the first fetch is shallow; later ones send our shallow boundary and get just what is new.
    const known = yield* resolve(remoteRef)
    const operation: Operation = Option.isSome(known) ? "fetch" : "clone"
    yield* overNetwork(
      operation,
      gitIn(operation, [
        "fetch",
        "--quiet",
        "--no-tags",
        ...(Option.isNone(known) ? ["--depth=1"] : []),
        REMOTE,
        `+${branchRef}:${remoteRef}`
      ])
    )
    const tip = yield* resolve(remoteRef)
    if (Option.isNone(tip)) return yield* fail(operation, `branch "${spec.branch}" not found at ${remote}`)
    yield* gitIn(operation, ["update-ref", branchRef, tip.value])
    yield* gitIn(operation, ["symbolic-ref", "HEAD", branchRef])
    yield* Ref.set(head, tip.value)
    return tip.value
  }).pipe(Effect.withSpan("GitRepo.sync", { attributes: { repoId: spec.repoId } }))

  const entryAt = (commit: string, path: string) =>
    gitIn("read", ["ls-tree", "-z", commit, "--", path]).pipe(
      Effect.map((out) => Option.fromNullable(parseLsTree(out).find((entry) => entry.path === path)))
    )

  const readFile = Effect.fn("GitRepo.readFile")(function*(path: string) {
    const filepath = validPath(path)
    if (Option.isNone(filepath) || filepath.value === "") return yield* fail("read", `invalid file path "${path}"`)
    const entry = yield* entryAt(yield* Ref.get(head), filepath.value)
    if (Option.isNone(entry) || entry.value.type !== "blob") return Option.none<string>()
    return Option.some(yield* gitIn("read", ["cat-file", "blob", entry.value.oid]))
  })

  const listFiles = Effect.fn("GitRepo.listFiles")(function*(path: string) {
    const filepath = validPath(path)
    if (Option.isNone(filepath)) return yield* fail("read", `invalid directory path "${path}"`)
    const prefix = filepath.value === "" ? "" : `${filepath.value}/`
    const out = yield* gitIn("read", ["ls-tree", "-z", yield* Ref.get(head), "--", ...(prefix === "" ? [] : [prefix])])
    return parseLsTree(out)
      .filter((entry) => entry.type === "blob" && entry.path.startsWith(prefix))
      .map((entry) => entry.path.slice(prefix.length)) satisfies ReadonlyArray<string>
  })

  const commit = Effect.fn("GitRepo.commit")(function*(input: {
    readonly files: ReadonlyArray<FileChange>
    readonly message: string
    readonly author: { readonly name: string; readonly email: string }
  }) {
    const changes: Array<FileChange> = []
    for (const change of input.files) {
      const path = validPath(change.path)
      if (Option.isNone(path) || path.value === "") return yield* fail("commit", `invalid file path "${change.path}"`)
      changes.push({ path: path.value, content: change.content })
    }
    const parent = yield* Ref.get(head)
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    // A private index, so the bare clone never needs a work tree and nothing else sees half a commit.
    const oid = yield* Effect.scoped(Effect.gen(function*() {
      const scratch = yield* files.makeTempDirectoryScoped({ prefix: "runner-index-" }).pipe(
        Effect.mapError((error) => fail("commit", `cannot create a temporary index: ${error.message}`))
      )
      const env = { GIT_INDEX_FILE: `${scratch}/index` }
      yield* gitIn("commit", ["read-tree", parent], { env })
      for (const change of changes) {
        const existing = yield* entryAt(parent, change.path)
        const mode = Option.isSome(existing) && existing.value.type === "blob" ? existing.value.mode : "100644"
        const blob = (yield* gitIn("commit", ["hash-object", "-w", "--stdin"], { stdin: change.content })).trim()
        yield* gitIn("commit", ["update-index", "--add", "--cacheinfo", `${mode},${blob},${change.path}`], { env })
      }
      const tree = (yield* gitIn("commit", ["write-tree"], { env })).trim()
      const date = `@${seconds} +0000`
      const message = input.message.endsWith("\n") ? input.message : `${input.message}\n`
      return (yield* gitIn("commit", ["commit-tree", tree, "-p", parent, "-F", "-"], {
        stdin: message,
        env: {
          GIT_AUTHOR_NAME: input.author.name,
          GIT_AUTHOR_EMAIL: input.author.email,
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_NAME: input.author.name,
          GIT_COMMITTER_EMAIL: input.author.email,
          GIT_COMMITTER_DATE: date
        }
      })).trim()
    }))
    yield* gitIn("commit", ["update-ref", branchRef, oid, parent])
    yield* Ref.set(head, oid)
    return oid
  })

  const push = Effect.gen(function*() {
    const out = yield* overNetwork(
      "push",
      exec("push", [`--git-dir=${dir}`, "push", "--porcelain", REMOTE, `${branchRef}:${branchRef}`])
    )
    if (out.exitCode === 0) return { _tag: "Pushed" } satisfies PushResult
    const report = `${out.stdout}\n${out.stderr}`
    const refLine = out.stdout.split("\n").find((line) => line.startsWith("!")) ?? ""
    if (refLine.includes("[rejected]") || isRaceRejection(refLine)) {
      const reason = /\(([^)]*)\)\s*$/.exec(refLine)?.[1] ?? "rejected"
      yield* Effect.logInfo("push rejected").pipe(Effect.annotateLogs({ repoId: spec.repoId, reason }))
      return { _tag: "Rejected", reason: scrub(reason, secrets) } satisfies PushResult
    }
    return yield* fail("push", `git push to ${remote} failed: ${report.trim()}`)
  }).pipe(Effect.withSpan("GitRepo.push", { attributes: { repoId: spec.repoId } }))

  yield* sync
  return {
    repoId: spec.repoId,
    sync,
    head: Ref.get(head),
    readFile,
    listFiles,
    commit,
    push
  } satisfies Checkout
})
