/** Which gates apply to a target: globs over the normalised repository, however the watcher file spells the image. */
import { describe, expect, test } from "bun:test"
import { Duration, Either } from "effect"
import type { Target } from "../../src/domain/Target.ts"
import type { GateConfig } from "../../src/config/model.ts"
import { parseImageRef } from "../../src/domain/ImageRef.ts"
import { gatesFor } from "../../src/gates/match.ts"
import { targetConfig } from "../support/config.ts"

const gate = (images: ReadonlyArray<string>): GateConfig => ({
  images,
  minAge: Duration.hours(24),
  cosign: { publicKeyFile: "/k.pub" },
  pinDigest: true,
  source: { file: "piped.yaml", line: 7 }
})

const target = (image: string): Target => targetConfig({ image })

const applies = (glob: string, image: string): boolean => {
  const applied = gatesFor([gate([glob])], target(image), Either.getOrThrow(parseImageRef(image)))
  return applied.cosign.length === 1 && applied.minAge !== undefined
}

describe("a gate applies to every spelling of its images", () => {
  test.each([
    ["ghcr.io/org/*", "ghcr.io/org/app", true],
    // https's default port is the same registry: a watcher file cannot step around a gate by writing it.
    ["ghcr.io/org/*", "ghcr.io:443/org/app", true],
    ["ghcr.io/org/*", "GHCR.io:443/org/app", true],
    ["ghcr.io/**", "ghcr.io:443/org/team/app", true],
    ["ghcr.io:443/org/*", "ghcr.io/org/app", true],
    ["ghcr.io:443/org/*", "ghcr.io:443/org/app", true],
    // Another port is another registry.
    ["ghcr.io/org/*", "ghcr.io:8443/org/app", false],
    ["ghcr.io:8443/org/*", "ghcr.io:8443/org/app", true],
    // Docker Hub, as before: `nginx` is docker.io/library/nginx, under any of its names.
    ["docker.io/library/nginx", "nginx", true],
    ["docker.io/library/*", "docker.io/nginx", true],
    ["docker.io/library/*", "index.docker.io/library/nginx", true],
    ["docker.io/library/*", "registry-1.docker.io:443/nginx", true],
    ["docker.io/library/*", "docker.io:443/nginx", true],
    ["docker.io/library/*", "bitnami/redis", false],
    ["ghcr.io/org/*", "ghcr.io/other/app", false]
  ])("%s over %s: %p", (glob, image, expected) => {
    expect(applies(glob, image)).toBe(expected)
  })
})
