import { Command, CommandExecutor, FileSystem } from "@effect/platform"
import { Chunk, Clock, Effect, Either, Layer, Option, Ref, Stream } from "effect"
import type { Checkout, CommitInput, RepoSpec, TreeEntry } from "./repoTypes.ts"
import { clearCrashLeftovers, clearSampleHooks } from "./cloneRepair.ts"
import { type FailWith, GitError } from "./GitError.ts"
import { GitRepoTag } from "./GitRepoTag.ts"
import { fastImportScript, parseCatFileBatch, parseLsTree } from "./plumbing.ts"
import { parseTreeListing, perCommit } from "./treeListing.ts"
import { workRefOf } from "./pushBranch.ts"
import { writeSignedCommits } from "./signedCommits.ts"
import { syncOf } from "./systemSync.ts"
import { stageBatch, validFilePaths, validPath } from "./commitBatch.ts"
import { authFailureOf, kindOfGitOutput, gitOutputLines } from "./gitOutput.ts"
import { pushRefspec } from "./systemPush.ts"
import { systemBranches } from "./systemBranches.ts"
import { isHttpRemote, networkBound, REMOTE } from "./remote.ts"
import { basicAuthOf, credentialsOf, scrub, secretsOf, stripUserinfo } from "./remoteCredentials.ts"

type Operation = GitError["operation"]

interface Output {
  readonly stdout: string
  /** stdout as the bytes git wrote (file contents are counted in bytes). */
  readonly raw: Uint8Array
  readonly stderr: string
  readonly exitCode: number
}

interface RunOptions {
  readonly stdin?: string
  readonly env?: Record<string, string>
}

/** How one checkout runs git: its clone, its remote and its credentials, bound once. */
interface Git {
  readonly spec: RepoSpec
  readonly dir: string
  /** The URL the clone is configured with: without userinfo over http(s). */
  readonly url: string
  /** The remote as it may be printed. */
  readonly remote: string
  /** The local ref commits are written on and pushed from: the push branch's, or the branch's. */
  readonly branchRef: string
  readonly secrets: ReadonlyArray<string>
  readonly fail: FailWith
  /** Runs git (an argument array, never a shell line) and returns its output whatever the exit code. */
  readonly exec: (operation: Operation, args: ReadonlyArray<string>, options?: RunOptions) => Effect.Effect<Output, GitError>
  /** Runs git in the clone and fails on a non-zero exit with git's own message. */
  readonly gitIn: (operation: Operation, args: ReadonlyArray<string>, options?: RunOptions) => Effect.Effect<string, GitError>
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

const utf8 = new TextDecoder()

// The chunks are joined once at the end: joining as they come would copy the output again per chunk.
const collect = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Effect.map(Stream.runCollect(stream), (chunks) => {
    const all = new Uint8Array(Chunk.reduce(chunks, 0, (n, chunk) => n + chunk.length))
    Chunk.reduce(chunks, 0, (at, chunk) => (all.set(chunk, at), at + chunk.length))
    return all
  })

/**
 * ssh as git runs it: with the pipeline's ssh config alone (host keys, the key, Piped's host
 * alias), so that nothing in ~/.ssh is read or written; a spec without one gets the key alone.
 */
const sshEnvironment = (spec: RepoSpec): Record<string, string> =>
  spec.ssh !== undefined
    ? { GIT_SSH_COMMAND: `ssh -F ${shellQuote(spec.ssh.configFile)}` }
    : Option.match(spec.sshKeyFile, {
      onNone: () => ({}),
      onSome: (key) => ({
        GIT_SSH_COMMAND: `ssh -i ${shellQuote(key)} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`
      })
    })

/** The environment of every git this checkout runs. */
const environment = (spec: RepoSpec, url: string, basicAuth: Option.Option<string>): Record<string, string> => ({
  GIT_TERMINAL_PROMPT: "0",
  // Messages are matched (rejections), so they must not be translated.
  LC_ALL: "C",
  // Pathspecs are file paths from watcher files, not patterns.
  GIT_LITERAL_PATHSPECS: "1",
  ...Option.match(basicAuth, {
    onNone: () => ({}),
    // Sent with every request to this remote, so git never needs to ask for a password.
    onSome: (value) => ({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${value}`
    })
  }),
  ...sshEnvironment(spec)
})

const gitOf = (spec: RepoSpec, dir: string, executor: CommandExecutor.CommandExecutor): Git => {
  const http = isHttpRemote(spec.remote)
  const url = http ? stripUserinfo(spec.remote) : spec.remote
  const basicAuth = Option.map(credentialsOf(spec), basicAuthOf)
  // The base64 header value is among them: a server may echo it back.
  const secrets = secretsOf(spec)
  const remote = scrub(spec.remote, secrets)
  const baseEnv = environment(spec, url, basicAuth)

  // A refused login reads as git's failed username prompt: say what it is instead.
  const fail: FailWith = (operation, kind, detail) =>
    new GitError({
      repoId: spec.repoId,
      operation,
      kind,
      detail: scrub(kind === "auth" ? Option.getOrElse(authFailureOf(detail, remote, spec), () => detail) : detail, secrets)
    })

  const exec: Git["exec"] = (operation, args, options = {}) => {
    const base = Command.make("git", ...args).pipe(Command.env({ ...baseEnv, ...options.env }))
    const command = options.stdin === undefined ? base : Command.feed(base, options.stdin)
    return Effect.scoped(
      Effect.gen(function*() {
        const process = yield* Command.start(command)
        const [raw, stderr, exitCode] = yield* Effect.all(
          [collect(process.stdout), collect(process.stderr), process.exitCode],
          { concurrency: "unbounded" }
        )
        return { stdout: utf8.decode(raw), raw, stderr: utf8.decode(stderr), exitCode: Number(exitCode) }
      })
    ).pipe(
      Effect.mapError((error) => fail(operation, "config", `cannot run git: ${error.message}`)),
      Effect.provideService(CommandExecutor.CommandExecutor, executor)
    )
  }

  const gitIn: Git["gitIn"] = (operation, args, options = {}) =>
    exec(operation, [`--git-dir=${dir}`, ...args], options).pipe(
      Effect.flatMap((out) =>
        out.exitCode === 0
          ? Effect.succeed(out.stdout)
          : Effect.fail(fail(operation, kindOfGitOutput(out.stderr), `git ${args[0] ?? ""} failed for ${remote}: ${gitOutputLines(out.stderr)}`))
      )
    )

  return { spec, dir, url, remote, branchRef: workRefOf(spec), secrets, fail, exec, gitIn }
}

/** Whether the directory holds a bare clone of the URL to reuse (either backend's), as git reads it. */
const isBareClone = (git: Git, files: FileSystem.FileSystem): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const exists = (path: string) => files.exists(path).pipe(Effect.orElseSucceed(() => false))
    if (!(yield* exists(`${git.dir}/HEAD`)) || !(yield* exists(`${git.dir}/objects`))) return false
    // Bareness and the remote's URL in one process: a pass opens every repository it watches.
    const out = yield* git.exec("clone", [`--git-dir=${git.dir}`, "config", "--local", "--get-regexp", `^(core\\.bare|remote\\.${REMOTE}\\.url)$`])
    if (out.exitCode !== 0) return false
    const settings = new Map(out.stdout.split("\n").filter((l) => l !== "").map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)] as const))
    return settings.get("core.bare") === "true" && settings.get(`remote.${REMOTE}.url`) === git.url
  }).pipe(Effect.orElseSucceed(() => false))

/** A new bare repository in the directory, in place of whatever was there. */
const initialize = (git: Git, files: FileSystem.FileSystem) =>
  Effect.gen(function*() {
    const { dir, fail, spec } = git
    yield* files.remove(dir, { recursive: true, force: true }).pipe(
      Effect.mapError((error) => fail("clone", "other", `cannot clear ${dir}: ${error.message}`))
    )
    // No template: its sample hooks and description would sit unused in every clone.
    const init = yield* git.exec("clone", ["-c", `init.defaultBranch=${spec.branch}`, "init", "--bare", "--quiet", "--template=", dir])
    if (init.exitCode !== 0) return yield* fail("clone", kindOfGitOutput(init.stderr), `git init failed in ${dir}: ${gitOutputLines(init.stderr)}`)
    yield* git.gitIn("clone", ["config", `remote.${REMOTE}.url`, git.url])
    // Fetches name their refspecs; this one is for the built-in client, should it take the clone over.
    yield* git.gitIn("clone", ["config", `remote.${REMOTE}.fetch`, `+refs/heads/*:refs/remotes/${REMOTE}/*`])
  })

/**
 * The modes of paths at commits, as the reads' `ls-tree` found them (undefined: no file there), so
 * that a commit of files just read does not list them again. A commit's tree never changes.
 */
type Modes = Map<string, string | undefined>
const modeKey = (commit: string, path: string) => `${commit}\u0000${path}`

/** Reading at the commit `head` holds. */
const readsOf = (git: Git, head: Ref.Ref<string>, known: Modes): Pick<Checkout, "readFiles" | "listFiles" | "listTree"> => {
  const { dir, fail } = git

  /** All the files from one `git cat-file --batch`: one process however many files. */
  const readFiles = Effect.fn("GitRepo.readFiles")(function*(paths: ReadonlyArray<string>) {
    const checked = validFilePaths(paths)
    if (Either.isLeft(checked)) return yield* fail("read", "config", `invalid file path "${checked.left}"`)
    const valid = checked.right
    if (valid.length === 0) return []
    const oid = yield* Ref.get(head)
    // cat-file does not tell a symbolic link from a file; ls-tree gives each entry's mode.
    const [out, listed] = yield* Effect.all([
      git.exec("read", [`--git-dir=${dir}`, "cat-file", "--batch"], {
        stdin: valid.map((path) => `${oid}:${path}\n`).join("")
      }),
      git.gitIn("read", ["ls-tree", "-z", oid, "--", ...new Set(valid)])
    ], { concurrency: "unbounded" })
    const entries = parseLsTree(listed)
    const modes = new Map(entries.map((entry) => [entry.path, entry.mode]))
    const blobs = new Map(entries.filter((entry) => entry.type === "blob").map((entry) => [entry.path, entry.mode]))
    for (const path of valid) known.set(modeKey(oid, path), blobs.get(path))
    const answers = out.exitCode === 0 ? parseCatFileBatch(out.raw, valid.length, (i) => modes.get(valid[i] ?? "")) : undefined
    if (answers === undefined) {
      // A batch git answered in full but that does not parse is a clone that does not read back.
      return yield* fail("read", out.exitCode === 0 ? "corrupt" : kindOfGitOutput(out.stderr), `git cat-file failed in ${dir}: ${gitOutputLines(out.stderr)}`)
    }
    return answers
  })

  const listFiles = Effect.fn("GitRepo.listFiles")(function*(path: string) {
    const filepath = validPath(path)
    if (Option.isNone(filepath)) return yield* fail("read", "config", `invalid directory path "${path}"`)
    const oid = yield* Ref.get(head)
    // "dir/" lists what is in the directory, and nothing for a file or a missing path.
    const prefix = filepath.value === "" ? "" : `${filepath.value}/`
    const out = yield* git.gitIn("read", ["ls-tree", "-z", oid, ...(prefix === "" ? [] : ["--", prefix])])
    return parseLsTree(out)
      .filter((entry) => entry.type === "blob")
      .map((entry) => ({ name: entry.path.slice(prefix.length), oid: entry.oid }))
  })

  // One process for the whole tree, kept while head stays at the same commit.
  const listed = perCommit<ReadonlyArray<TreeEntry>>()
  const listTree = Effect.gen(function*() {
    const oid = yield* Ref.get(head)
    const kept = listed.get(oid)
    if (kept !== undefined) return kept
    return listed.set(oid, parseTreeListing(yield* git.gitIn("read", ["ls-tree", "-r", "-z", "--full-tree", oid])))
  }).pipe(Effect.withSpan("GitRepo.listTree"))

  return { readFiles, listFiles, listTree }
}

/**
 * Modes of the existing blobs among `paths` at `commit`, so that a rewritten file keeps its
 * executable bit; `ls-tree` is asked only for the paths the reads did not list at that commit.
 */
const blobModes = (git: Git, known: Modes, commit: string, paths: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const modes = new Map<string, string>()
    const unknown: Array<string> = []
    for (const path of paths) {
      const key = modeKey(commit, path)
      if (!known.has(key)) unknown.push(path)
      else if (known.get(key) !== undefined) modes.set(path, known.get(key) as string)
    }
    if (unknown.length === 0) return modes
    const out = yield* git.gitIn("commit", ["ls-tree", "-z", commit, "--", ...unknown])
    for (const entry of parseLsTree(out)) if (entry.type === "blob") modes.set(entry.path, entry.mode)
    return modes
  })

// One fast-import for the whole batch: one process and one pack, instead of several processes and
// loose objects per commit. Signed commits take two processes more, however many there are.
const commitsOf = (git: Git, head: Ref.Ref<string>, files: FileSystem.FileSystem, known: Modes): Checkout["commitAll"] =>
  Effect.fn("GitRepo.commitAll")(function*(inputs: ReadonlyArray<CommitInput>) {
    const staged = stageBatch(inputs)
    if (Either.isLeft(staged)) return yield* git.fail("commit", "config", `invalid file path "${staged.left}"`)
    const batch = staged.right
    if (batch.length === 0) return []
    const parent = yield* Ref.get(head)
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const modes = yield* blobModes(git, known, parent, [...new Set(batch.flatMap(({ changes }) => changes.map((c) => c.path)))])
    const signer = git.spec.signer
    if (signer !== undefined) {
      const signed = yield* writeSignedCommits(git, files, signer, { parent, seconds, batch, modes })
      yield* Ref.set(head, signed[signed.length - 1] ?? parent)
      return signed
    }
    const out = yield* git.gitIn("commit", ["fast-import", "--quiet", "--done"], {
      stdin: fastImportScript({ branchRef: git.branchRef, parent, seconds, batch, modes })
    })
    const oids = out.split("\n").filter((line) => /^[0-9a-f]{40,64}$/.test(line))
    const tip = oids[oids.length - 1]
    if (oids.length !== batch.length || tip === undefined) {
      return yield* git.fail("commit", "corrupt", `git fast-import returned ${oids.length} commits for ${batch.length}`)
    }
    yield* Ref.set(head, tip)
    return oids
  })

const pushOf = (git: Git, overNetwork: ReturnType<typeof networkBound>): Checkout["push"] =>
  pushRefspec(git, overNetwork, git.branchRef, git.branchRef).pipe(Effect.withSpan("GitRepo.push", { attributes: { repoId: git.spec.repoId } }))

/**
 * The system `git` backend: a bare, shallow, single-branch clone in `dir`. git pushes from a
 * shallow clone as long as the server has the shallow boundary commit, which it always does for a
 * branch that was not rewritten. Over http(s) the remote URL is kept without its userinfo, and the
 * credentials reach git only through its environment (never a command line, a file or a message).
 * Files are read in batches, one git process for many files.
 */
export const open = Effect.fn("GitRepo.openSystemGit")(function*(spec: RepoSpec, dir: string) {
  const files = yield* FileSystem.FileSystem
  const git = gitOf(spec, dir, yield* CommandExecutor.CommandExecutor)
  const overNetwork = networkBound(git.remote, git.fail)

  if (!(yield* isBareClone(git, files))) {
    yield* Effect.logDebug("cloning").pipe(Effect.annotateLogs({ repoId: spec.repoId, remote: git.remote }))
    yield* initialize(git, files)
  } else {
    // The caller holds the clone's lock: git's lock and temporary files here were left by a process killed mid-write.
    const leftovers = yield* clearCrashLeftovers(dir)
    if (leftovers.length > 0) {
      yield* Effect.logWarning(`removed files left by a crash: ${leftovers.join(", ")}`).pipe(Effect.annotateLogs({ repoId: spec.repoId, dir }))
    }
    yield* clearSampleHooks(dir)
  }

  const head = yield* Ref.make("")
  const known: Modes = new Map()
  const sync = syncOf(git, files, head, overNetwork)
  yield* sync
  return {
    repoId: spec.repoId,
    sync,
    head: Ref.get(head),
    ...readsOf(git, head, known),
    commitAll: commitsOf(git, head, files, known),
    push: pushOf(git, overNetwork),
    branches: systemBranches(git, files, overNetwork)
  } satisfies Checkout
})

/** `GitRepo` on the system git alone, for every remote. */
export const layer: Layer.Layer<GitRepoTag, never, CommandExecutor.CommandExecutor | FileSystem.FileSystem> = Layer.effect(
  GitRepoTag,
  Effect.map(Effect.context<CommandExecutor.CommandExecutor | FileSystem.FileSystem>(), (context) =>
    GitRepoTag.of({ open: (spec, dir) => open(spec, dir).pipe(Effect.provide(context)) }))
)
