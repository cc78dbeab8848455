import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { decodeWatcherFile, decodeWatcherTargets } from "../../src/config/WatcherFile.ts"
import { MAX_DISCOVER_GLOBS, MAX_DISCOVER_RULES } from "../../src/domain/DiscoverRule.ts"
import { DEFAULT_EXCLUDE_TAGS } from "../../src/domain/Target.ts"

const FILE = ".pipe/discover.yaml"
const header = "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  discover:\n"
/** One rule whose first key (`paths`) is on line 5. */
const rule = (paths: string, extra = "") => `${header}    - paths: ${paths}\n${extra.split("\n").filter((l) => l !== "").map((l) => `      ${l}\n`).join("")}`

describe("spec.discover: valid rules", () => {
  test("a file with discover and no targets, with every key", () => {
    const result = decodeWatcherFile(FILE, rule(`["apps/**/*.yaml", "!apps/legacy/**"]`, `images: ["ghcr.io/acme/*", nginx]\nprovider: ghcr\npolicy: { semver: "^1" }\nexcludeTags: ["-rc"]\nminAge: 1h`))
    if (Either.isLeft(result)) throw new Error(result.left.map((e) => e.display).join("\n"))
    expect(result.right.targets).toEqual([])
    const [only] = result.right.discover ?? []
    expect(only?.paths).toEqual(["apps/**/*.yaml", "!apps/legacy/**"])
    expect(only?.images).toEqual(["ghcr.io/acme/*", "nginx"])
    expect(only?.provider).toBe("ghcr")
    expect(only?.policy).toEqual({ _tag: "semver", range: "^1" })
    expect(only?.excludeTags).toEqual(["-rc"])
    expect(only?.source).toEqual({ file: FILE, line: 5 })
  })

  test("charts: globs over chart names, kept apart from images", () => {
    const result = decodeWatcherFile(FILE, rule(`["**/Chart.yaml"]`, `charts: ["ingress-*", "!ingress-legacy"]`))
    const [only] = Either.isRight(result) ? (result.right.discover ?? []) : []
    expect([only?.charts, only?.images]).toEqual([["ingress-*", "!ingress-legacy"], undefined])
  })

  test("the defaults: the file's policy and suspension, the default excludes", () => {
    const text = `apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  suspend: true\n  defaultPolicy: { numerical: asc }\n  discover:\n    - paths: ["**/*.yaml"]\n`
    const result = decodeWatcherFile(FILE, text)
    const [only] = Either.isRight(result) ? (result.right.discover ?? []) : []
    expect(only).toEqual({
      paths: ["**/*.yaml"],
      policy: { _tag: "numerical", order: "asc" },
      excludeTags: DEFAULT_EXCLUDE_TAGS,
      allowDowngrade: false,
      suspended: "watcher file",
      source: { file: FILE, line: 7 }
    })
  })
})

const many = (n: number, make: (i: number) => string) => `[${Array.from({ length: n }, (_, i) => make(i)).join(", ")}]`

describe("spec.discover: errors name file, line and key", () => {
  test.each([
    ["a bad path glob", `["apps/[a"]`, "", [5, "spec.discover[0].paths", "invalid path glob"]],
    ["a path leaving the repository", `["../x/*.yaml"]`, "", [5, "spec.discover[0].paths", ".. segment"]],
    ["excludes alone", `["!apps/**"]`, "", [5, "spec.discover[0].paths", "only exclude"]],
    ["no paths", `[]`, "", [5, "spec.discover[0].paths", "at least 1"]],
    ["a bad image glob", `["**"]`, `images: ["ghcr.io/acme/api:1.0"]`, [6, "spec.discover[0].images[0]", "without tag or digest"]],
    ["a chart glob with a path", `["**"]`, `charts: [nginx, "bitnami/nginx"]`, [6, "spec.discover[0].charts[1]", "a chart name has no /"]],
    ["no chart globs", `["**"]`, `charts: []`, [6, "spec.discover[0].charts", "at least 1"]],
    ["too many chart globs", `["**"]`, `charts: ${many(MAX_DISCOVER_GLOBS + 1, (i) => `"c${i}"`)}`, [6, "spec.discover[0].charts", `at most ${MAX_DISCOVER_GLOBS}`]],
    ["chart globs spending too many alternatives together", `["**"]`, `charts: ${many(2, () => `"{${Array.from({ length: 200 }, (_, i) => `c${i}`).join(",")}}"`)}`, [6, "spec.discover[0].charts", "alternatives"]],
    ["too many path globs", many(MAX_DISCOVER_GLOBS + 1, (i) => `"a${i}/*"`), "", [5, "spec.discover[0].paths", `at most ${MAX_DISCOVER_GLOBS}`]],
    ["an unknown key", `["**"]`, "field: x", [6, "spec.discover[0].field", "unknown key"]]
  ] as const)("%s", (_, paths, extra, [line, path, reason]) => {
    const result = decodeWatcherFile(FILE, rule(paths, extra))
    const errors = Either.isLeft(result) ? result.left : []
    expect(errors.map((e) => [e.file, e.line, e.path])).toEqual([[FILE, line, path]])
    expect(errors[0]?.reason).toContain(reason)
  })

  test("a bad rule fails alone: the file's other rules and targets stay", () => {
    const text = `${header}    - paths: ["apps/[a"]\n    - paths: ["apps/**"]\n  targets:\n    - {image: nginx, provider: hub, filePath: a.yaml, field: image}\n`
    const result = decodeWatcherTargets(FILE, text)
    expect(Either.isRight(result) && [result.right.discover?.length, result.right.targets.length, result.right.rejected.length]).toEqual([1, 1, 1])
  })

  test.each([
    ["in one document", 1],
    ["spread over documents", 3]
  ])(`more than ${MAX_DISCOVER_RULES} rules %s: the file fails whole`, (_, documents) => {
    const per = Math.ceil((MAX_DISCOVER_RULES + 1) / documents)
    const doc = `${header}${Array.from({ length: per }, () => `    - paths: ["**"]\n`).join("")}`
    const result = decodeWatcherTargets(FILE, Array.from({ length: documents }, () => doc).join("---\n"))
    expect(Either.isLeft(result) && result.left.map((e) => e.path)).toEqual(["spec.discover"])
    expect(Either.isLeft(result) && result.left[0]?.reason).toContain(`at most ${MAX_DISCOVER_RULES}`)
  })
})
