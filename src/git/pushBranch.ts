import { Effect, Option } from "effect"
import type { RepoSpec } from "./repoTypes.ts"

/**
 * How far one sync deepens a shallow clone to tell whether the push branch is merged: rounds of
 * DEEPEN_STEP commits below the clone's shallow boundary, at most DEEPEN_ROUNDS of them (256
 * commits). What a round fetched stays in the clone, so a later sync goes on from there.
 */
export const DEEPEN_STEP = 64
export const DEEPEN_ROUNDS = 4

/** The local ref that commits are written on: the push branch's, or the branch's. */
export const workRefOf = (spec: RepoSpec): string => `refs/heads/${spec.pushBranch ?? spec.branch}`

/**
 * Whether the push branch's tip is an ancestor of (or is) the branch's tip: `unknown` when the
 * clone's history is too shallow to tell.
 */
export type Containment = "contained" | "apart" | "unknown"

/** What a walk needs of a commit: its committer time, and its parents unless the clone lacks them (a shallow boundary). */
export interface CommitNode {
  readonly time: number
  readonly parents: Option.Option<ReadonlyArray<string>>
}

const PUSH = 1
const BRANCH = 2

/**
 * `Containment` by git's own paint-down walk, newest commits first: `branch`'s ancestors are
 * painted until each one left is also an ancestor of `push` (below them `push` cannot be). `read`
 * gives None for a commit the clone does not have. The answer is `unknown` only when a commit
 * reachable from `branch` alone has parents the clone lacks: deepening may still reach `push`.
 */
export const walkContainment = <E, R>(
  push: string,
  branch: string,
  read: (oid: string) => Effect.Effect<Option.Option<CommitNode>, E, R>
): Effect.Effect<Containment, E, R> =>
  Effect.gen(function*() {
    const flags = new Map<string, number>()
    const nodes = new Map<string, { readonly time: number; readonly parents: ReadonlyArray<string> }>()
    const queue: Array<string> = []
    /** Commits whose parents the clone lacks, with their time (-Infinity for one it does not have at all). */
    const cut = new Map<string, number>()
    const paint = function*(oid: string, flag: number) {
      const before = flags.get(oid) ?? 0
      if ((before | flag) === before) return
      flags.set(oid, before | flag)
      if (cut.has(oid)) return
      let node = nodes.get(oid)
      if (node === undefined) {
        const found = yield* read(oid)
        if (Option.isNone(found) || Option.isNone(found.value.parents)) {
          cut.set(oid, Option.match(found, { onNone: () => -Infinity, onSome: ({ time }) => time }))
          return
        }
        node = { time: found.value.time, parents: found.value.parents.value }
        nodes.set(oid, node)
      }
      const time = node.time
      const at = queue.findIndex((queued) => (nodes.get(queued)?.time ?? 0) < time)
      queue.splice(at === -1 ? queue.length : at, 0, oid)
    }
    yield* paint(push, PUSH)
    yield* paint(branch, BRANCH)
    const reached = () => ((flags.get(push) ?? 0) & BRANCH) !== 0
    const branchOnly = (oid: string) => flags.get(oid) === BRANCH
    // A cut commit reachable from `branch` alone makes the answer `unknown`, unless `push`'s side
    // paints it yet; as git does, a commit is taken to be no older than its ancestors, so only
    // queued commits at least as new as such a cut commit can still reach it.
    const mayStillPaintCut = () => {
      const oldest = Math.min(...[...cut].filter(([oid]) => branchOnly(oid)).map(([, time]) => time))
      return queue.length > 0 && (nodes.get(queue[0] ?? "")?.time ?? 0) >= oldest
    }
    while (!reached() && (queue.some(branchOnly) || mayStillPaintCut())) {
      const oid = queue.shift() ?? ""
      for (const parent of nodes.get(oid)?.parents ?? []) yield* paint(parent, flags.get(oid) ?? 0)
    }
    if (reached()) return "contained"
    return [...cut.keys()].some(branchOnly) ? "unknown" : "apart"
  })

/** The tips a sync fetched: the branch's, and the push branch's when it exists remotely. */
export interface Tips {
  readonly branch: string
  readonly push: Option.Option<string>
}

/**
 * The commit a push-branch checkout starts from: the branch's tip when the push branch does not
 * exist or is contained in the branch (merged), else the push branch's tip. A shallow clone is
 * deepened while that cannot be told, within the bound above; past it the push branch is taken
 * as not merged. `tips` is read again after each deepening, which may have moved them.
 */
export const chooseBase = <E, R>(options: {
  readonly spec: RepoSpec
  readonly pushBranch: string
  readonly tips: Effect.Effect<Tips, E, R>
  readonly containment: (push: string, branch: string) => Effect.Effect<Containment, E, R>
  readonly deepen: (commits: number) => Effect.Effect<void, E, R>
}): Effect.Effect<string, E, R> =>
  Effect.gen(function*() {
    const { pushBranch, spec } = options
    const log = (message: string) => Effect.logDebug(message).pipe(Effect.annotateLogs({ repoId: spec.repoId }))
    for (let round = 0;; round++) {
      const tips = yield* options.tips
      if (Option.isNone(tips.push)) return tips.branch
      const containment = yield* options.containment(tips.push.value, tips.branch)
      if (containment === "contained") {
        yield* log(`push branch "${pushBranch}" is merged into "${spec.branch}": starting again from its tip`)
        return tips.branch
      }
      if (containment === "apart") return tips.push.value
      if (round === DEEPEN_ROUNDS) {
        yield* log(
          `cannot tell within ${DEEPEN_STEP * DEEPEN_ROUNDS} more commits whether push branch "${pushBranch}" ` +
            `is merged into "${spec.branch}": taken as not merged`
        )
        return tips.push.value
      }
      yield* options.deepen(DEEPEN_STEP)
    }
  })
