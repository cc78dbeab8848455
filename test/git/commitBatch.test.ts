import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { validFilePaths } from "../../src/git/commitBatch.ts"

describe("validFilePaths", () => {
  const cases: ReadonlyArray<{ name: string; paths: ReadonlyArray<string>; expected: Either.Either<ReadonlyArray<string>, string> }> = [
    { name: "paths normalised", paths: ["a/./b.yaml", "c//d.yaml", "e/../f.yaml"], expected: Either.right(["a/b.yaml", "c/d.yaml", "f.yaml"]) },
    { name: "none", paths: [], expected: Either.right([]) },
    { name: "the root names no file", paths: ["a.yaml", "."], expected: Either.left(".") },
    { name: "a path out of the tree", paths: ["../outside"], expected: Either.left("../outside") },
    { name: "an absolute path", paths: ["/etc/passwd"], expected: Either.left("/etc/passwd") },
    { name: "a line break (git's batch commands take a path a line)", paths: ["a\nb"], expected: Either.left("a\nb") }
  ]
  test.each(cases)("$name", ({ paths, expected }) => {
    expect(validFilePaths(paths)).toEqual(expected)
  })
})
