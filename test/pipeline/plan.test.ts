import { expectPlan, planOn } from "../support/planExpect.ts"
import { describe, expect, test } from "bun:test"
import { DEFAULT_EXCLUDE_TAGS, type Target } from "../../src/domain/Target.ts"
import { selectWatcherFiles } from "../../src/pipeline/watchers.ts"
import { unifiedDiff } from "../../src/pipeline/unifiedDiff.ts"
import { targetConfig } from "../support/config.ts"

const target = (over: Partial<Target>): Target =>
  targetConfig({ image: "gcr.io/pipecd/foo", provider: "p", filePath: "f.yaml", policy: { _tag: "semver", range: "*" }, excludeTags: DEFAULT_EXCLUDE_TAGS, ...over })

interface Case {
  readonly name: string
  readonly text: string
  readonly target?: Partial<Target>
  readonly tags: ReadonlyArray<string | { tag: string; digest: string }>
  /** The patched text, or `error: <substring>`, or `same` for nothing to do. */
  readonly expect: string
}

const cases: ReadonlyArray<Case> = [
  { name: "image tag", text: "image: gcr.io/pipecd/foo:1.0.0\n", tags: ["1.0.0", "1.1.0"], expect: "image: gcr.io/pipecd/foo:1.1.0\n" },
  { name: "up to date", text: "image: gcr.io/pipecd/foo:1.1.0\n", tags: ["1.0.0", "1.1.0"], expect: "same" },
  { name: "ahead of the registry", text: "image: gcr.io/pipecd/foo:2.0.0\n", tags: ["1.0.0", "1.1.0"], expect: "same" },
  { name: "docker hub short name", text: "image: nginx:1.0.0\n", target: { image: "docker.io/library/nginx" }, tags: ["1.0.1"], expect: "image: nginx:1.0.1\n" },
  { name: "spelling of the repository kept", text: "image: index.docker.io/library/nginx:1.0.0\n", target: { image: "nginx" }, tags: ["1.0.1"], expect: "image: index.docker.io/library/nginx:1.0.1\n" },
  { name: "no tag in the field", text: "image: gcr.io/pipecd/foo\n", tags: ["1.0.0"], expect: "image: gcr.io/pipecd/foo:1.0.0\n" },
  { name: "another image", text: "image: gcr.io/pipecd/bar:1.0.0\n", tags: ["1.1.0"], expect: "error: not the watched image gcr.io/pipecd/foo" },
  { name: "not an image", text: "image: 'Not An Image!'\n", tags: ["1.1.0"], expect: "error: not an image reference" },
  { name: "missing field", text: "other: 1\n", tags: ["1.1.0"], expect: "error: field image not found" },
  { name: "no candidate", text: "image: gcr.io/pipecd/foo:1.0.0\n", tags: ["latest"], expect: "error: no tag out of 1 listed" },
  { name: "tag format quoted when it would read as a number", text: "tag: 1.9\n", target: { field: "tag", format: "tag" }, tags: ["1.9", "1.10"], expect: "tag: \"1.10\"\n" },
  {
    name: "digest refreshed with the tag",
    text: `image: gcr.io/pipecd/foo:1.0.0@sha256:${"a".repeat(64)}\n`,
    tags: [{ tag: "1.1.0", digest: `sha256:${"b".repeat(64)}` }],
    expect: `image: gcr.io/pipecd/foo:1.1.0@sha256:${"b".repeat(64)}\n`
  },
  {
    name: "digest unknown: asks for it",
    text: `image: gcr.io/pipecd/foo:1.0.0@sha256:${"a".repeat(64)}\n`,
    tags: ["1.1.0"],
    expect: "needs digest 1.1.0"
  },
  {
    name: "same tag pushed again: digest refreshed",
    text: `image: gcr.io/pipecd/foo:1.1.0@sha256:${"a".repeat(64)}\n`,
    tags: [{ tag: "1.1.0", digest: `sha256:${"b".repeat(64)}` }],
    expect: `image: gcr.io/pipecd/foo:1.1.0@sha256:${"b".repeat(64)}\n`
  },
  {
    name: "same tag, same digest",
    text: `image: gcr.io/pipecd/foo:1.1.0@sha256:${"a".repeat(64)}\n`,
    tags: [{ tag: "1.1.0", digest: `sha256:${"a".repeat(64)}` }],
    expect: "same"
  },
  {
    name: "digest-only field follows the best tag",
    text: `digest: "sha256:${"a".repeat(64)}"\n`,
    target: { field: "digest", format: "digest" },
    tags: [{ tag: "1.0.0", digest: `sha256:${"a".repeat(64)}` }, { tag: "1.2.0", digest: `sha256:${"c".repeat(64)}` }],
    expect: `digest: "sha256:${"c".repeat(64)}"\n`
  },
  {
    name: "digest-only field already at the best tag",
    text: `digest: sha256:${"c".repeat(64)}\n`,
    target: { field: "digest", format: "digest" },
    tags: [{ tag: "1.2.0", digest: `sha256:${"c".repeat(64)}` }],
    expect: "same"
  },
  {
    name: "digest-only field holding something else",
    text: "digest: 1.2.0\n",
    target: { field: "digest", format: "digest" },
    tags: ["1.2.0"],
    expect: "error: not a digest"
  },
  {
    name: "ahead of the registry keeps its digest",
    text: `image: gcr.io/pipecd/foo:9.0.0@sha256:${"a".repeat(64)}\n`,
    tags: ["1.0.0"],
    expect: "same"
  }
]

describe("planTarget", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const tags = c.tags.map((x) => (typeof x === "string" ? { tag: x } : x))
    expectPlan(c.text, planOn(target(c.target ?? {}), c.text, tags, false), c.expect)
  })
})

describe("selectWatcherFiles", () => {
  const names = ["a.yaml", "b.yml", "c.yaml", "notes.txt"]
  test.each([
    ["no options: every YAML file", undefined, ["a.yaml", "b.yml", "c.yaml"], []],
    ["includes", { repoId: "r", includes: ["a.yaml", "x.yaml"], excludes: [] }, ["a.yaml"], ["x.yaml"]],
    ["excludes win over includes", { repoId: "r", includes: ["a.yaml"], excludes: ["c.yaml"] }, ["a.yaml", "b.yml"], []],
    ["empty options", { repoId: "r", includes: [], excludes: [] }, ["a.yaml", "b.yml", "c.yaml"], []]
  ] as const)("%s", (_name, options, use, missing) => {
    expect(selectWatcherFiles(names, options)).toEqual({ use: [...use], missing: [...missing] })
  })
})

describe("unifiedDiff", () => {
  test.each([
    ["one line", "a\nb\nc\n", "a\nB\nc\n", "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"],
    ["nothing changed", "a\n", "a\n", ""],
    [
      "two distant hunks",
      "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
      "X\n2\n3\n4\n5\n6\n7\n8\n9\nY\n",
      "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+Y\n"
    ]
  ])("%s", (_name, before, after, expected) => {
    expect(unifiedDiff("f", before, after)).toBe(expected)
  })
})
