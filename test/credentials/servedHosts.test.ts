import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { checkServed, servedHosts } from "../../src/credentials/servedHosts.ts"
import { hostMatches } from "../../src/domain/hosts.ts"
import { parseImageRef } from "../../src/domain/ImageRef.ts"
import { providerConfig } from "../support/config.ts"

const image = (text: string) => Either.getOrThrow(parseImageRef(text))

describe("hostMatches", () => {
  test.each([
    ["gcr.io", "gcr.io", true],
    ["gcr.io", "evil-gcr.io", false],
    ["*.gcr.io", "eu.gcr.io", true],
    ["*.gcr.io", "gcr.io", false],
    ["*.gcr.io", "a.b.gcr.io", false],
    ["*.gcr.io", "eu.gcr.io.evil.com", false],
    ["*-docker.pkg.dev", "europe-west1-docker.pkg.dev", true],
    ["*-docker.pkg.dev", "evil.com/x-docker.pkg.dev", false],
    ["*-docker.pkg.dev", "x.evil-docker.pkg.dev", false],
    ["Registry.Example.com", "registry.example.com", true],
    ["[::1]", "[::1]", true],
  ] as const)("%s ~ %s: %p", (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected)
  })
})

describe("a provider serves its registries and no others", () => {
  const gcr = providerConfig({ name: "my-gcr", type: "GCR" })
  const ecr = providerConfig({ name: "ecr", type: "ECR", region: "eu-west-1", registryId: "123456789012" })
  const cases: ReadonlyArray<{ provider: ProviderConfig; image: string; error?: string }> = [
    { provider: gcr, image: "gcr.io/org/app" },
    { provider: gcr, image: "eu.gcr.io/org/app" },
    { provider: gcr, image: "us-central1-docker.pkg.dev/project/repo/app" },
    { provider: gcr, image: "ghcr.io/x", error: "ghcr.io/x is not served by provider my-gcr (it serves gcr.io, *.gcr.io, *-docker.pkg.dev)" },
    { provider: gcr, image: "gcr.io.evil.com/x", error: "gcr.io.evil.com/x is not served by provider my-gcr (it serves gcr.io, *.gcr.io, *-docker.pkg.dev)" },
    { provider: ecr, image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app" },
    { provider: ecr, image: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app", error: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app is not served by provider ecr (it serves 123456789012.dkr.ecr.eu-west-1.amazonaws.com, 123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com, 123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn)" },
    { provider: ecr, image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app", error: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app is not served by provider ecr (it serves 123456789012.dkr.ecr.eu-west-1.amazonaws.com, 123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com, 123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn)" },
    { provider: providerConfig({ type: "ECR" }), image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app" },
    { provider: providerConfig({ type: "ECR" }), image: "evil.com/app", error: "evil.com/app is not served by provider p (it serves *.dkr.ecr.*.amazonaws.com, *.dkr.ecr-fips.*.amazonaws.com, *.dkr.ecr.*.amazonaws.com.cn)" },
    { provider: providerConfig({ type: "DOCKER_HUB" }), image: "nginx" },
    { provider: providerConfig({ type: "DOCKER_HUB" }), image: "index.docker.io/library/nginx" },
    // An anonymous OCI provider that names no host may list any public registry: it has nothing to give away.
    { provider: providerConfig({}), image: "ghcr.io/org/app" },
    { provider: providerConfig({ address: "https://harbor.example.com" }), image: "harbor.example.com/team/app" },
    // The operator's registry on another port is still the operator's.
    { provider: providerConfig({ address: "http://127.0.0.1:5000" }), image: "127.0.0.1:5001/team/app" },
    { provider: providerConfig({ address: "https://harbor.example.com" }), image: "ghcr.io/team/app", error: "ghcr.io/team/app is not served by provider p (it serves harbor.example.com)" },
    { provider: providerConfig({ hosts: ["ghcr.io", "*.example.com"] }), image: "ghcr.io/team/app" },
    { provider: providerConfig({ hosts: ["ghcr.io", "*.example.com"] }), image: "registry.example.com:8443/team/app" },
    { provider: providerConfig({ hosts: ["ghcr.io"] }), image: "localhost:5000/team/app", error: "localhost:5000/team/app is not served by provider p (it serves ghcr.io)" },
    { provider: providerConfig({ type: "GCR", hosts: ["mirror.example.com"] }), image: "mirror.example.com/app" },
  ]
  test.each(cases)("$provider.type $provider.name $image", ({ provider, image: text, error }) => {
    const checked = checkServed(provider, image(text))
    if (error === undefined) expect(Either.isRight(checked)).toBe(true)
    else {
      expect(Either.isLeft(checked)).toBe(true)
      if (Either.isLeft(checked)) {
        expect(checked.left.reason).toBe("Config")
        expect(checked.left.detail).toBe(error)
      }
    }
  })

  test("Docker Hub's token service is one of Docker Hub's hosts", () => {
    expect(servedHosts(providerConfig({ type: "DOCKER_HUB" }))).toContain("auth.docker.io")
  })
})
