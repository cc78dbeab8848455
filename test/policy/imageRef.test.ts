import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { formatImageRef, imageName, parseImageRef } from "../../src/domain/ImageRef.ts"

describe("image references", () => {
  test.each([
    ["nginx", "docker.io/library/nginx", undefined, undefined, "nginx"],
    ["nginx:1.25", "docker.io/library/nginx", "1.25", undefined, "nginx"],
    ["library/nginx:1", "docker.io/library/nginx", "1", undefined, "library/nginx"],
    ["docker.io/nginx", "docker.io/library/nginx", undefined, undefined, "docker.io/nginx"],
    ["index.docker.io/library/nginx:1", "docker.io/library/nginx", "1", undefined, "index.docker.io/library/nginx"],
    ["bitnami/redis:7", "docker.io/bitnami/redis", "7", undefined, "bitnami/redis"],
    ["gcr.io/pipecd/helloworld:v0.1.0", "gcr.io/pipecd/helloworld", "v0.1.0", undefined, "gcr.io/pipecd/helloworld"],
    ["localhost:5000/app:dev", "localhost:5000/app", "dev", undefined, "localhost:5000/app"],
    ["127.0.0.1:5000/a/b/c:1", "127.0.0.1:5000/a/b/c", "1", undefined, "127.0.0.1:5000/a/b/c"],
    ["localhost/app", "localhost/app", undefined, undefined, "localhost/app"],
    ["GHCR.io/org/app:1", "ghcr.io/org/app", "1", undefined, "GHCR.io/org/app"],
    [`app@sha256:${"a".repeat(64)}`, "docker.io/library/app", undefined, `sha256:${"a".repeat(64)}`, "app"],
    [`quay.io/org/app:1.0@sha256:${"b".repeat(64)}`, "quay.io/org/app", "1.0", `sha256:${"b".repeat(64)}`, "quay.io/org/app"],
    ["my-registry.example.com:443/team_a/app__x:1", "my-registry.example.com/team_a/app__x", "1", undefined, "my-registry.example.com:443/team_a/app__x"],
    // https's default port names the same registry: one image, one name (gates, first sightings, verdicts).
    ["ghcr.io:443/org/app", "ghcr.io/org/app", undefined, undefined, "ghcr.io:443/org/app"],
    ["GHCR.IO:443/org/app", "ghcr.io/org/app", undefined, undefined, "GHCR.IO:443/org/app"],
    ["docker.io:443/nginx", "docker.io/library/nginx", undefined, undefined, "docker.io:443/nginx"],
    ["index.docker.io:443/library/nginx", "docker.io/library/nginx", undefined, undefined, "index.docker.io:443/library/nginx"],
    ["ghcr.io:4430/org/app", "ghcr.io:4430/org/app", undefined, undefined, "ghcr.io:4430/org/app"],
    ["[::1]:443/app", "[::1]/app", undefined, undefined, "[::1]:443/app"]
  ] as const)("%s", (input, name, tag, digest, written) => {
    const ref = Either.getOrThrow(parseImageRef(input))
    expect({ name: imageName(ref), tag: ref.tag, digest: ref.digest, written: ref.written }).toEqual({ name, tag, digest, written })
  })

  test.each([
    ["empty", ""],
    ["uppercase repository", "Nginx"],
    ["bad tag", "nginx:-1"],
    ["bad digest", "nginx@sha256"],
    ["double slash", "gcr.io//app"],
    ["trailing separator", "app-:1"]
  ])("refuses %s", (_name, input) => {
    expect(Either.isLeft(parseImageRef(input))).toBe(true)
  })

  test.each([
    ["nginx", "1.26", undefined, "nginx:1.26"],
    ["gcr.io/a/b", "2", `sha256:${"c".repeat(64)}`, `gcr.io/a/b:2@sha256:${"c".repeat(64)}`]
  ] as const)("writes %s back in its spelling", (written, tag, digest, expected) => {
    expect(formatImageRef(written, tag, digest)).toBe(expected)
  })
})
