/**
 * Real OCI registries on loopback for integration tests: the Debian `docker-registry` binary
 * (distribution 2.8), plus a small proxy that pages tag lists and injects faults, because the real
 * registry ignores `?n=` and never fails on demand.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { createHash, createPrivateKey, sign } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { listenOnLoopback } from "./listen.ts"

export interface TestRegistry {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** `127.0.0.1:PORT` */
  readonly host: string
  /** Pushes a tiny OCI image (config blob + layer-less manifest) under repo:tag; returns the manifest digest. */
  pushImage(repository: string, tag: string, options?: { created?: string; platform?: TestPlatform }): Promise<string>
  /**
   * Pushes one image per platform (their configs saying os/architecture/variant), then an index
   * naming them with `platform` fields under repo:tag: an OCI image index, or a Docker manifest
   * list with Docker image manifests (`docker`). Returns the index's digest.
   */
  pushIndex(repository: string, tag: string, platforms: ReadonlyArray<TestPlatform>, options?: { docker?: boolean }): Promise<string>
  /**
   * Pushes a Helm chart as `helm push` does: a config blob of media type
   * `application/vnd.cncf.helm.config.v1+json` (Chart.yaml as JSON), one chart layer, tagged by
   * its version with `+` stored as `_`. Returns the manifest digest.
   */
  pushChart(repository: string, version: string): Promise<string>
  /** With `tokenAuth`: the path and query of every request the token service received, in order. */
  readonly tokenRequests: ReadonlyArray<string>
  stop(): Promise<void>
}

/** An image's platform as its config and an index entry state it. */
export interface TestPlatform {
  readonly os: string
  readonly architecture: string
  readonly variant?: string
}

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

export interface RegistryOptions {
  /** The registry POSTs its `notifications` envelope (pushes, pulls) to this URL after each event. */
  readonly notifications?: { readonly url: string }
  /** Serves https with a self-signed certificate for 127.0.0.1 (clients need to skip verification). */
  readonly tls?: boolean
  /** Protects the registry with HTTP Basic auth (bcrypt htpasswd file). */
  readonly htpasswd?: { readonly username: string; readonly password: string }
  /**
   * Protects the registry with Bearer tokens (distribution's `auth.token`) issued by a token
   * service started beside it. With a username and password the service demands them as Basic
   * credentials; without, it hands out anonymous pull tokens.
   */
  readonly tokenAuth?: {
    readonly username?: string
    readonly password?: string
    readonly expiresIn?: number
    /** The first this many tokens handed out carry a bad signature, so the registry rejects them. */
    readonly badTokens?: number
  }
}

const TOKEN_ISSUER = "test-token-issuer"
const TOKEN_SERVICE = "test-registry"

interface TokenService {
  readonly realm: string
  readonly requests: ReadonlyArray<string>
  /** A token granting `actions` on `repository`, as the service would issue it. */
  mint(repository: string, actions: ReadonlyArray<string>): string
  stop(): Promise<void>
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url")

/** A token service signing distribution-style JWTs (RS256, certificate in `x5c`). */
const startTokenService = async (
  dir: string,
  options: NonNullable<RegistryOptions["tokenAuth"]>,
): Promise<TokenService> => {
  const keyPath = join(dir, "token.key")
  const certPath = join(dir, "token.crt")
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", "/CN=test-token"],
    { stdio: "ignore" },
  )
  const key = createPrivateKey(readFileSync(keyPath))
  const certDer = readFileSync(certPath, "utf8").replace(/-----[A-Z ]+-----|\s/g, "")
  const expiresIn = options.expiresIn ?? 300
  const requests: Array<string> = []
  let badTokens = options.badTokens ?? 0

  const mint = (repository: string, actions: ReadonlyArray<string>) => {
    const now = Math.floor(Date.now() / 1000)
    const header = base64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [certDer] }))
    const claims = base64url(
      JSON.stringify({
        iss: TOKEN_ISSUER,
        sub: options.username ?? "anonymous",
        aud: TOKEN_SERVICE,
        exp: now + expiresIn,
        nbf: now - 10,
        iat: now,
        jti: `${now}-${Math.random()}`,
        access: repository === "" ? [] : [{ type: "repository", name: repository, actions }],
      }),
    )
    const signature = sign("RSA-SHA256", Buffer.from(`${header}.${claims}`), key).toString("base64url")
    return `${header}.${claims}.${signature}`
  }

  const server = createServer((req, res) => {
    const path = req.url ?? "/"
    requests.push(path)
    const url = new URL(path, "http://token.invalid")
    if (options.username !== undefined) {
      const expected = basicHeader(options.username, options.password ?? "")
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="token"' })
        res.end(JSON.stringify({ details: "incorrect username or password" }))
        return
      }
    }
    // Scopes look like repository:<name>:<actions>; names may contain host:port.
    const scope = url.searchParams.get("scope") ?? ""
    const match = /^repository:(.+):([a-z,*]+)$/.exec(scope)
    const repository = match?.[1] ?? ""
    const requested = (match?.[2] ?? "").split(",")
    const actions = options.username === undefined ? requested.filter((a) => a === "pull") : requested
    const minted = mint(repository, actions)
    const token = badTokens-- > 0 ? `${minted.slice(0, minted.lastIndexOf(".") + 1)}${base64url("forged")}` : minted
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() }))
  })
  const { port, stop } = await listenOnLoopback(server)
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    mint,
    stop,
  }
}

const REGISTRY_BIN = "/usr/bin/docker-registry"
const START_TIMEOUT_MS = 15_000

// Children still running when the test process exits are killed, so a crashed or interrupted test
// run does not leave registries listening.
const running = new Set<ChildProcess>()
let exitHookInstalled = false
const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  const killAll = () => {
    for (const child of running) child.kill("SIGKILL")
  }
  process.on("exit", killAll)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll()
      process.exit(130)
    })
  }
}

/** A port that was free a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })

// The harness talks to its own servers only, so certificate checks are off (TLS registries are self-signed).
const localFetch = (input: string | URL, init: BunFetchRequestInit = {}) =>
  fetch(input, { tls: { rejectUnauthorized: false }, ...init })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const sha256 = (data: string | Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`

const basicHeader = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`

const waitUntilReady = async (url: string, child: ChildProcess, stderr: () => string): Promise<void> => {
  const deadline = performance.now() + START_TIMEOUT_MS
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited early (${child.exitCode ?? child.signalCode}): ${stderr()}`)
    }
    try {
      const res = await localFetch(`${url}/v2/`)
      await res.arrayBuffer()
      if (res.status === 200 || res.status === 401) return
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  throw new Error(`docker-registry did not answer on ${url} within ${START_TIMEOUT_MS} ms: ${stderr()}`)
}

const launch = async (options: RegistryOptions): Promise<TestRegistry> => {
  const dir = mkdtempSync(join(tmpdir(), "test-registry-"))
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  const url = `${options.tls === true ? "https" : "http"}://${host}`
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    "  secret: test-secret",
  ]
  if (options.notifications !== undefined) {
    config.push(
      "notifications:",
      "  endpoints:",
      "    - name: test",
      `      url: ${JSON.stringify(options.notifications.url)}`,
      "      timeout: 2s",
      "      threshold: 10",
      "      backoff: 200ms",
    )
  }
  if (options.tls === true) {
    const [key, cert] = [join(dir, "tls.key"), join(dir, "tls.crt")]
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1"],
      { stdio: "ignore" },
    )
    config.push("  tls:", `    certificate: ${cert}`, `    key: ${key}`)
  }
  if (options.htpasswd !== undefined) {
    const line = execFileSync("htpasswd", ["-Bbn", options.htpasswd.username, options.htpasswd.password], {
      encoding: "utf8",
    })
    writeFileSync(join(dir, "htpasswd"), line.trim() + "\n")
    config.push("auth:", "  htpasswd:", "    realm: test-registry", `    path: ${join(dir, "htpasswd")}`)
  }
  const tokens = options.tokenAuth === undefined ? undefined : await startTokenService(dir, options.tokenAuth)
  if (tokens !== undefined) {
    config.push(
      "auth:",
      "  token:",
      `    realm: ${tokens.realm}`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${join(dir, "token.crt")}`,
    )
  }
  const configPath = join(dir, "config.yml")
  writeFileSync(configPath, config.join("\n") + "\n")

  installExitHook()
  // setpriv's parent-death signal also covers a test process that is killed with SIGKILL.
  const [command, args] = existsSync("/usr/bin/setpriv")
    ? ["/usr/bin/setpriv", ["--pdeathsig", "KILL", "--", REGISTRY_BIN, "serve", configPath]]
    : [REGISTRY_BIN, ["serve", configPath]]
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] })
  running.add(child)
  let stderr = ""
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.once("exit", () => running.delete(child))

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000)
      await exited
      clearTimeout(timer)
    }
    await tokens?.stop()
    rmSync(dir, { recursive: true, force: true })
  }

  try {
    await waitUntilReady(url, child, () => stderr)
  } catch (error) {
    await stop()
    throw error
  }

  const authFor = (repository: string): Record<string, string> => {
    if (options.htpasswd !== undefined) {
      return { authorization: basicHeader(options.htpasswd.username, options.htpasswd.password) }
    }
    if (tokens !== undefined) return { authorization: `Bearer ${tokens.mint(repository, ["pull", "push"])}` }
    return {}
  }

  const putBlob = async (repository: string, content: string): Promise<string> => {
    const auth = authFor(repository)
    const digest = sha256(content)
    const start = await localFetch(`${url}/v2/${repository}/blobs/uploads/`, { method: "POST", headers: auth })
    await start.arrayBuffer()
    const location = start.headers.get("location")
    if (start.status !== 202 || location === null) {
      throw new Error(`blob upload to ${repository} not started: ${start.status}`)
    }
    const uploadUrl = new URL(location, url)
    uploadUrl.searchParams.set("digest", digest)
    const put = await localFetch(uploadUrl, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/octet-stream" },
      body: content,
    })
    const putBody = await put.text()
    if (put.status !== 201) throw new Error(`blob upload to ${repository} failed: ${put.status} ${putBody}`)
    return digest
  }

  const putManifest = async (repository: string, reference: string, mediaType: string, manifest: string): Promise<string> => {
    const res = await localFetch(`${url}/v2/${repository}/manifests/${reference}`, {
      method: "PUT",
      headers: { ...authFor(repository), "content-type": mediaType },
      body: manifest,
    })
    const resBody = await res.text()
    if (res.status !== 201) throw new Error(`manifest ${repository}:${reference} not accepted: ${res.status} ${resBody}`)
    return sha256(manifest)
  }

  let pushed = 0
  /** An image's manifest (not pushed yet) over its config blob (pushed). */
  const imageManifest = async (repository: string, options: { created?: string; platform?: TestPlatform; docker?: boolean }) => {
    const platform = options.platform ?? { os: "linux", architecture: "amd64" }
    const config = JSON.stringify({
      ...platform,
      // Unless a test dates it, an image is built in push order, a week apart in 2024: release
      // dates the default policy's line rule reads as a project that moved on long ago.
      created: options.created ?? new Date(Date.UTC(2024, 0, 1) + pushed++ * 7 * 86_400_000).toISOString(),
      rootfs: { type: "layers", diff_ids: [] },
    })
    const configDigest = await putBlob(repository, config)
    const mediaType = options.docker === true ? DOCKER_MANIFEST : OCI_MANIFEST
    const configType = options.docker === true ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json"
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: configType, digest: configDigest, size: Buffer.byteLength(config) },
      layers: [],
    })
    return { mediaType, manifest }
  }

  const pushImage = async (repository: string, tag: string, pushOptions: { created?: string; platform?: TestPlatform } = {}): Promise<string> => {
    const { mediaType, manifest } = await imageManifest(repository, pushOptions)
    return putManifest(repository, tag, mediaType, manifest)
  }

  const pushIndex = async (repository: string, tag: string, platforms: ReadonlyArray<TestPlatform>, options: { docker?: boolean } = {}): Promise<string> => {
    const docker = options.docker === true
    const manifests = []
    for (const platform of platforms) {
      const { mediaType, manifest } = await imageManifest(repository, { platform, docker })
      const digest = await putManifest(repository, sha256(manifest), mediaType, manifest)
      manifests.push({ mediaType, digest, size: Buffer.byteLength(manifest), platform })
    }
    const mediaType = docker ? "application/vnd.docker.distribution.manifest.list.v2+json" : "application/vnd.oci.image.index.v1+json"
    return putManifest(repository, tag, mediaType, JSON.stringify({ schemaVersion: 2, mediaType, manifests }))
  }

  const pushChart = async (repository: string, version: string): Promise<string> => {
    const name = repository.split("/").pop() ?? repository
    const config = JSON.stringify({ name, version, apiVersion: "v2", description: "a test chart" })
    const configDigest = await putBlob(repository, config)
    // Not a real archive: nothing on the runner's path reads a chart's content.
    const layer = `chart ${name} ${version}`
    const layerDigest = await putBlob(repository, layer)
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: configDigest, size: Buffer.byteLength(config) },
      layers: [{ mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest: layerDigest, size: Buffer.byteLength(layer) }],
      annotations: { "org.opencontainers.image.title": name, "org.opencontainers.image.version": version },
    })
    return putManifest(repository, version.replaceAll("+", "_"), OCI_MANIFEST, manifest)
  }

  return { url, host, pushImage, pushIndex, pushChart, tokenRequests: tokens?.requests ?? [], stop }
}

/** Starts `docker-registry serve` on a free loopback port; retries if the port was taken meanwhile. */
export const startRegistry = async (options: RegistryOptions = {}): Promise<TestRegistry> => {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(options)
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

export interface PagingProxy {
  readonly url: string
  readonly host: string
  /** Method and path (with query) of every request received, in order. */
  readonly requests: ReadonlyArray<string>
  stop(): Promise<void>
}

/** A fault that closes the connection instead of answering. */
export const RESET = 0

export interface PagingProxyOptions {
  /**
   * Statuses answered, one per request, to the first tag-list requests instead of forwarding them
   * (e.g. `[503, 429]`). A 429 carries `Retry-After: <retryAfter>`; `RESET` drops the connection
   * without an answer.
   */
  readonly faults?: ReadonlyArray<number>
  readonly retryAfter?: string
  /** A fixed `Link` header sent with every tag-list page instead of the computed one. */
  readonly link?: string
  /** Statuses answered to every GET of a manifest by these references (digests or tags) instead of forwarding it. */
  readonly manifestFaults?: ReadonlyMap<string, number>
}

const readBody = (req: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.on("error", reject)
  })

const forwardHeaders = (req: IncomingMessage): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === "host" || name === "connection" || name === "content-length") continue
    headers.set(name, Array.isArray(value) ? value.join(", ") : value)
  }
  return headers
}

const sendUpstream = (res: ServerResponse, upstream: Response, body: Uint8Array, extra: Record<string, string> = {}) => {
  const headers: Record<string, string> = {}
  upstream.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "content-encoding" && name !== "transfer-encoding" && name !== "connection") {
      headers[name] = value
    }
  })
  res.writeHead(upstream.status, { ...headers, ...extra, "content-length": String(body.byteLength) })
  res.end(body)
}

const tagListPath = /^\/v2\/(.+)\/tags\/list$/
const manifestPath = /^\/v2\/.+\/manifests\/([^/]+)$/

/**
 * A proxy in front of `target` that answers tag lists in pages of `pageSize` (tags sorted) with
 * relative `Link: <...>; rel="next"` headers, and forwards everything else.
 */
export const startPagingProxy = async (
  target: TestRegistry,
  pageSize: number,
  options: PagingProxyOptions = {},
): Promise<PagingProxy> => {
  const requests: Array<string> = []
  const faults = [...(options.faults ?? [])]

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/"
    requests.push(`${req.method ?? "GET"} ${path}`)
    const incoming = new URL(path, "http://proxy.invalid")
    const upstreamUrl = new URL(incoming.pathname, target.url)
    const listing = tagListPath.exec(incoming.pathname)
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req)

    const manifestFault = options.manifestFaults?.get(manifestPath.exec(incoming.pathname)?.[1] ?? "")
    if (manifestFault !== undefined && req.method === "GET") {
      res.writeHead(manifestFault, { "content-type": "application/json" })
      res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: `injected ${manifestFault}` }] }))
      return
    }

    if (listing !== null && req.method === "GET") {
      const fault = faults.shift()
      if (fault === RESET) {
        req.socket.destroy()
        return
      }
      if (fault !== undefined) {
        const payload = JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: `injected ${fault}` }] })
        const extra: Record<string, string> = fault === 429 && options.retryAfter !== undefined ? { "retry-after": options.retryAfter } : {}
        res.writeHead(fault, { "content-type": "application/json", ...extra })
        res.end(payload)
        return
      }
      const upstream = await localFetch(upstreamUrl, { headers: forwardHeaders(req) })
      const raw = new Uint8Array(await upstream.arrayBuffer())
      if (upstream.status !== 200) return sendUpstream(res, upstream, raw)
      const parsed: { name: string; tags: Array<string> | null } = JSON.parse(new TextDecoder().decode(raw))
      // Pages follow the lexical order the distribution spec asks for, whatever order upstream used.
      const all = [...(parsed.tags ?? [])].sort()
      const last = incoming.searchParams.get("last")
      const from = last === null ? 0 : all.indexOf(last) + 1
      const page = all.slice(from, from + pageSize)
      const extra: Record<string, string> = {}
      const lastOfPage = page[page.length - 1]
      if (options.link !== undefined) {
        extra["link"] = options.link
      } else if (from + pageSize < all.length && lastOfPage !== undefined) {
        extra["link"] = `<${incoming.pathname}?last=${encodeURIComponent(lastOfPage)}&n=${pageSize}>; rel="next"`
      }
      return sendUpstream(res, upstream, new TextEncoder().encode(JSON.stringify({ name: parsed.name, tags: page })), extra)
    }

    upstreamUrl.search = incoming.search
    const upstream = await localFetch(upstreamUrl, {
      method: req.method ?? "GET",
      headers: forwardHeaders(req),
      redirect: "manual",
      ...(body === undefined ? {} : { body }),
    })
    sendUpstream(res, upstream, new Uint8Array(await upstream.arrayBuffer()))
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(502, { "content-type": "text/plain" })
      res.end(String(error))
    })
  })
  const { port, url, stop } = await listenOnLoopback(server)
  return {
    url,
    host: `127.0.0.1:${port}`,
    requests,
    stop,
  }
}
