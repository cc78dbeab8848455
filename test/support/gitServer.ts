import { execFile, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"

/**
 * A smart-HTTP git server on loopback: `git http-backend` run as CGI behind `node:http`.
 * Everything is asynchronous, so a git client in the same process keeps working.
 */
export interface TestGitServer {
  readonly url: string
  readonly root: string
  /**
   * Creates a bare repo `<name>.git` whose branch holds these files in one commit (text, exact
   * bytes, or a symbolic link to a path); returns its http URL.
   */
  createRepo(name: string, files: Record<string, FileContent>, options?: { branch?: string }): Promise<string>
  /** Commits these file changes to the branch as another writer (system git, temp clone) and pushes. Returns the new commit. */
  commitAs(name: string, files: Record<string, FileContent>, message: string, options?: { branch?: string }): Promise<string>
  /**
   * Merges branch `from` into branch `into` as another writer and pushes: a merge commit (`git
   * merge --no-ff`), or a fast-forward (`--ff-only`). Returns `into`'s new tip.
   */
  merge(name: string, from: string, into: string, options?: { fastForward?: boolean }): Promise<string>
  /** The branch's tip in the bare repo; undefined when there is no such branch. */
  tip(name: string, branch: string): Promise<string | undefined>
  /** Whether `ancestor` is `descendant` or one of its ancestors (`git merge-base --is-ancestor` in the bare repo). */
  isAncestor(name: string, ancestor: string, descendant: string): Promise<boolean>
  /** A commit's parents, first parent first. */
  parents(name: string, oid: string): Promise<ReadonlyArray<string>>
  /** Reads a file at the branch tip of the bare repo (`git show`). */
  readFile(name: string, path: string, options?: { branch?: string }): Promise<string>
  /** `git log` of the branch, newest first. */
  log(
    name: string,
    options?: { branch?: string }
  ): Promise<Array<{ oid: string; author: string; email: string; subject: string }>>
  /** Requests served: receive-pack POSTs (pushes) and upload-pack POSTs (fetches). */
  readonly stats: { readonly receivePacks: number; readonly uploadPacks: number }
  /**
   * Runs `fn` once, when the next push starts (its ref discovery, before the client sees the refs),
   * to simulate another writer racing us.
   */
  beforeNextPush(fn: () => Promise<void>): void
  /**
   * Runs `fn` once, when the next push sends its update (after the client has seen the refs), so
   * that the ref moves under the update and receive-pack answers `ng <ref> failed to update ref`.
   */
  beforeNextUpdate(fn: () => Promise<void>): void
  stop(): Promise<void>
}

export const OTHER_WRITER = { name: "Other Writer", email: "other@example.com" } as const

const DEFAULT_BRANCH = "main"

/** Environment for harness-side git: no user or system config can change the outcome. */
const gitEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  GIT_AUTHOR_NAME: OTHER_WRITER.name,
  GIT_AUTHOR_EMAIL: OTHER_WRITER.email,
  GIT_COMMITTER_NAME: OTHER_WRITER.name,
  GIT_COMMITTER_EMAIL: OTHER_WRITER.email,
  ...extra
})

/** Runs git asynchronously; rejects with its stderr on a non-zero exit. */
export const git = (args: ReadonlyArray<string>, options: { cwd?: string; env?: Record<string, string> } = {}) =>
  new Promise<string>((resolve, reject) => {
    execFile(
      "git",
      [...args],
      { cwd: options.cwd, env: gitEnv(options.env), maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args.join(" ")} failed: ${stderr || error.message}`))
        else resolve(stdout)
      }
    )
  })

/** A file as the harness writes it: text, exact bytes, or a symbolic link to `symlink`. */
export type FileContent = string | Uint8Array | { readonly symlink: string }

const writeFiles = async (dir: string, files: Record<string, FileContent>) => {
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path)
    await mkdir(dirname(target), { recursive: true })
    if (typeof content === "object" && "symlink" in content) await symlink(content.symlink, target)
    else await writeFile(target, content)
  }
}

const unauthorized = (res: ServerResponse) => {
  res.writeHead(401, { "WWW-Authenticate": 'Basic realm="test git server"', "Content-Type": "text/plain" })
  res.end("authentication required\n")
}

const isAuthorized = (req: IncomingMessage, basicAuth: { username: string; password: string }) => {
  const header = req.headers.authorization ?? ""
  const match = /^Basic\s+(\S+)$/i.exec(header)
  if (!match?.[1]) return false
  const decoded = Buffer.from(match[1], "base64").toString("utf8")
  return decoded === `${basicAuth.username}:${basicAuth.password}`
}

/** Finds the end of the CGI header block (either CRLF or LF line endings). */
const headerEnd = (buffer: Buffer): { at: number; length: number } | undefined => {
  const crlf = buffer.indexOf("\r\n\r\n")
  const lf = buffer.indexOf("\n\n")
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 }
  if (lf !== -1) return { at: lf, length: 2 }
  return undefined
}

export const startGitServer = async (
  options: { basicAuth?: { username: string; password: string } } = {}
): Promise<TestGitServer> => {
  const root = await mkdtemp(join(tmpdir(), "git-server-"))
  const stats = { receivePacks: 0, uploadPacks: 0 }
  let pendingBeforePush: Array<() => Promise<void>> = []
  let pendingBeforeUpdate: Array<() => Promise<void>> = []

  const runCgi = (req: IncomingMessage, res: ServerResponse, pathInfo: string, query: string) => {
    const env: NodeJS.ProcessEnv = {
      ...gitEnv(),
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PROTOCOL: "HTTP/1.1",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: pathInfo,
      QUERY_STRING: query,
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
      REMOTE_USER: options.basicAuth?.username ?? "anonymous"
    }
    const contentType = req.headers["content-type"]
    if (contentType) env.CONTENT_TYPE = contentType
    const contentLength = req.headers["content-length"]
    // Without CONTENT_LENGTH (chunked bodies) http-backend reads until EOF.
    if (contentLength) env.CONTENT_LENGTH = contentLength
    const protocol = req.headers["git-protocol"]
    if (typeof protocol === "string") env.HTTP_GIT_PROTOCOL = protocol
    const encoding = req.headers["content-encoding"]
    if (typeof encoding === "string") env.HTTP_CONTENT_ENCODING = encoding

    const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.stdin.on("error", () => {
      // http-backend may exit before reading the whole body (e.g. on an error reply).
    })
    req.pipe(child.stdin)

    let head: Buffer = Buffer.alloc(0)
    let headersSent = false
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      const end = headerEnd(head)
      if (!end) return
      let status = 200
      const headers: Record<string, string> = {}
      for (const line of head.subarray(0, end.at).toString("latin1").split(/\r?\n/)) {
        const colon = line.indexOf(":")
        if (colon === -1) continue
        const name = line.slice(0, colon).trim()
        const value = line.slice(colon + 1).trim()
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500
        else headers[name] = value
      }
      res.writeHead(status, headers)
      headersSent = true
      const rest = head.subarray(end.at + end.length)
      if (rest.length > 0) res.write(rest)
    })
    child.on("error", (error) => {
      if (!headersSent) {
        res.writeHead(500, { "Content-Type": "text/plain" })
        headersSent = true
      }
      res.end(`git http-backend failed: ${error.message}\n`)
    })
    child.on("close", (code) => {
      if (!headersSent) {
        res.writeHead(500, { "Content-Type": "text/plain" })
        res.end(`git http-backend exited with ${code}: ${stderr}\n`)
        return
      }
      res.end()
    })
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (options.basicAuth && !isAuthorized(req, options.basicAuth)) {
      // Drain the body so the client sees the 401 instead of a reset connection.
      req.resume()
      unauthorized(res)
      return
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const pathInfo = decodeURIComponent(url.pathname)
    const query = url.search.startsWith("?") ? url.search.slice(1) : url.search
    const isReceivePackDiscovery =
      req.method === "GET" && pathInfo.endsWith("/info/refs") && url.searchParams.get("service") === "git-receive-pack"
    if (req.method === "POST" && pathInfo.endsWith("/git-receive-pack")) stats.receivePacks++
    if (req.method === "POST" && pathInfo.endsWith("/git-upload-pack")) stats.uploadPacks++
    if (isReceivePackDiscovery && pendingBeforePush.length > 0) {
      const hooks = pendingBeforePush
      pendingBeforePush = []
      for (const hook of hooks) await hook()
    }
    if (req.method === "POST" && pathInfo.endsWith("/git-receive-pack") && pendingBeforeUpdate.length > 0) {
      const hooks = pendingBeforeUpdate
      pendingBeforeUpdate = []
      for (const hook of hooks) await hook()
    }
    runCgi(req, res, pathInfo, query)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" })
      res.end(`test git server error: ${String(error)}\n`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address: AddressInfo | string | null = server.address()
  if (address === null || typeof address === "string") throw new Error("git server has no TCP address")
  const { port } = address
  const url = `http://127.0.0.1:${port}`

  const bare = (name: string) => join(root, `${name}.git`)

  const createRepo: TestGitServer["createRepo"] = async (name, files, opts = {}) => {
    const branch = opts.branch ?? DEFAULT_BRANCH
    const repo = bare(name)
    if (!existsSync(repo)) {
      await mkdir(dirname(repo), { recursive: true })
      await git(["init", "--bare", "--quiet", `--initial-branch=${branch}`, repo])
      await git(["config", "http.receivepack", "true"], { cwd: repo })
    }
    const work = await mkdtemp(join(tmpdir(), "git-seed-"))
    try {
      await git(["init", "--quiet", `--initial-branch=${branch}`, work])
      await writeFiles(work, files)
      await git(["add", "--all"], { cwd: work })
      await git(["commit", "--quiet", "--allow-empty", "-m", "Initial commit"], { cwd: work })
      await git(["push", "--quiet", repo, `HEAD:refs/heads/${branch}`], { cwd: work })
    } finally {
      await rm(work, { recursive: true, force: true })
    }
    return `${url}/${name}.git`
  }

  const commitAs: TestGitServer["commitAs"] = async (name, files, message, opts = {}) => {
    const branch = opts.branch ?? DEFAULT_BRANCH
    const work = await mkdtemp(join(tmpdir(), "git-writer-"))
    try {
      await git(["clone", "--quiet", "--branch", branch, "--single-branch", bare(name), work])
      await writeFiles(work, files)
      await git(["add", "--all"], { cwd: work })
      await git(["commit", "--quiet", "--allow-empty", "-m", message], { cwd: work })
      await git(["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`], { cwd: work })
      return (await git(["rev-parse", "HEAD"], { cwd: work })).trim()
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }

  const merge: TestGitServer["merge"] = async (name, from, into, opts = {}) => {
    const work = await mkdtemp(join(tmpdir(), "git-merger-"))
    try {
      await git(["clone", "--quiet", "--branch", into, bare(name), work])
      const how = opts.fastForward === true ? ["--ff-only"] : ["--no-ff", "-m", `Merge branch '${from}'`]
      await git(["merge", "--quiet", ...how, `origin/${from}`], { cwd: work })
      await git(["push", "--quiet", "origin", `HEAD:refs/heads/${into}`], { cwd: work })
      return (await git(["rev-parse", "HEAD"], { cwd: work })).trim()
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }

  const tip: TestGitServer["tip"] = async (name, branch) =>
    git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: bare(name) }).then(
      (out) => out.trim(),
      () => undefined
    )

  const isAncestor: TestGitServer["isAncestor"] = (name, ancestor, descendant) =>
    git(["merge-base", "--is-ancestor", ancestor, descendant], { cwd: bare(name) }).then(() => true, () => false)

  const parents: TestGitServer["parents"] = async (name, oid) =>
    (await git(["rev-list", "--parents", "-n", "1", oid], { cwd: bare(name) })).trim().split(" ").slice(1)

  const readFile: TestGitServer["readFile"] = (name, path, opts = {}) =>
    git(["show", `refs/heads/${opts.branch ?? DEFAULT_BRANCH}:${path}`], { cwd: bare(name) })

  const log: TestGitServer["log"] = async (name, opts = {}) => {
    const out = await git(["log", "--format=%H%x09%an%x09%ae%x09%s", `refs/heads/${opts.branch ?? DEFAULT_BRANCH}`], {
      cwd: bare(name)
    })
    return out
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => {
        const [oid = "", author = "", email = "", ...subject] = line.split("\t")
        return { oid, author, email, subject: subject.join("\t") }
      })
  }

  return {
    url,
    root,
    createRepo,
    commitAs,
    merge,
    tip,
    isAncestor,
    parents,
    readFile,
    log,
    stats,
    beforeNextPush: (fn) => {
      pendingBeforePush.push(fn)
    },
    beforeNextUpdate: (fn) => {
      pendingBeforeUpdate.push(fn)
    },
    stop: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(root, { recursive: true, force: true })
    }
  }
}
