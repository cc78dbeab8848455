import { Command, type CommandExecutor, FileSystem } from "@effect/platform"
import { Chunk, Clock, Effect, Encoding, Option, Ref, Stream } from "effect"
import {
  type Blob,
  type Checkout,
  type CommitInput,
  credentialsOf,
  GitError,
  identPart,
  isHttpRemote,
  isRaceRejection,
  networkBound,
  type PushResult,
  type RepoSpec,
  scrub,
  secretsOf,
  stripUserinfo,
  validPath
} from "./GitRepo.ts"
import { isBareCloneOf, resolveRef } from "./isoGit.ts"

type Operation = GitError["operation"]

interface Output {
  readonly stdout: string
  /** stdout as the bytes git wrote (file contents are counted in bytes). */
  readonly raw: Uint8Array
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

/** A path as fast-import reads it: C-quoted, so that spaces, quotes and newlines survive. */
const fastImportPath = (path: string) => `"${path.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`

const byteLength = (text: string) => new TextEncoder().encode(text).length

const utf8 = new TextDecoder()

/**
 * The answers of `git cat-file --batch` to `count` requests, in order: a blob, or None for a
 * missing path or one that names a tree. Undefined if the output is cut short.
 */
export const parseCatFileBatch = (out: Uint8Array, count: number): ReadonlyArray<Option.Option<Blob>> | undefined => {
  const answers: Array<Option.Option<Blob>> = []
  let at = 0
  while (answers.length < count) {
    const eol = out.indexOf(10, at)
    if (eol === -1) return undefined
    const header = /^([0-9a-f]+) (\w+) (\d+)$/.exec(utf8.decode(out.subarray(at, eol)))
    if (header === null) {
      // "<request> missing" or "<request> ambiguous": no such file.
      answers.push(Option.none())
      at = eol + 1
      continue
    }
    const end = eol + 1 + Number(header[3])
    if (end > out.length) return undefined
    const oid = header[1] ?? ""
    answers.push(header[2] === "blob" ? Option.some({ oid, text: utf8.decode(out.subarray(eol + 1, end)) }) : Option.none())
    // Each object is followed by a newline.
    at = end + 1
  }
  return answers
}

const fastImportData = (text: string) => `data ${byteLength(text)}\n${text}\n`

/**
 * The system `git` backend: a bare, shallow, single-branch clone in `dir`. git pushes from a
 * shallow clone as long as the server has the shallow boundary commit, which it always does for a
 * branch that was not rewritten. Over http(s) the remote URL is kept without its userinfo, and the
 * credentials reach git only through its environment (never a command line, a file or a message).
 * Files are read in batches, one git process for many files.
 */
export const openSystemGit = Effect.fn("GitRepo.openSystemGit")(function*(spec: RepoSpec, dir: string) {
  const files = yield* FileSystem.FileSystem
  const executor = yield* Effect.context<CommandExecutor.CommandExecutor>()
  const http = isHttpRemote(spec.remote)
  const url = http ? stripUserinfo(spec.remote) : spec.remote
  const basicAuth = Option.map(credentialsOf(spec), ({ password, username }) => Encoding.encodeBase64(`${username}:${password}`))
  const secrets = [...secretsOf(spec), ...Option.toArray(basicAuth)]
  const remote = scrub(spec.remote, secrets)
  const branchRef = `refs/heads/${spec.branch}`

  const baseEnv: Record<string, string> = {
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

  // The chunks are joined once at the end: joining as they come would copy the output again per chunk.
  const collect = <E>(stream: Stream.Stream<Uint8Array, E>) =>
    Effect.map(Stream.runCollect(stream), (chunks) => {
      const all = new Uint8Array(Chunk.reduce(chunks, 0, (n, chunk) => n + chunk.length))
      Chunk.reduce(chunks, 0, (at, chunk) => (all.set(chunk, at), at + chunk.length))
      return all
    })

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
        const [raw, stderr, exitCode] = yield* Effect.all(
          [collect(process.stdout), collect(process.stderr), process.exitCode],
          { concurrency: "unbounded" }
        )
        return { stdout: utf8.decode(raw), raw, stderr: utf8.decode(stderr), exitCode: Number(exitCode) }
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

  const overNetwork = networkBound(remote, fail)

  const initialize = Effect.gen(function*() {
    yield* files.remove(dir, { recursive: true, force: true }).pipe(
      Effect.mapError((error) => fail("clone", `cannot clear ${dir}: ${error.message}`))
    )
    const init = yield* exec("clone", ["-c", `init.defaultBranch=${spec.branch}`, "init", "--bare", "--quiet", dir])
    if (init.exitCode !== 0) return yield* fail("clone", `git init failed in ${dir}: ${init.stderr.trim()}`)
    yield* gitIn("clone", ["config", `remote.${REMOTE}.url`, url])
  })

  if (!(yield* isBareCloneOf(dir, url))) {
    yield* Effect.logDebug("cloning").pipe(Effect.annotateLogs({ repoId: spec.repoId, remote }))
    yield* initialize
  }

  const head = yield* Ref.make("")

  const sync = Effect.gen(function*() {
    // Only the first fetch is shallow (it leaves a `shallow` file); later ones send our shallow
    // boundary and get just what is new.
    const fetched = yield* files.exists(`${dir}/shallow`).pipe(Effect.orElseSucceed(() => false))
    const operation: Operation = fetched ? "fetch" : "clone"
    // Straight into the local branch: a forced update drops local commits that were never pushed.
    const out = yield* overNetwork(
      operation,
      exec(operation, [
        `--git-dir=${dir}`,
        // Housekeeping that the fetch may start ends before the fetch does, so it never races our reads.
        "-c",
        "gc.autoDetach=false",
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        ...(fetched ? [] : ["--depth=1"]),
        REMOTE,
        `+${branchRef}:${branchRef}`
      ])
    )
    if (/couldn't find remote ref/.test(out.stderr)) {
      return yield* fail(operation, `branch "${spec.branch}" not found at ${remote}`)
    }
    if (out.exitCode !== 0) return yield* fail(operation, `git fetch failed for ${remote}: ${out.stderr.trim()}`)
    const tip = yield* resolveRef(dir, branchRef)
    if (Option.isNone(tip)) return yield* fail(operation, `branch "${spec.branch}" not found at ${remote}`)
    yield* Ref.set(head, tip.value)
    return tip.value
  }).pipe(Effect.withSpan("GitRepo.sync", { attributes: { repoId: spec.repoId } }))

  /** All the files from one `git cat-file --batch`: one process however many files. */
  const readFiles = Effect.fn("GitRepo.readFiles")(function*(paths: ReadonlyArray<string>) {
    const valid: Array<string> = []
    for (const path of paths) {
      const filepath = validPath(path)
      if (Option.isNone(filepath) || filepath.value === "") return yield* fail("read", `invalid file path "${path}"`)
      valid.push(filepath.value)
    }
    if (valid.length === 0) return []
    const oid = yield* Ref.get(head)
    const out = yield* exec("read", [`--git-dir=${dir}`, "cat-file", "--batch"], {
      stdin: valid.map((path) => `${oid}:${path}\n`).join("")
    })
    const answers = out.exitCode === 0 ? parseCatFileBatch(out.raw, valid.length) : undefined
    if (answers === undefined) return yield* fail("read", `git cat-file failed in ${dir}: ${out.stderr.trim()}`)
    return answers
  })

  const listFiles = Effect.fn("GitRepo.listFiles")(function*(path: string) {
    const filepath = validPath(path)
    if (Option.isNone(filepath)) return yield* fail("read", `invalid directory path "${path}"`)
    const oid = yield* Ref.get(head)
    // "dir/" lists what is in the directory, and nothing for a file or a missing path.
    const prefix = filepath.value === "" ? "" : `${filepath.value}/`
    const out = yield* gitIn("read", ["ls-tree", "-z", oid, ...(prefix === "" ? [] : ["--", prefix])])
    return parseLsTree(out)
      .filter((entry) => entry.type === "blob")
      .map((entry) => ({ name: entry.path.slice(prefix.length), oid: entry.oid }))
  })

  /** Modes of the existing blobs among `paths` at `commit`, so that a rewritten file keeps its executable bit. */
  const blobModes = (commit: string, paths: ReadonlyArray<string>) =>
    gitIn("commit", ["ls-tree", "-z", commit, "--", ...paths]).pipe(
      Effect.map((out) =>
        new Map(parseLsTree(out).filter((entry) => entry.type === "blob").map((entry) => [entry.path, entry.mode]))
      )
    )

  // One fast-import for the whole batch: one process and one pack, instead of several processes and
  // loose objects per commit.
  const commitAll = Effect.fn("GitRepo.commitAll")(function*(inputs: ReadonlyArray<CommitInput>) {
    const batch: Array<{ readonly input: CommitInput; readonly changes: ReadonlyArray<{ path: string; content: string }> }> = []
    for (const input of inputs) {
      const changes: Array<{ path: string; content: string }> = []
      for (const change of input.files) {
        const path = validPath(change.path)
        if (Option.isNone(path) || path.value === "") return yield* fail("commit", `invalid file path "${change.path}"`)
        changes.push({ path: path.value, content: change.content })
      }
      batch.push({ input, changes })
    }
    if (batch.length === 0) return []
    const parent = yield* Ref.get(head)
    const seconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const modes = yield* blobModes(parent, [...new Set(batch.flatMap(({ changes }) => changes.map((c) => c.path)))])
    const stream = batch.map(({ changes, input }, i) => {
      const ident = `${identPart(input.author.name)} <${identPart(input.author.email)}> ${seconds} +0000`
      const message = input.message.endsWith("\n") ? input.message : `${input.message}\n`
      return [
        `commit ${branchRef}\nmark :${i + 1}\nauthor ${ident}\ncommitter ${ident}\n${fastImportData(message)}`,
        i === 0 ? `from ${parent}\n` : "",
        ...changes.map(({ content, path }) =>
          `M ${modes.get(path) ?? "100644"} inline ${fastImportPath(path)}\n${fastImportData(content)}`
        ),
        "\n"
      ].join("")
    })
    const marks = batch.map((_, i) => `get-mark :${i + 1}\n`)
    const out = yield* gitIn("commit", ["fast-import", "--quiet", "--done"], {
      stdin: [...stream, ...marks, "done\n"].join("")
    })
    const oids = out.split("\n").filter((line) => /^[0-9a-f]{40,64}$/.test(line))
    const tip = oids[oids.length - 1]
    if (oids.length !== batch.length || tip === undefined) {
      return yield* fail("commit", `git fast-import returned ${oids.length} commits for ${batch.length}`)
    }
    yield* Ref.set(head, tip)
    return oids
  })

  const push = Effect.gen(function*() {
    const out = yield* overNetwork(
      "push",
      exec("push", [`--git-dir=${dir}`, "push", "--porcelain", REMOTE, `${branchRef}:${branchRef}`])
    )
    if (out.exitCode === 0) return { _tag: "Pushed" } satisfies PushResult
    const report = `${out.stdout}\n${out.stderr}`
    const refLine = out.stdout.split("\n").find((line) => line.startsWith("!")) ?? ""
    // A ref the server could not move because another push moved it first ("cannot lock ref ...
    // but expected ...", said on stderr) is a race like a non-fast-forward: fetch and try again.
    if (refLine.includes("[rejected]") || isRaceRejection(refLine) || (refLine !== "" && isRaceRejection(out.stderr))) {
      const reason = /\(([^)]*)\)\s*$/.exec(refLine)?.[1] ?? "rejected"
      return { _tag: "Rejected", reason: scrub(reason, secrets) } satisfies PushResult
    }
    return yield* fail("push", `git push to ${remote} failed: ${report.trim()}`)
  }).pipe(Effect.withSpan("GitRepo.push", { attributes: { repoId: spec.repoId } }))

  yield* sync
  return {
    repoId: spec.repoId,
    sync,
    head: Ref.get(head),
    readFiles,
    listFiles,
    commitAll,
    push
  } satisfies Checkout
})
