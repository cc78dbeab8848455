import { describe, expect, test } from "bun:test"
import { Either, Option } from "effect"
import { isRegistryProvider, type ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { parseImageRef } from "../../src/domain/ImageRef.ts"
import { endpointFor } from "../../src/registry/endpoint.ts"
import { providerConfig } from "../support/config.ts"

const provider = providerConfig

const image = (text: string) => {
  const ref = parseImageRef(text)
  if (Either.isLeft(ref)) throw new Error(ref.left)
  return ref.right
}

type Expected =
  | { readonly baseUrl: string; readonly registry: string; readonly repository: string }
  | { readonly error: string }

describe("endpointFor", () => {
  const cases: ReadonlyArray<{
    name: string
    provider: ProviderConfig
    image: string
    expected: Expected
  }> = [
    {
      name: "DOCKER_HUB official image",
      provider: provider({ type: "DOCKER_HUB" }),
      image: "nginx",
      expected: { baseUrl: "https://registry-1.docker.io", registry: "docker.io", repository: "library/nginx" },
    },
    {
      name: "DOCKER_HUB with explicit docker.io",
      provider: provider({ type: "DOCKER_HUB" }),
      image: "docker.io/alice/app",
      expected: { baseUrl: "https://registry-1.docker.io", registry: "docker.io", repository: "alice/app" },
    },
    {
      name: "DOCKER_HUB with index.docker.io",
      provider: provider({ type: "DOCKER_HUB" }),
      image: "index.docker.io/library/redis",
      expected: { baseUrl: "https://registry-1.docker.io", registry: "docker.io", repository: "library/redis" },
    },
    {
      name: "DOCKER_HUB refuses a gcr.io image",
      provider: provider({ type: "DOCKER_HUB" }),
      image: "gcr.io/pipecd/foo",
      expected: { error: "provider p, registry gcr.io, repository pipecd/foo: invalid configuration: provider p is DOCKER_HUB but image gcr.io/pipecd/foo is not on docker.io; use an OCI provider" },
    },
    {
      name: "OCI without address uses the image host",
      provider: provider({}),
      image: "ghcr.io/org/app",
      expected: { baseUrl: "https://ghcr.io", registry: "ghcr.io", repository: "org/app" },
    },
    {
      name: "OCI without address keeps the port",
      provider: provider({}),
      image: "registry.local:5000/team/app",
      expected: { baseUrl: "https://registry.local:5000", registry: "registry.local:5000", repository: "team/app" },
    },
    {
      name: "OCI docker.io image goes to the Docker Hub API host",
      provider: provider({}),
      image: "nginx",
      expected: { baseUrl: "https://registry-1.docker.io", registry: "docker.io", repository: "library/nginx" },
    },
    {
      name: "OCI with address, trailing slash removed",
      provider: provider({ address: "http://127.0.0.1:5000/" }),
      image: "127.0.0.1:5000/foo/bar",
      expected: { baseUrl: "http://127.0.0.1:5000", registry: "127.0.0.1:5000", repository: "foo/bar" },
    },
    {
      name: "OCI with an address path prefix",
      provider: provider({ address: "https://mirror.example/registry/" }),
      image: "mirror.example/foo",
      expected: { baseUrl: "https://mirror.example/registry", registry: "mirror.example", repository: "foo" },
    },
    {
      name: "address with credentials is refused without echoing them",
      provider: provider({ address: "https://bob:hunter2@example.com" }),
      image: "example.com/foo",
      expected: { error: "provider p, registry example.com, repository foo: invalid configuration: address of provider p must not contain credentials; use username and passwordFile" },
    },
    {
      name: "address that is not http",
      provider: provider({ address: "ftp://example.com" }),
      image: "example.com/foo",
      expected: { error: 'provider p, registry example.com, repository foo: invalid configuration: address "ftp://example.com" of provider p must be an http:// or https:// URL' },
    },
    {
      name: "GCR refuses an image on a host it does not serve, before any request",
      provider: provider({ type: "GCR", name: "my-gcr" }),
      image: "ghcr.io/x",
      expected: { error: "provider my-gcr, registry ghcr.io, repository x: invalid configuration: ghcr.io/x is not served by provider my-gcr (it serves gcr.io, *.gcr.io, *-docker.pkg.dev)" },
    },
    {
      name: "ECR refuses an image pinned to another host",
      provider: provider({ type: "ECR", region: "eu-west-1" }),
      image: "attacker.example/app",
      expected: { error: "provider p, registry attacker.example, repository app: invalid configuration: attacker.example/app is not served by provider p (it serves *.dkr.ecr.eu-west-1.amazonaws.com, *.dkr.ecr-fips.eu-west-1.amazonaws.com, *.dkr.ecr.eu-west-1.amazonaws.com.cn)" },
    },
    {
      name: "OCI with an address refuses an image on another host",
      provider: provider({ address: "https://harbor.example.com" }),
      image: "ghcr.io/x",
      expected: { error: "provider p, registry ghcr.io, repository x: invalid configuration: ghcr.io/x is not served by provider p (it serves harbor.example.com)" },
    },
    {
      name: "OCI with hosts serves an image on one of them, at the image's host",
      provider: provider({ hosts: ["*.example.com"] }),
      image: "registry.example.com/team/app",
      expected: { baseUrl: "https://registry.example.com", registry: "registry.example.com", repository: "team/app" },
    },
    {
      name: "STORE is not a registry",
      provider: provider({ type: "STORE" }),
      image: "example.com/foo",
      expected: { error: "provider p, registry example.com, repository foo: invalid configuration: provider p is a tag store, not a registry" },
    },
  ]
  test.each(cases)("$name", ({ provider, image: text, expected }) => {
    const result = endpointFor(provider, image(text))
    if ("error" in expected) {
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left.reason).toBe("Config")
        expect(result.left.message).toBe(expected.error)
      }
      return
    }
    const endpoint = Either.getOrThrow(result)
    expect({ baseUrl: endpoint.baseUrl, registry: endpoint.registry, repository: endpoint.repository }).toEqual({
      baseUrl: expected.baseUrl,
      registry: expected.registry,
      repository: expected.repository,
    })
    expect(Option.isNone(endpoint.credentials)).toBe(true)
    expect(endpoint.provider).toBe(provider.name)
    expect(endpoint.insecure).toBe(isRegistryProvider(provider) && provider.insecure)
  })
})
