import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { formatFieldPath, parseFieldPath, type Segment } from "../../src/manifest/FieldPath.ts"

const valid: ReadonlyArray<readonly [string, ReadonlyArray<Segment>]> = [
  ["image", ["image"]],
  ["spec.containers[0].image", ["spec", "containers", 0, "image"]],
  ["spec.template.spec.containers[0].image", ["spec", "template", "spec", "containers", 0, "image"]],
  ["$.spec.containers[0].image", ["spec", "containers", 0, "image"]],
  ["$.metadata.annotations['example.com/image']", ["metadata", "annotations", "example.com/image"]],
  ['metadata.labels["a.b"]', ["metadata", "labels", "a.b"]],
  ["images[1].newTag", ["images", 1, "newTag"]],
  ["[0].image", [0, "image"]],
  ["$[2]", [2]],
  ["a[0][1]", ["a", 0, 1]],
  ["a['b'].c", ["a", "b", "c"]],
  ["app.kubernetes-io/name_x", ["app", "kubernetes-io/name_x"]],
  ["a['it\\'s']", ["a", "it's"]],
  ['a["say \\"hi\\""]', ["a", 'say "hi"']],
  ["a['back\\\\slash']", ["a", "back\\slash"]],
  ["a['[x]']", ["a", "[x]"]],
  ["a[10]", ["a", 10]],
  ["a.0", ["a", "0"]]
]

const invalid: ReadonlyArray<readonly [string, string]> = [
  ["", "empty"],
  ["   ", "empty"],
  ["$", "no segment"],
  ["$spec", "expected '.' or '['"],
  ["spec.", "ends with '.'"],
  [".spec", "empty key"],
  ["a..b", "empty key"],
  ["a[0", "unclosed '['"],
  ["a[", "unclosed '['"],
  ["a[]", "empty index"],
  ["a[-1]", "not a non-negative integer"],
  ["a[1.5]", "not a non-negative integer"],
  ["a[x]", "not a non-negative integer"],
  ["a['b'", "expected ']'"],
  ["a['b", "unclosed quote"],
  ["a['']", "empty quoted key"],
  ["a[0]b", "expected '.' or '['"],
  ["a]b", "unexpected ']'"],
  ["a'b'", "unexpected '''"],
  [" a.b", "leading or trailing spaces"],
  ["a[99999999999999999999]", "too large"]
]

describe("parseFieldPath", () => {
  test.each(valid)("%p parses", (path, segments) => {
    expect(parseFieldPath(path)).toEqual(Either.right(segments))
  })

  test.each(invalid)("%p is rejected (%s)", (path, fragment) => {
    const result = parseFieldPath(path)
    if (Either.isRight(result)) throw new Error(`expected an error, got ${JSON.stringify(result.right)}`)
    expect(result.left._tag).toBe("FieldPathError")
    expect(result.left.path).toBe(path)
    expect(result.left.message).toContain(fragment)
  })
})

const formatted: ReadonlyArray<readonly [ReadonlyArray<Segment>, string]> = [
  [["spec", "containers", 0, "image"], "spec.containers[0].image"],
  [["metadata", "annotations", "example.com/image"], "metadata.annotations['example.com/image']"],
  [[0, "image"], "[0].image"],
  [["a", "it's"], "a['it\\'s']"],
  [["a", "back\\slash"], "a.back\\slash"],
  [["$ref"], "['$ref']"],
  [["a", "two words"], "a['two words']"],
  [["images", 1, "newTag"], "images[1].newTag"]
]

describe("formatFieldPath", () => {
  test.each(formatted)("%p formats as %p", (segments, path) => {
    expect(formatFieldPath(segments)).toBe(path)
  })

  const roundTrips = [...formatted.map(([s]) => s), ...valid.map(([, s]) => s)].map((s) => [formatFieldPath(s), s] as const)
  test.each(roundTrips)("%p round-trips", (path, segments) => {
    expect(parseFieldPath(path)).toEqual(Either.right(segments))
  })
})
