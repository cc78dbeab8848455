import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { inflateSync } from "node:zlib"

/** git's own lock files: `shallow.lock`, `HEAD.lock`, `config.lock`, `packed-refs.lock`, and refs' under `refs/`. */
const isGitLock = (name: string): boolean => name.endsWith(".lock")

/** A crash report `git fast-import` leaves in the git dir when it dies. */
const isCrashReport = (name: string): boolean => name.startsWith("fast_import_crash_")

/** A loose object git was writing (in `objects/` or its fan-out directory) when it was killed. */
const isTempObject = (name: string): boolean => name.startsWith("tmp_obj_")

/** A pack or its index that a fetch or fast-import was writing: as large as what was fetched. */
const isTempPack = (name: string): boolean => name.startsWith("tmp_pack_") || name.startsWith("tmp_idx_")

const listing = (fs: FileSystem.FileSystem, dir: string, recursive = false) =>
  fs.readDirectory(dir, { recursive }).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))

/**
 * Removes what git (or isomorphic-git) killed mid-write left in a clone, returning the paths: lock
 * files, which would fail every later pass; temporary objects and packs, and fast-import's crash
 * reports, which no later git reads or removes and which pile up on the data dir's disk. Only for
 * a caller that holds the clone's lock (`holdCloneLock`): then no git of ours runs there, and any
 * such file is a leftover.
 */
export const clearCrashLeftovers = (dir: string): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const top = yield* listing(fs, dir)
    const refs = yield* listing(fs, `${dir}/refs`, true)
    const objects = yield* listing(fs, `${dir}/objects`)
    const fanout: Array<string> = []
    for (const prefix of objects.filter((name) => /^[0-9a-f]{2}$/.test(name))) {
      fanout.push(...(yield* listing(fs, `${dir}/objects/${prefix}`)).filter(isTempObject).map((name) => `${dir}/objects/${prefix}/${name}`))
    }
    const packs = yield* listing(fs, `${dir}/objects/pack`)
    const stale = [
      ...top.filter((name) => isGitLock(name) || isCrashReport(name)).map((name) => `${dir}/${name}`),
      ...refs.filter(isGitLock).map((name) => `${dir}/refs/${name}`),
      ...objects.filter(isTempObject).map((name) => `${dir}/objects/${name}`),
      ...fanout,
      ...packs.filter(isTempPack).map((name) => `${dir}/objects/pack/${name}`)
    ]
    for (const file of stale) yield* fs.remove(file, { force: true }).pipe(Effect.ignore)
    return stale
  })

/**
 * Removes the sample hooks (`hooks/*.sample`) that `git init` copied from its template into a
 * clone made before clones were initialised without one: nothing runs them, and every clone
 * carried them on the data dir's disk. Returns the paths removed.
 */
export const clearSampleHooks = (dir: string): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const samples = (yield* listing(fs, `${dir}/hooks`)).filter((name) => name.endsWith(".sample")).map((name) => `${dir}/hooks/${name}`)
    for (const file of samples) yield* fs.remove(file, { force: true }).pipe(Effect.ignore)
    return samples
  })

/** Whether a loose object file inflates to an object whose SHA-1 is its name (SHA-256 clones are not checked). */
const isSoundObject = (oid: string, bytes: Uint8Array): boolean => {
  try {
    const object = inflateSync(bytes)
    const nul = object.indexOf(0)
    const header = /^(blob|tree|commit|tag) (\d+)$/.exec(object.subarray(0, nul === -1 ? 0 : nul).toString("latin1"))
    if (header?.[2] === undefined || Number(header[2]) !== object.length - nul - 1) return false
    return createHash("sha1").update(object).digest("hex") === oid
  } catch {
    return false
  }
}

/**
 * The loose objects of a clone that are not what their names say: empty or cut short by a crash.
 * isomorphic-git never writes an object whose file exists, so a bad one stays bad and breaks every
 * later commit or push that reaches it. Packs are written whole by a fetch and are not checked.
 */
export const corruptLooseObjects = (dir: string): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const fanout = yield* listing(fs, `${dir}/objects`)
    const bad: Array<string> = []
    for (const prefix of fanout.filter((name) => /^[0-9a-f]{2}$/.test(name))) {
      const names = yield* listing(fs, `${dir}/objects/${prefix}`)
      for (const rest of names.filter((name) => /^[0-9a-f]{38}$/.test(name))) {
        const bytes = yield* fs.readFile(`${dir}/objects/${prefix}/${rest}`).pipe(Effect.orElseSucceed(() => new Uint8Array()))
        if (!isSoundObject(`${prefix}${rest}`, bytes)) bad.push(`${prefix}${rest}`)
      }
    }
    return bad
  })
