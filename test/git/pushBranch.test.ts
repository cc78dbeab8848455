import { describe, expect, test } from "bun:test"
import { Effect, Option } from "effect"
import { chooseBase, type CommitNode, type Containment, DEEPEN_ROUNDS, DEEPEN_STEP, walkContainment } from "../../src/git/pushBranch.ts"
import { specOf } from "../support/gitContract.ts"

/** A history as a clone holds it: each commit's time and parents, "cut" at the shallow boundary; a commit not listed is missing. */
type Graph = Record<string, readonly [number, ReadonlyArray<string> | "cut"]>

const reader = (graph: Graph) => (oid: string) =>
  Effect.succeed(
    Option.map(Option.fromNullable(graph[oid]), ([time, parents]): CommitNode => ({
      time,
      parents: parents === "cut" ? Option.none() : Option.some(parents)
    }))
  )

// b* on the branch, p* on the push branch, m: a merge commit, r: the root.
const cases: ReadonlyArray<readonly [string, Graph, string, string, Containment]> = [
  ["the same commit", { b1: [1, "cut"] }, "b1", "b1", "contained"],
  ["a first-parent ancestor", { b2: [2, ["b1"]], b1: [1, ["r"]], r: [0, []] }, "b1", "b2", "contained"],
  ["merged: the merge's second parent", { b2: [4, ["m"]], m: [3, ["b1", "p1"]], b1: [1, ["r"]], p1: [2, ["r"]], r: [0, []] }, "p1", "b2", "contained"],
  ["diverged, whole history", { b1: [2, ["r"]], p1: [3, ["r"]], r: [0, []] }, "p1", "b1", "apart"],
  ["diverged above a shallow base", { b1: [2, ["base"]], p1: [3, ["base"]], base: [1, "cut"] }, "p1", "b1", "apart"],
  ["the push branch reaches the base only through a long history of its own", {
    b1: [9, ["base"]],
    p3: [8, ["p2"]],
    p2: [7, ["p1"]],
    p1: [6, ["base"]],
    base: [1, "cut"]
  }, "p3", "b1", "apart"],
  ["the branch cut above the push branch's tip", { b2: [5, ["b1"]], b1: [4, "cut"], p1: [2, "cut"] }, "p1", "b2", "unknown"],
  ["the push branch cut above the base", { b1: [5, ["base"]], p2: [4, "cut"], base: [1, "cut"] }, "p2", "b1", "unknown"],
  ["a parent the clone does not have", { b1: [5, ["gone"]], p1: [4, ["r"]], r: [0, []] }, "p1", "b1", "unknown"],
  ["times out of order still find the merge", { b2: [1, ["m"]], m: [2, ["b1", "p1"]], b1: [9, ["r"]], p1: [10, ["r"]], r: [5, []] }, "p1", "b2", "contained"]
]

describe("walkContainment", () => {
  test.each(cases)("%s", async (_, graph, push, branch, expected) => {
    expect(await Effect.runPromise(walkContainment(push, branch, reader(graph)))).toBe(expected)
  })
})

describe("chooseBase", () => {
  /** chooseBase over answers given in turn, one per look; returns the base and the deepenings asked for. */
  const choose = (push: Option.Option<string>, answers: ReadonlyArray<Containment>) =>
    Effect.runPromise(
      Effect.gen(function*() {
        const deepened: Array<number> = []
        let look = 0
        const base = yield* chooseBase({
          spec: specOf("https://git.example.com/repo.git"),
          pushBranch: "image-updates",
          tips: Effect.succeed({ branch: "branch-tip", push }),
          containment: () => Effect.succeed(answers[look++] ?? "unknown"),
          deepen: (commits) => Effect.sync(() => deepened.push(commits))
        })
        return { base, deepened }
      })
    )

  test.each([
    ["no push branch: the branch's tip", Option.none(), [], "branch-tip", 0],
    ["merged: the branch's tip", Option.some("push-tip"), ["contained"], "branch-tip", 0],
    ["not merged: the push branch's tip", Option.some("push-tip"), ["apart"], "push-tip", 0],
    ["told after two deepenings", Option.some("push-tip"), ["unknown", "unknown", "contained"], "branch-tip", 2],
    ["never told: the push branch's tip, after the last round", Option.some("push-tip"), [], "push-tip", DEEPEN_ROUNDS]
  ] as const)("%s", async (_, push, answers, base, rounds) => {
    const chosen = await choose(push, answers)
    expect(chosen.base).toBe(base)
    expect(chosen.deepened).toEqual(Array.from({ length: rounds }, () => DEEPEN_STEP))
  })
})
