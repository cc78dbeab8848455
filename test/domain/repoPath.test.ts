import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { parseImageName } from "../../src/domain/ImageRef.ts"
import { repoPathParts } from "../../src/domain/repoPath.ts"

describe("paths inside a repository", () => {
  test.each([
    ["a/b.yaml", "a/b.yaml"],
    ["./a//b.yaml", "a/b.yaml"],
    ["a/./b/../c.yaml", "a/c.yaml"],
    ["", ""],
    [".", ""],
    ["dir/", "dir"],
    ["a/../..", "refused: outside"],
    ["../x", "refused: outside"],
    ["/etc/passwd", "refused: absolute"],
    ["line\nbreak.yaml", "refused: unsafe"],
    ["nul\0.yaml", "refused: unsafe"]
  ])("%j", (path, expected) => {
    expect(Either.match(repoPathParts(path), { onLeft: (p) => `refused: ${p}`, onRight: (parts) => parts.join("/") })).toBe(expected)
  })
})

describe("an image to watch names no tag", () => {
  test.each([
    ["nginx", "docker.io/library/nginx"],
    ["gcr.io/pipecd/helloworld", "gcr.io/pipecd/helloworld"],
    ["nginx:1.25", 'refused: write the image without tag or digest ("nginx:1.25"); the tag is chosen or given apart'],
    [`nginx@sha256:${"a".repeat(64)}`, "refused: write the image without tag or digest"],
    ["Not An Image", "refused: invalid repository name"]
  ])("%s", (text, expected) => {
    const result = Either.match(parseImageName(text), { onLeft: (why) => `refused: ${why}`, onRight: (ref) => `${ref.registry}/${ref.repository}` })
    expect(result.startsWith(expected)).toBe(true)
  })
})
