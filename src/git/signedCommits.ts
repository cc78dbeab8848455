import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { deflateSync } from "node:zlib"
import type { GitError, GitErrorKind } from "./GitError.ts"
import { fastImportScript, parseRootTrees } from "./plumbing.ts"
import type { Staged } from "./commitBatch.ts"
import { type Signer, signedCommit } from "./signing.ts"
import { messageOf } from "../domain/foreignText.ts"

/** What writing commits needs of a system-git checkout. */
export interface CommitWriter {
  readonly dir: string
  readonly branchRef: string
  readonly fail: (operation: "commit", kind: GitErrorKind, detail: string) => GitError
  /** Runs git in the clone; fails on a non-zero exit. */
  readonly gitIn: (operation: "commit", args: ReadonlyArray<string>, options?: { readonly stdin?: string }) => Effect.Effect<string, GitError>
}

/** Each commit of the batch signed, one on another from `parent`, on the trees fast-import wrote. */
const signAll = (
  git: CommitWriter,
  signer: Signer,
  options: { readonly parent: string; readonly seconds: number; readonly batch: ReadonlyArray<Staged> },
  trees: ReadonlyArray<string>
) =>
  Effect.tryPromise({
    try: async () => {
      const made: Array<{ readonly oid: string; readonly bytes: Uint8Array }> = []
      let parent = options.parent
      for (const [i, { input }] of options.batch.entries()) {
        const fields = { tree: trees[i] ?? "", parents: [parent], author: input.author, seconds: options.seconds, message: input.message }
        const commit = await signedCommit(signer, fields)
        made.push(commit)
        parent = commit.oid
      }
      return made
    },
    catch: (error) => git.fail("commit", "other", `cannot sign a commit: ${messageOf(error)}`)
  })

const COMMIT = 1

/** A packed object's header: its type and the size's low 4 bits, then 7 bits of the size a byte, low first. */
const objectHeader = (type: number, size: number) => {
  const bytes = [(type << 4) | (size & 0x0f)]
  for (let rest = Math.floor(size / 16); rest > 0; rest = Math.floor(rest / 128)) {
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) | 0x80
    bytes.push(rest & 0x7f)
  }
  return Buffer.from(bytes)
}

/** A version 2 pack of whole commit objects, and its checksum (the SHA-1 of what precedes it), which names it. */
const commitPack = (objects: ReadonlyArray<Uint8Array>): { readonly bytes: Uint8Array; readonly checksum: string } => {
  const header = Buffer.alloc(12)
  header.write("PACK", 0, "latin1")
  header.writeUInt32BE(2, 4)
  header.writeUInt32BE(objects.length, 8)
  const body = Buffer.concat([header, ...objects.flatMap((object) => [objectHeader(COMMIT, object.length), deflateSync(object)])])
  const checksum = createHash("sha1").update(body).digest()
  return { bytes: Buffer.concat([body, checksum]), checksum: checksum.toString("hex") }
}

/** The objects as a pack in the clone, indexed; a pack git refuses is removed again. */
const writePack = (git: CommitWriter, files: FileSystem.FileSystem, objects: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function* () {
    const { bytes, checksum } = commitPack(objects)
    const pack = `${git.dir}/objects/pack/pack-${checksum}`
    // The same commits written before (a batch made again in the same second) are there already.
    if (yield* files.exists(`${pack}.idx`)) return
    yield* files.makeDirectory(`${git.dir}/objects/pack`, { recursive: true })
    yield* files.writeFile(`${pack}.pack`, bytes)
    yield* git.gitIn("commit", ["index-pack", "--strict", `${pack}.pack`]).pipe(
      Effect.tapError(() => Effect.ignore(files.remove(`${pack}.pack`, { force: true })))
    )
  }).pipe(Effect.mapError((e) => e._tag === "GitError" ? e : git.fail("commit", "other", `cannot write the signed commits in ${git.dir}: ${e.message}`)))

/**
 * Writes a batch of signed commits in a fixed number of processes however many there are, since
 * `git fast-import` cannot sign (git 2.39): fast-import writes the blobs and trees (and unsigned
 * commits that nothing points to, left for gc), the commits are signed here and packed into one
 * file in the clone's pack directory, which `git index-pack --strict` checks and indexes (one pack,
 * not a loose file per commit), and `git update-ref` moves the branch from `parent`. Returns the
 * commits' oids in order; on failure the branch stays at `parent`.
 */
export const writeSignedCommits = (
  git: CommitWriter,
  files: FileSystem.FileSystem,
  signer: Signer,
  options: { readonly parent: string; readonly seconds: number; readonly batch: ReadonlyArray<Staged>; readonly modes: ReadonlyMap<string, string> }
): Effect.Effect<ReadonlyArray<string>, GitError> =>
  Effect.gen(function* () {
    const out = yield* git.gitIn("commit", ["fast-import", "--quiet", "--done"], {
      stdin: fastImportScript({ ...options, branchRef: git.branchRef, treesOnly: true })
    })
    const trees = parseRootTrees(out)
    if (trees.length !== options.batch.length) {
      return yield* git.fail("commit", "corrupt", `git fast-import returned ${trees.length} trees for ${options.batch.length} commits`)
    }
    const commits = yield* signAll(git, signer, options, trees)
    const tip = commits[commits.length - 1]?.oid
    if (tip === undefined) return []
    yield* writePack(git, files, commits.map((commit) => commit.bytes))
    yield* git.gitIn("commit", ["update-ref", git.branchRef, tip, options.parent])
    return commits.map((commit) => commit.oid)
  })
