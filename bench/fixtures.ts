/**
 * The benchmark's data: tiny images in a real `docker-registry`, and git repositories on the real
 * `git http-backend` (watched deployments, filler files, a large history built with fast-import).
 */
import { spawn } from "node:child_process"
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import { git, type TestGitServer } from "../test/support/gitServer.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { writeFile } from "../test/support/runner.ts"

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

/** Runs `work` over `items` with at most `limit` in flight. */
export const inParallel = async <A>(items: ReadonlyArray<A>, limit: number, work: (item: A) => Promise<unknown>) => {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as A
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * Pushes `repository` with every tag in `tags`: one real image push, then the same manifest under
 * the other tags (one PUT each), which is what a registry holds after CI retags an image.
 */
export const pushTags = async (registry: TestRegistry, repository: string, tags: ReadonlyArray<string>) => {
  const [first, ...rest] = tags
  if (first === undefined) return
  const digest = await registry.pushImage(repository, first)
  await retag(registry, repository, digest, rest)
}

/** The manifest `reference` (a tag or digest) names, as served. */
const getManifest = async (registry: TestRegistry, repository: string, reference: string) => {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } })
  const manifest = await res.text()
  if (res.status !== 200) throw new Error(`GET manifest ${repository}:${reference}: ${res.status} ${manifest}`)
  return manifest
}

/** Puts `manifest` under each of `tags`, one PUT each. */
const putManifest = async (registry: TestRegistry, repository: string, manifest: string, tags: ReadonlyArray<string>) => {
  for (const tag of tags) {
    const put = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": OCI_MANIFEST },
      body: manifest
    })
    const body = await put.text()
    if (put.status !== 201) throw new Error(`PUT manifest ${repository}:${tag}: ${put.status} ${body}`)
  }
}

/** Puts the manifest that `reference` (a tag or digest) names under more tags; for registries without auth. */
export const retag = async (registry: TestRegistry, repository: string, reference: string, tags: ReadonlyArray<string>) => {
  if (tags.length === 0) return
  await putManifest(registry, repository, await getManifest(registry, repository, reference), tags)
}

/** Images are pushed in parallel across repositories; one repository's pushes stay sequential. */
export const PUSH_CONCURRENCY = 8

const configDigestOf = (manifest: string): string => {
  const parsed: unknown = JSON.parse(manifest)
  const config = typeof parsed === "object" && parsed !== null && "config" in parsed ? parsed.config : undefined
  const digest = typeof config === "object" && config !== null && "digest" in config ? config.digest : undefined
  if (typeof digest !== "string") throw new Error(`manifest without a config digest: ${manifest}`)
  return digest
}

/**
 * Every repository of `repositories` with every tag of `tags`, all naming one manifest: one real
 * push to the first, then per repository a cross-repository mount of its config blob and one
 * manifest PUT per tag, about half the requests of `pushTags` (4 instead of 6 for 3 tags).
 */
export const pushRetagged = async (registry: TestRegistry, repositories: ReadonlyArray<string>, tags: ReadonlyArray<string>) => {
  const [seed, ...rest] = repositories
  const [first] = tags
  if (seed === undefined || first === undefined) return
  await pushTags(registry, seed, tags)
  const manifest = await getManifest(registry, seed, first)
  const blob = configDigestOf(manifest)
  await inParallel(rest, PUSH_CONCURRENCY, async (repository) => {
    const mount = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/?mount=${blob}&from=${seed}`, { method: "POST" })
    const body = await mount.text()
    if (mount.status !== 201) throw new Error(`mount of ${blob} into ${repository}: ${mount.status} ${body}`)
    await putManifest(registry, repository, manifest, tags)
  })
}

export const pad = (n: number, width: number) => String(n).padStart(width, "0")

export interface Target {
  readonly image: string
  readonly filePath: string
  readonly field: string
}

/** A Deployment with one container per image, each at `tag`. */
const deployment = (name: string, images: ReadonlyArray<string>, tag: string) =>
  `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}, tier: backend}
spec:
  replicas: 2
  template:
    spec:
      containers:
${images.map((image, i) => `        - name: c${i}\n          image: ${image}:${tag} # kept up to date\n          ports: [{containerPort: ${8000 + i}}]`).join("\n")}
`

const watcherFile = (targets: ReadonlyArray<Target>) =>
  `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
${targets.map((t) => `    - image: ${t.image}\n      provider: registry\n      filePath: ${t.filePath}\n      field: ${t.field}`).join("\n")}
`

/** Unrelated files that a real configuration repository carries besides the watched ones. */
const filler = (i: number) =>
  `# Service ${i}\n\n${"Operational notes, runbooks and dashboards for this service. ".repeat(16)}\n`

export interface WatchedRepoSpec {
  /** Image names without tag, e.g. `127.0.0.1:5000/bench/img-000`. */
  readonly images: ReadonlyArray<string>
  readonly targetsPerImage: number
  readonly files: number
  readonly extraFiles: number
  readonly watcherFiles: number
  readonly tag: string
}

/**
 * The files of a configuration repository: `targetsPerImage` targets for each image spread over
 * `files` deployments (target k is image k mod images), the watcher files under `.pipe/`, and
 * `extraFiles` unrelated files.
 */
export const watchedRepoFiles = (spec: WatchedRepoSpec): Record<string, string> => {
  const total = spec.images.length * spec.targetsPerImage
  const perFile = Math.ceil(total / spec.files)
  const files: Record<string, string> = {}
  const targets: Array<Target> = []
  for (let f = 0; f < spec.files; f++) {
    const filePath = `apps/app-${pad(f, 4)}/deployment.yaml`
    const images: Array<string> = []
    for (let c = 0; c < perFile && f * perFile + c < total; c++) {
      const image = spec.images[(f * perFile + c) % spec.images.length] as string
      images.push(image)
      targets.push({ image, filePath, field: `$.spec.template.spec.containers[${c}].image` })
    }
    files[filePath] = deployment(`app-${pad(f, 4)}`, images, spec.tag)
  }
  const perWatcher = Math.ceil(targets.length / spec.watcherFiles)
  for (let w = 0; w < spec.watcherFiles; w++) {
    files[`.pipe/watch-${pad(w, 3)}.yaml`] = watcherFile(targets.slice(w * perWatcher, (w + 1) * perWatcher))
  }
  for (let i = 0; i < spec.extraFiles; i++) files[`docs/service-${pad(i, 5)}.md`] = filler(i)
  return files
}

export interface ConfigRepo {
  readonly repoId: string
  readonly remote: string
}

/**
 * A Piped config `<name>.yaml` watching `repos` (one or several) with one OCI provider at
 * `address`; `git` holds more `spec.git` lines.
 */
export const pipedConfig = (
  dir: string,
  name: string,
  repos: ReadonlyArray<ConfigRepo>,
  address: string,
  git: ReadonlyArray<string> = []
): string =>
  writeFile(
    dir,
    `${name}.yaml`,
    `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  git:
    username: bench
    email: bench@example.com
${git.map((line) => `    ${line}\n`).join("")}  repositories:
${repos.map((r) => `    - repoId: ${r.repoId}\n      remote: ${r.remote}\n      branch: main\n`).join("")}  imageProviders:
    - name: registry
      type: OCI
      config:
        address: ${address}
        # The default config: a registry that never pushes back gets 8 requests in flight and no
        # per-second ceiling, so the bench measures the runner as operators run it.
  imageWatcher:
    checkInterval: 5m
    gitRepos:
${repos.map((r) => `      - repoId: ${r.repoId}\n`).join("")}`
  )

/** `items` cut into `parts` contiguous slices whose lengths differ by at most one. */
export const splitAcross = <A>(items: ReadonlyArray<A>, parts: number): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: parts }, (_, p) => items.slice(Math.floor((p * items.length) / parts), Math.floor(((p + 1) * items.length) / parts)))

const FAST_IMPORT_EPOCH = 1_700_000_000

const fastImportData = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`

/** One fast-import commit on main; `from` continues an existing branch in a later import. */
const fastImportCommit = (n: number, changes: ReadonlyArray<readonly [string, string]>, from = "") =>
  `commit refs/heads/main\ncommitter Bench <bench@example.com> ${FAST_IMPORT_EPOCH + n} +0000\n${fastImportData(`Change ${n}`)}${from}` +
  changes.map(([file, text]) => `M 100644 inline ${file}\n${fastImportData(text)}`).join("")

const fastImport = (bare: string, stream: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn("git", ["fast-import", "--quiet"], { cwd: bare, stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import failed: ${stderr}`))))
    child.stdin.end(stream)
  })

const largeRepoPath = (i: number) => `services/svc-${pad(Math.floor(i / 100), 3)}/config-${pad(i % 100, 2)}.yaml`
const largeRepoFile = (i: number, revision: number) => `name: svc-${i}\nrevision: ${revision}\nsettings: {replicas: 2, memory: 256Mi}\n`

/**
 * A bare repository `<name>.git` on the git server with `files` filler files plus `watched` in its
 * first commit, then `commits - 1` more commits that each change one filler file. Built with
 * `git fast-import`, which writes thousands of commits in seconds.
 */
export const createLargeRepo = async (
  server: TestGitServer,
  name: string,
  options: { readonly files: number; readonly commits: number; readonly watched: Record<string, string> }
): Promise<string> => {
  const bare = join(server.root, `${name}.git`)
  await mkdir(bare, { recursive: true })
  await git(["init", "--bare", "--quiet", "--initial-branch=main", bare])
  await git(["config", "http.receivepack", "true"], { cwd: bare })
  const initial: Array<readonly [string, string]> = Object.entries(options.watched)
  for (let i = 0; i < options.files; i++) initial.push([largeRepoPath(i), largeRepoFile(i, 0)])
  const chunks = [fastImportCommit(0, initial)]
  for (let n = 1; n < options.commits; n++) {
    const i = (n * 7919) % options.files
    chunks.push(fastImportCommit(n, [[largeRepoPath(i), largeRepoFile(i, n)]]))
  }
  await fastImport(bare, chunks.join(""))
  // fast-import leaves a pack fit for import, not for serving; repack as a server would hold it.
  await git(["repack", "-a", "-d", "-q"], { cwd: bare })
  return `${server.url}/${name}.git`
}

/** Another writer's commit on top of a large repository's main, changing one filler file. */
export const appendLargeRepoCommit = (server: TestGitServer, name: string, n: number) =>
  fastImport(join(server.root, `${name}.git`), fastImportCommit(n, [[largeRepoPath(n), largeRepoFile(n, n)]], "from refs/heads/main^0\n"))
