/** Registry endpoints for tests that call the registry client directly, without a provider config. */
import { Option } from "effect"
import { hostnameOf } from "../../src/domain/hosts.ts"
import type { RegistryEndpoint } from "../../src/registry/endpoint.ts"

/** An anonymous endpoint of `url` (which it serves), paced generously unless `fields` say otherwise. */
export const testEndpoint = (url: string, repository: string, fields: Partial<RegistryEndpoint> = {}): RegistryEndpoint => ({
  baseUrl: url,
  provider: "test",
  registry: new URL(url).host,
  repository,
  credentials: Option.none(),
  renewCredentials: Option.none(),
  insecure: false,
  caCert: Option.none(),
  rateLimit: { rps: 1000, burst: 1000 },
  servedHosts: [hostnameOf(url)],
  linkLocalHosts: [],
  ...fields,
})
