import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { compileGlobs, imageGlob } from "../../src/domain/glob.ts"

const matcher = (patterns: ReadonlyArray<string>) =>
  Either.getOrThrowWith(compileGlobs(patterns), (reason) => new Error(reason))

describe("compileGlobs: one include", () => {
  const cases: ReadonlyArray<{ pattern: string; path: string; matches: boolean }> = [
    { pattern: "README.md", path: "README.md", matches: true },
    { pattern: "README.md", path: "docs/README.md", matches: false },
    { pattern: "*.yaml", path: "a.yaml", matches: true },
    { pattern: "*.yaml", path: "apps/a.yaml", matches: false },
    { pattern: "*.yaml", path: "a.yml", matches: false },
    { pattern: "apps/*.yaml", path: "apps/a.yaml", matches: true },
    { pattern: "apps/*.yaml", path: "apps/x/a.yaml", matches: false },
    { pattern: "apps/*", path: "apps/a.yaml", matches: true },
    { pattern: "**/*.yaml", path: "a.yaml", matches: true },
    { pattern: "**/*.yaml", path: "apps/foo/bar/a.yaml", matches: true },
    { pattern: "**", path: "apps/foo/bar/a.yaml", matches: true },
    { pattern: "apps/**", path: "apps/foo/bar/a.yaml", matches: true },
    { pattern: "apps/**", path: "other/apps/a.yaml", matches: false },
    { pattern: "apps/**/deploy.yaml", path: "apps/deploy.yaml", matches: true },
    { pattern: "apps/**/deploy.yaml", path: "apps/a/b/c/deploy.yaml", matches: true },
    { pattern: "apps/**/deploy.yaml", path: "apps/a/b/c/deploy.yml", matches: false },
    { pattern: "**/base/**", path: "x/base/y/z.yaml", matches: true },
    { pattern: "**/base/**", path: "x/basement/y.yaml", matches: false },
    { pattern: "apps/", path: "apps/a/b.yaml", matches: true },
    { pattern: "a?c.yaml", path: "abc.yaml", matches: true },
    { pattern: "a?c.yaml", path: "ac.yaml", matches: false },
    { pattern: "a?c.yaml", path: "a/c.yaml", matches: false },
    { pattern: "?.yaml", path: "ü.yaml", matches: true },
    { pattern: "v[0-9].yaml", path: "v7.yaml", matches: true },
    { pattern: "v[0-9].yaml", path: "vx.yaml", matches: false },
    { pattern: "[abc].yaml", path: "b.yaml", matches: true },
    { pattern: "[!abc].yaml", path: "b.yaml", matches: false },
    { pattern: "[^abc].yaml", path: "d.yaml", matches: true },
    { pattern: "[]x].yaml", path: "].yaml", matches: true },
    { pattern: "[a-].yaml", path: "-.yaml", matches: true },
    { pattern: "*.{yaml,yml}", path: "a.yml", matches: true },
    { pattern: "*.{yaml,yml}", path: "a.json", matches: false },
    { pattern: "{apps,charts}/**/*.yaml", path: "charts/x/values.yaml", matches: true },
    { pattern: "{apps,charts}/**/*.yaml", path: "docs/x/values.yaml", matches: false },
    { pattern: "a{,.bak}", path: "a.bak", matches: true },
    { pattern: "a{,.bak}", path: "a", matches: true },
    { pattern: "{a,b{c,d}}.yaml", path: "bd.yaml", matches: true },
    { pattern: "with space/*.yaml", path: "with space/x y.yaml", matches: true },
    { pattern: "\\*.yaml", path: "*.yaml", matches: true },
    { pattern: "\\*.yaml", path: "a.yaml", matches: false },
    { pattern: "\\{a,b\\}", path: "{a,b}", matches: true },
    { pattern: "Apps/*.yaml", path: "apps/a.yaml", matches: false },
    { pattern: "*", path: "line\nbreak", matches: true },
    // Dotfiles: only a pattern segment that starts with a literal dot matches a segment that does.
    { pattern: "*", path: ".env", matches: false },
    { pattern: "*.yaml", path: ".hidden.yaml", matches: false },
    { pattern: "?env", path: ".env", matches: false },
    { pattern: "[.]env", path: ".env", matches: false },
    { pattern: "**/*.yaml", path: ".github/workflows/ci.yaml", matches: false },
    { pattern: "**/*.yaml", path: "apps/.hidden/x.yaml", matches: false },
    { pattern: "**", path: ".pipe/w.yaml", matches: false },
    { pattern: ".github/**", path: ".github/workflows/ci.yaml", matches: true },
    { pattern: ".*", path: ".env", matches: true },
    { pattern: "**/.*.yaml", path: "apps/.hidden.yaml", matches: true },
    { pattern: "{.pipe,apps}/*.yaml", path: ".pipe/w.yaml", matches: true },
    { pattern: "\\.env", path: ".env", matches: true }
  ]
  test.each(cases)("$pattern ~ $path: $matches", ({ matches, path, pattern }) => {
    expect(matcher([pattern])(path)).toBe(matches)
  })
})

describe("compileGlobs: includes and excludes", () => {
  const cases: ReadonlyArray<{ name: string; patterns: ReadonlyArray<string>; path: string; matches: boolean }> = [
    { name: "excluded", patterns: ["**/*.yaml", "!**/test/**"], path: "apps/test/a.yaml", matches: false },
    { name: "not excluded", patterns: ["**/*.yaml", "!**/test/**"], path: "apps/prod/a.yaml", matches: true },
    { name: "order does not matter", patterns: ["!**/test/**", "**/*.yaml"], path: "apps/test/a.yaml", matches: false },
    { name: "an include after the exclude does not bring it back", patterns: ["**/*.yaml", "!apps/*.yaml", "apps/a.yaml"], path: "apps/a.yaml", matches: false },
    { name: "any include", patterns: ["*.json", "apps/**"], path: "apps/x.yaml", matches: true },
    { name: "no include matches", patterns: ["*.json", "!x"], path: "apps/x.yaml", matches: false },
    { name: "an exclude of a dot directory", patterns: [".pipe/**", "!.pipe/secret.yaml"], path: ".pipe/secret.yaml", matches: false },
    { name: "no pattern, no path", patterns: [], path: "a.yaml", matches: false },
    { name: "an exclude with braces", patterns: ["**", "!**/*.{md,txt}"], path: "docs/a.txt", matches: false }
  ]
  test.each(cases)("$name", ({ matches, path, patterns }) => {
    expect(matcher(patterns)(path)).toBe(matches)
  })
})

describe("compileGlobs: refused patterns", () => {
  const cases: ReadonlyArray<{ patterns: ReadonlyArray<string>; reason: string }> = [
    { patterns: [""], reason: "names no path" },
    { patterns: ["!"], reason: "names no path" },
    { patterns: ["/etc/*"], reason: "absolute" },
    { patterns: ["!/apps/**"], reason: "absolute" },
    { patterns: ["C:/x/*.yaml"], reason: "absolute" },
    { patterns: ["../other/*.yaml"], reason: ".. segment" },
    { patterns: ["apps/../../x"], reason: ".. segment" },
    { patterns: ["{..,apps}/x"], reason: ".. segment" },
    { patterns: ["./apps/*.yaml"], reason: ". segment" },
    { patterns: ["apps//x.yaml"], reason: "empty segment" },
    { patterns: ["a**/x"], reason: "whole segment" },
    { patterns: ["**b"], reason: "whole segment" },
    { patterns: ["[abc.yaml"], reason: "[ is not closed" },
    { patterns: ["{a,b.yaml"], reason: "{ is not closed" },
    { patterns: ["a}.yaml"], reason: "} has no {" },
    { patterns: ["x\\"], reason: "lone \\" },
    { patterns: ["a[/]b"], reason: "separates directories" },
    { patterns: ["**/*.yaml", "!apps/../x"], reason: ".. segment" },
    { patterns: ["!**/test/**"], reason: "only exclude" },
    { patterns: ["{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}"], reason: "more than 256 patterns" },
    { patterns: ["x".repeat(1001)], reason: "longer than 1000" }
  ]
  test.each(cases)("$patterns", ({ patterns, reason }) => {
    const compiled = compileGlobs(patterns)
    expect(Either.isLeft(compiled)).toBe(true)
    if (Either.isLeft(compiled)) {
      expect(compiled.left).toContain(reason)
      if (patterns.length === 1 && reason !== "only exclude") expect(compiled.left).toContain(JSON.stringify(patterns[0]))
    }
  })
})

describe("hostile patterns and paths finish fast", () => {
  const cases: ReadonlyArray<{ name: string; pattern: string; path: string; matches: boolean }> = [
    { name: "many stars in a segment", pattern: `${"*a".repeat(400)}*b`, path: "a".repeat(4000), matches: false },
    { name: "many globstars", pattern: `${"**/a/".repeat(150)}b`, path: `${"a/".repeat(2000)}c`, matches: false },
    { name: "stars and classes", pattern: `${"*[a-z]?".repeat(140)}!`, path: "ab".repeat(2000), matches: false },
    { name: "a match at the far end", pattern: `${"*a".repeat(400)}*b`, path: `${"a".repeat(4000)}b`, matches: true }
  ]
  test.each(cases)("$name", ({ matches, path, pattern }) => {
    const started = performance.now()
    expect(matcher([pattern])(path)).toBe(matches)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})

describe("imageGlob", () => {
  const cases: ReadonlyArray<{ pattern: string; image: string; matches: boolean }> = [
    { pattern: "ghcr.io/acme/*", image: "ghcr.io/acme/api", matches: true },
    { pattern: "ghcr.io/acme/*", image: "ghcr.io/acme/api:1.2.3", matches: true },
    { pattern: "ghcr.io/acme/*", image: "ghcr.io/acme/team/api", matches: false },
    { pattern: "ghcr.io/acme/**", image: "ghcr.io/acme/team/api", matches: true },
    { pattern: "ghcr.io/acme/*", image: "ghcr.io/other/api", matches: false },
    { pattern: "ghcr.io/acme/*", image: "GHCR.IO/acme/api", matches: true },
    { pattern: "ghcr.io:443/acme/*", image: "ghcr.io/acme/api", matches: true },
    { pattern: "ghcr.io/acme/*", image: "ghcr.io:443/acme/api", matches: true },
    { pattern: "docker.io/library/nginx", image: "nginx", matches: true },
    { pattern: "docker.io/library/nginx", image: "nginx:1.27@sha256:" + "a".repeat(64), matches: true },
    { pattern: "nginx", image: "docker.io/library/nginx", matches: true },
    { pattern: "nginx", image: "index.docker.io/library/nginx:1", matches: true },
    { pattern: "nginx", image: "ghcr.io/nginx", matches: false },
    { pattern: "nginx", image: "nginxinc/nginx", matches: false },
    { pattern: "acme/*", image: "acme/api", matches: true },
    { pattern: "acme/*", image: "docker.io/acme/api", matches: true },
    { pattern: "acme/*", image: "ghcr.io/acme/api", matches: false },
    { pattern: "*", image: "redis", matches: true },
    { pattern: "*", image: "acme/api", matches: false },
    { pattern: "index.docker.io/library/*", image: "redis", matches: true },
    { pattern: "**", image: "registry.example.com:5000/a/b/c", matches: true },
    { pattern: "**/nginx", image: "nginx", matches: true },
    { pattern: "**/nginx", image: "quay.io/x/nginx", matches: true },
    { pattern: "*.gcr.io/**", image: "eu.gcr.io/proj/app", matches: true },
    { pattern: "*.gcr.io/**", image: "gcr.io/proj/app", matches: false },
    { pattern: "localhost/app", image: "localhost/app", matches: true },
    { pattern: "localhost:5000/*", image: "localhost:5000/app", matches: true },
    { pattern: "ghcr.io/acme/{api,web}", image: "ghcr.io/acme/web", matches: true },
    { pattern: "{nginx,ghcr.io/acme/*}", image: "ghcr.io/acme/x", matches: true },
    { pattern: "{nginx,ghcr.io/acme/*}", image: "nginx:1", matches: true },
    { pattern: "ghcr.io/acme/api-?", image: "ghcr.io/acme/api-2", matches: true },
    { pattern: "ghcr.io/acme/*", image: "not an image", matches: false },
    { pattern: "ghcr.io/acme/*", image: "", matches: false }
  ]
  test.each(cases)("$pattern ~ $image: $matches", ({ image, matches, pattern }) => {
    const glob = Either.getOrThrowWith(imageGlob(pattern), (reason) => new Error(reason))
    expect(glob(image)).toBe(matches)
  })

  const refused: ReadonlyArray<{ pattern: string; reason: string }> = [
    { pattern: "ghcr.io/acme/api:1.2", reason: "without tag or digest" },
    { pattern: "nginx@sha256:abc", reason: "without tag or digest" },
    { pattern: "ghcr.io//api", reason: "empty segment" },
    { pattern: "ghcr.io/a**", reason: "whole segment" },
    { pattern: "ghcr.io/{a,b", reason: "not closed" },
    { pattern: "x".repeat(1001), reason: "longer than 1000" }
  ]
  test.each(refused)("refuses $pattern", ({ pattern, reason }) => {
    const compiled = imageGlob(pattern)
    expect(Either.isLeft(compiled)).toBe(true)
    if (Either.isLeft(compiled)) expect(compiled.left).toContain(reason)
  })

  test("a hostile image glob finishes fast", () => {
    const glob = Either.getOrThrowWith(imageGlob(`ghcr.io/${"**/a/".repeat(100)}b`), (reason) => new Error(reason))
    const started = performance.now()
    expect(glob(`ghcr.io/${"a/".repeat(120)}c`)).toBe(false)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})
