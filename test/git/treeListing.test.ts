import { describe, expect, test } from "bun:test"
import type { TreeEntry } from "../../src/git/GitRepo.ts"
import { kindOfMode, parseTreeListing } from "../../src/git/treeListing.ts"

const A = "a".repeat(40)
const B = "b".repeat(40)
const C = "c".repeat(64)

const record = (mode: string, type: string, oid: string, path: string) => `${mode} ${type} ${oid}\t${path}\0`

describe("parseTreeListing", () => {
  const cases: ReadonlyArray<{ name: string; output: string; expected: ReadonlyArray<TreeEntry> }> = [
    { name: "nothing", output: "", expected: [] },
    { name: "a file", output: record("100644", "blob", A, "README.md"), expected: [{ path: "README.md", oid: A, kind: "file" }] },
    { name: "an executable is a file", output: record("100755", "blob", A, "run.sh"), expected: [{ path: "run.sh", oid: A, kind: "file" }] },
    { name: "a symbolic link", output: record("120000", "blob", B, "a/link"), expected: [{ path: "a/link", oid: B, kind: "symlink" }] },
    { name: "a submodule is left out", output: record("160000", "commit", A, "vendor/lib") + record("100644", "blob", B, "x"), expected: [{ path: "x", oid: B, kind: "file" }] },
    { name: "a tree (without -r) is left out", output: record("040000", "tree", A, "dir"), expected: [] },
    { name: "a line break and a tab in a name", output: record("100644", "blob", A, "a\nb\tc.yaml"), expected: [{ path: "a\nb\tc.yaml", oid: A, kind: "file" }] },
    { name: "spaces in a name", output: record("100644", "blob", A, "with space/x y.yaml"), expected: [{ path: "with space/x y.yaml", oid: A, kind: "file" }] },
    { name: "a sha256 repository's ids", output: record("100644", "blob", C, "f"), expected: [{ path: "f", oid: C, kind: "file" }] },
    { name: "the last record without its NUL", output: record("100644", "blob", A, "a").slice(0, -1), expected: [{ path: "a", oid: A, kind: "file" }] },
    {
      name: "sorted bytewise by path, not by UTF-16 code units",
      output: record("100644", "blob", A, "\u{1F600}.yaml") + record("100644", "blob", B, "\uFF21.yaml") + record("100644", "blob", A, "b") + record("100644", "blob", A, "a/z"),
      expected: [
        { path: "a/z", oid: A, kind: "file" },
        { path: "b", oid: A, kind: "file" },
        { path: "\uFF21.yaml", oid: B, kind: "file" },
        { path: "\u{1F600}.yaml", oid: A, kind: "file" }
      ]
    }
  ]
  test.each(cases)("$name", ({ expected, output }) => {
    expect(parseTreeListing(output)).toEqual(expected)
  })
})

describe("kindOfMode", () => {
  const cases: ReadonlyArray<{ mode: string; expected: TreeEntry["kind"] | undefined }> = [
    { mode: "100644", expected: "file" },
    { mode: "100755", expected: "file" },
    { mode: "100664", expected: "file" },
    { mode: "120000", expected: "symlink" },
    { mode: "040000", expected: undefined },
    { mode: "40000", expected: undefined },
    { mode: "160000", expected: undefined }
  ]
  test.each(cases)("$mode", ({ expected, mode }) => {
    expect(kindOfMode(mode)).toBe(expected)
  })
})
