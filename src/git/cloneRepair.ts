import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { inflateSync } from "node:zlib"

/** git's own lock files: `shallow.lock`, `HEAD.lock`, `config.lock`, `packed-refs.lock`, and refs' under `refs/`. */
const isGitLock = (name: string): boolean => name.endsWith(".lock")

/**
 * Removes the lock files git (or isomorphic-git) left in a clone, returning their paths. Only for a
 * caller that holds the clone's lock (`holdCloneLock`): then no git of ours runs there, and any such
 * file was left by a process killed mid-write, which would fail every later pass.
 */
export const clearStaleGitLocks = (dir: string): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const top = yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    const refs = yield* fs.readDirectory(`${dir}/refs`, { recursive: true }).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    const stale = [...top.filter(isGitLock).map((name) => `${dir}/${name}`), ...refs.filter(isGitLock).map((name) => `${dir}/refs/${name}`)]
    for (const file of stale) yield* fs.remove(file, { force: true }).pipe(Effect.ignore)
    return stale
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
    const fanout = yield* fs.readDirectory(`${dir}/objects`).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    const bad: Array<string> = []
    for (const prefix of fanout.filter((name) => /^[0-9a-f]{2}$/.test(name))) {
      const names = yield* fs.readDirectory(`${dir}/objects/${prefix}`).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
      for (const rest of names.filter((name) => /^[0-9a-f]{38}$/.test(name))) {
        const bytes = yield* fs.readFile(`${dir}/objects/${prefix}/${rest}`).pipe(Effect.orElseSucceed(() => new Uint8Array()))
        if (!isSoundObject(`${prefix}${rest}`, bytes)) bad.push(`${prefix}${rest}`)
      }
    }
    return bad
  })
