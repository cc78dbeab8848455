import { Effect, Option } from "effect"
import { DEEPEN_ROUNDS, DEEPEN_STEP } from "./pushBranch.ts"

/** What the backends share of `OtherBranches`: which names they accept, and how deep they look for a merge base. */

/**
 * Whether `name` is a branch name git accepts (`git check-ref-format --branch` rules), with no
 * leading `-` that a command line could read as an option. Names come from templates filled with
 * what watcher files say, so every backend checks them before they reach a ref or a refspec.
 */
export const isBranchName = (name: string): boolean =>
  name.length > 0 && name.length <= 200 &&
  !name.startsWith("-") && !name.startsWith("/") && !name.endsWith("/") && !name.endsWith(".") &&
  name !== "@" && !name.includes("..") && !name.includes("//") && !name.includes("@{") &&
  // Control characters, space, DEL and the characters git gives a meaning in refs and revisions.
  !/[\u0000-\u0020\u007f~^:?*[\\]/.test(name) &&
  name.split("/").every((part) => !part.startsWith(".") && !part.endsWith(".lock"))

/** What the search needs of a backend's clone. */
export interface MergeBaseSearch<E> {
  /** The merge base as the clone's history has it now: None when that history holds none. */
  readonly find: Effect.Effect<Option.Option<string>, E>
  /** Whether the clone is shallow, so that deepening it may still find one. */
  readonly shallow: Effect.Effect<boolean, E>
  /** Fetches `commits` more below every shallow boundary of the branches involved. */
  readonly deepen: (commits: number) => Effect.Effect<void, E>
  /** The error when none is found: `deepened` tells whether it was looked for below the shallow boundary. */
  readonly none: (deepened: boolean) => E
}

/**
 * The merge base of two commits of a shallow clone: a request branch was started at an older tip
 * of the watched branch, which the clone may not have since. The clone is deepened while none is
 * found, in the rounds a push branch's merge check uses (DEEPEN_STEP × DEEPEN_ROUNDS commits).
 */
export const mergeBaseWithin = <E>(search: MergeBaseSearch<E>): Effect.Effect<string, E> =>
  Effect.gen(function*() {
    for (let round = 0;; round++) {
      const found = yield* search.find
      if (Option.isSome(found)) return found.value
      if (round === DEEPEN_ROUNDS || !(yield* search.shallow)) return yield* Effect.fail(search.none(round > 0))
      yield* search.deepen(DEEPEN_STEP)
    }
  })

/** Why a merge found no base, in words a user reads. */
export const noMergeBaseDetail = (ours: string, theirs: string, deepened: boolean): string =>
  deepened
    ? `no merge base of ${ours} and ${theirs} within ${DEEPEN_STEP * DEEPEN_ROUNDS} commits below the clone's shallow history`
    : `${ours} and ${theirs} have no common history`

/** Whether `oid` is a full commit id (never an option or a revision expression on a command line). */
export const isOid = (oid: string): boolean => /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(oid)

/** What is wrong with the names and commit ids a request-branch operation was given, if anything. */
export const inputProblem = (names: ReadonlyArray<string>, oids: ReadonlyArray<string>): string | undefined => {
  const name = names.find((n) => !isBranchName(n))
  if (name !== undefined) return `invalid branch name ${JSON.stringify(name)}`
  const oid = oids.find((o) => !isOid(o))
  return oid === undefined ? undefined : `invalid commit id ${JSON.stringify(oid)}`
}
