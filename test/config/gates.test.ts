/** `spec.imageWatcher.gates`: what decodes, and errors that name the file, the line and the key. */
import { describe, expect, test } from "bun:test"
import { Duration, Either } from "effect"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"
import { imageGlob } from "../../src/domain/glob.ts"

/** A Piped document whose gates start on line 6 (`- images:` of the first gate). */
const withGates = (gates: string) => `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  imageWatcher:
    gates:
${gates}`

describe("gates that decode", () => {
  test("minAge, cosign with a key, pinDigest defaulting to whether cosign is set", () => {
    const result = decodePipedConfigs(
      "piped.yaml",
      withGates(`      - images: ["ghcr.io/org/*"]
        minAge: 24h
      - images: ["registry.example.com/team/**"]
        cosign: { publicKeyFile: /etc/runner/cosign.pub }
      - images: ["**"]
        cosign: { publicKeyFile: /k.pub }
        pinDigest: false
`)
    )
    const gates = Either.getOrThrow(result)[0]?.gates ?? []
    expect(gates.map((g) => [g.images, g.minAge === undefined ? undefined : Duration.toHours(g.minAge), g.cosign?.publicKeyFile, g.pinDigest, g.source.line])).toEqual([
      [["ghcr.io/org/*"], 24, undefined, false, 6],
      [["registry.example.com/team/**"], undefined, "/etc/runner/cosign.pub", true, 8],
      [["**"], undefined, "/k.pub", false, 10]
    ])
  })

  test("keyless: a trusted root and the identity to trust", () => {
    const result = decodePipedConfigs(
      "piped.yaml",
      withGates(`      - images: ["ghcr.io/**"]
        cosign:
          trustedRootFile: /etc/runner/trusted_root.json
          identity: { issuer: "https://token.actions.githubusercontent.com", subjectPattern: "^https://github.com/org/.+$" }
`)
    )
    expect(Either.getOrThrow(result)[0]?.gates[0]?.cosign?.identity?.issuer).toBe("https://token.actions.githubusercontent.com")
  })

  test.each([
    ["an exact subject", `subject: "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"`],
    ["an anchored pattern", `subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main$"`],
    ["an anchored pattern in RE2 syntax", `subjectPattern: '^https://github\\.com/org/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v\\d+$'`],
    ["a pattern ending in an escaped backslash, then $", `subjectPattern: '^a\\\\$'`]
  ])("keyless identity with %s", (_name, subject) => {
    const result = decodePipedConfigs(
      "piped.yaml",
      withGates(`      - images: ["ghcr.io/**"]
        cosign:
          trustedRootFile: /r.json
          identity: { issuer: "https://token.actions.githubusercontent.com", ${subject} }
`)
    )
    expect(Either.getOrThrow(result)[0]?.gates[0]?.cosign?.identity?.issuer).toBe("https://token.actions.githubusercontent.com")
  })

  test("platforms: read in their canonical spelling (arm64's default variant v8 dropped), each once", () => {
    const result = decodePipedConfigs("piped.yaml", withGates(`      - images: ["ghcr.io/**"]\n        platforms: [linux/amd64, linux/arm64/v8, linux/arm64, linux/arm/v7]\n`))
    const gate = Either.getOrThrow(result)[0]?.gates[0]
    expect([gate?.platforms, gate?.pinDigest]).toEqual([["linux/amd64", "linux/arm64", "linux/arm/v7"], false])
  })

  test("no gates by default", () => {
    expect(Either.getOrThrow(decodePipedConfigs("p.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec: {}\n"))[0]?.gates).toEqual([])
  })
})

describe("gate errors name the file, line and key", () => {
  test.each([
    ["a gate that asks for nothing", `      - images: ["a/*"]\n`, "spec.imageWatcher.gates[0]", "a gate needs minAge, cosign or platforms"],
    ["a platform without its architecture", `      - images: ["a/*"]\n        platforms: [linux/amd64, linux]\n`, "spec.imageWatcher.gates[0].platforms[1]", "expected a platform as os/arch"],
    ["a platform in capitals", `      - images: ["a/*"]\n        platforms: [Linux/AMD64]\n`, "spec.imageWatcher.gates[0].platforms[0]", "in lowercase"],
    ["a platform with too many parts", `      - images: ["a/*"]\n        platforms: [linux/arm/v7/x]\n`, "spec.imageWatcher.gates[0].platforms[0]", "os/arch/variant"],
    ["an empty platforms list", `      - images: ["a/*"]\n        platforms: []\n`, "spec.imageWatcher.gates[0].platforms", "list at least one platform"],
    ["no images", `      - minAge: 1h\n`, "spec.imageWatcher.gates[0].images", "is missing"],
    ["an empty images list", `      - images: []\n        minAge: 1h\n`, "spec.imageWatcher.gates[0].images", "list at least one image glob"],
    ["a bad glob", `      - images: ["ghcr.io/a**b"]\n        minAge: 1h\n`, "spec.imageWatcher.gates[0].images[0]", "invalid image glob"],
    ["a bad duration", `      - images: ["a/*"]\n        minAge: 1 day\n`, "spec.imageWatcher.gates[0].minAge", "invalid duration"],
    ["a negative duration", `      - images: ["a/*"]\n        minAge: -1h\n`, "spec.imageWatcher.gates[0].minAge", "must not be negative"],
    ["key and keyless at once", `      - images: ["a/*"]\n        cosign: { publicKeyFile: /k, trustedRootFile: /r }\n`, "spec.imageWatcher.gates[0].cosign", "one of them"],
    ["keyless without identity", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r }\n`, "spec.imageWatcher.gates[0].cosign.identity", "needs the identity"],
    ["an identity beside a key", `      - images: ["a/*"]\n        cosign: { publicKeyFile: /k, identity: { issuer: i, subject: s } }\n`, "spec.imageWatcher.gates[0].cosign.identity", "not to a key"],
    ["a subject pattern that is no regex", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r, identity: { issuer: i, subjectPattern: "(" } }\n`, "spec.imageWatcher.gates[0].cosign.identity.subjectPattern", ""],
    ["a subject pattern without ^", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r, identity: { issuer: i, subjectPattern: "https://github.com/org/repo/.+@refs/heads/main$" } }\n`, "spec.imageWatcher.gates[0].cosign.identity.subjectPattern", "subjectPattern must be anchored, starting with ^ and ending with $"],
    ["a subject pattern without $", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r, identity: { issuer: i, subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main" } }\n`, "spec.imageWatcher.gates[0].cosign.identity.subjectPattern", "must be anchored"],
    ["a subject pattern ending in an escaped $", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r, identity: { issuer: i, subjectPattern: '^https://x\\$' } }\n`, "spec.imageWatcher.gates[0].cosign.identity.subjectPattern", "must be anchored"],
    ["a subject pattern in \\A...\\z", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r, identity: { issuer: i, subjectPattern: '\\Ahttps://x\\z' } }\n`, "spec.imageWatcher.gates[0].cosign.identity.subjectPattern", "must be anchored"],
    ["subject and subjectPattern at once", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r, identity: { issuer: i, subject: s, subjectPattern: "^s$" } }\n`, "spec.imageWatcher.gates[0].cosign.identity", "one of them"],
    ["an identity with no subject", `      - images: ["a/*"]\n        cosign: { trustedRootFile: /r, identity: { issuer: i } }\n`, "spec.imageWatcher.gates[0].cosign.identity", "one of them"],
    ["an unknown key", `      - images: ["a/*"]\n        minAge: 1h\n        maxAge: 2h\n`, "spec.imageWatcher.gates[0].maxAge", "unknown key"]
  ])("%s", (_name, gates, path, part) => {
    const result = decodePipedConfigs("conf/piped.yaml", withGates(gates))
    if (Either.isRight(result)) throw new Error("expected errors")
    const error = result.left[0]
    expect([error?.file, error?.path]).toEqual(["conf/piped.yaml", path])
    expect(error?.line).toBeGreaterThanOrEqual(6)
    expect(error?.reason).toContain(part)
  })
})

describe("image globs", () => {
  test.each([
    ["ghcr.io/org/*", "ghcr.io/org/app", true],
    ["ghcr.io/org/*", "ghcr.io/org/team/app", false],
    ["ghcr.io/org/**", "ghcr.io/org/team/app", true],
    ["ghcr.io/org/**", "ghcr.io/org", true],
    ["ghcr.io/**/app", "ghcr.io/a/b/app", true],
    ["ghcr.io/**/app", "ghcr.io/a/b/api", false],
    ["**", "docker.io/library/nginx", true],
    ["docker.io/library/nginx", "docker.io/library/nginx", true],
    ["docker.io/library/ng*", "docker.io/library/nginx", true],
    ["*.gcr.io/**", "eu.gcr.io/p/app", true],
    ["127.0.0.1:5000/team/*", "127.0.0.1:5000/team/app", true],
    ["ghcr.io/org/*", "ghcr.io/other/app", false]
  ])("%s ~ %s", (pattern, name, matches) => {
    expect(Either.map(imageGlob(pattern), (match) => match(name))).toEqual(Either.right(matches))
  })

  test.each(["", "a//b", "a/**b", "A/b", "a/b c"])("%j is refused", (pattern) => {
    expect(Either.isLeft(imageGlob(pattern))).toBe(true)
  })
})
