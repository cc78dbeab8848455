/** Charts in OCI registries: the address a watcher file gives, the chart registry it takes credentials from, and Helm's `+` stored as `_`. */
import { describe, expect, test } from "bun:test"
import { Duration, Either, Redacted } from "effect"
import { servedHosts, serves } from "../../src/credentials/servedHosts.ts"
import type { ChartRegistry } from "../../src/domain/ChartSource.ts"
import { chartRegistryFor, chartRegistryProvider, chartVersionOf, ociTagOf, parseOciRepository } from "../../src/domain/ociChart.ts"

const source = { file: "piped.yaml", line: 30 }
const registry = (address: string, login: { username?: string; password?: string } = {}): ChartRegistry => ({
  type: "OCI",
  address,
  ...(login.username === undefined ? {} : { username: login.username }),
  ...(login.password === undefined ? {} : { password: Redacted.make(login.password) }),
  interval: Duration.minutes(5),
  source
})

describe("parseOciRepository", () => {
  test.each([
    ["a host and a path", "oci://registry.example.com/charts", "registry.example.com/charts"],
    ["a port", "oci://127.0.0.1:5000/team/charts", "127.0.0.1:5000/team/charts"],
    ["no path", "oci://ghcr.io", "ghcr.io"],
    ["upper case and a trailing slash", "oci://GHCR.io/Org/", "ghcr.io/org"],
    ["localhost", "oci://localhost/charts", "localhost/charts"],
    ["a dotless host with a port", "oci://registry:5000/charts", "registry:5000/charts"]
  ])("%s", (_, text, expected) => {
    expect(parseOciRepository(text)).toEqual(Either.right(expected))
  })

  test.each([
    ["https", "https://registry.example.com/charts", "expected oci://HOST[:PORT]/PATH (an HTTP chart repository is named by provider)"],
    ["credentials", "oci://bot:pw@registry.example.com/charts", "without credentials"],
    ["a tag", "oci://registry.example.com/charts:1.0", "without credentials, query or tag"],
    ["a query", "oci://registry.example.com/charts?x=1", "without credentials, query or tag"],
    ["a dotless host: a Docker Hub name", "oci://registry/charts", "registry host registry has no dot"]
  ])("%s is refused", (_, text, why) => {
    const parsed = parseOciRepository(text)
    expect(Either.isLeft(parsed) ? parsed.left : "").toContain(why)
  })
})

describe("chartRegistryFor: the longest address that is a prefix, segment by segment", () => {
  const registries = [
    registry("registry.example.com"),
    registry("registry.example.com/team"),
    registry("registry.example.com/team/charts"),
    registry("127.0.0.1:5000/charts"),
    registry("other.example.com/a")
  ]
  test.each([
    ["the registry itself", "registry.example.com", "registry.example.com"],
    ["below the host only", "registry.example.com/other", "registry.example.com"],
    ["the longest of three", "registry.example.com/team/charts/x", "registry.example.com/team/charts"],
    ["the middle one", "registry.example.com/team/tools", "registry.example.com/team"],
    ["a path that only starts like a longer entry", "registry.example.com/teamx/charts", "registry.example.com"],
    ["its port", "127.0.0.1:5000/charts/nginx", "127.0.0.1:5000/charts"],
    ["another port is another address", "127.0.0.1:50001/charts", undefined],
    ["the same host without the port", "127.0.0.1/charts", undefined],
    ["a host that only starts like an entry's", "registry.example.com.attacker.test/team", undefined],
    ["a path above the entry", "other.example.com", undefined],
    ["a host no entry names", "ghcr.io/org", undefined]
  ])("%s", (_, repository, expected) => {
    expect(chartRegistryFor(registries, repository)?.address).toBe(expected)
  })
})

describe("chartRegistryProvider", () => {
  test("its credentials go to its address's host only; a loopback registry is spoken to over http, any other over https", () => {
    const local = chartRegistryProvider(registry("127.0.0.1:5000/charts", { username: "bot", password: "s3cret" }))
    expect(local).toMatchObject({ type: "OCI", address: "http://127.0.0.1:5000", username: "bot", chartTags: true, insecure: false })
    expect(servedHosts(local)).toEqual(["127.0.0.1"])
    expect(serves(local, "attacker.test")).toBe(false)
    const remote = chartRegistryProvider(registry("registry.example.com/team", { username: "bot", password: "s3cret" }))
    expect(remote.address).toBe("https://registry.example.com")
    expect(servedHosts(remote)).toEqual(["registry.example.com"])
    expect(serves(remote, "auth.example.com")).toBe(false)
  })

  test("one per registry, so that its targets share listings; without a password it is anonymous", () => {
    const entry = registry("ghcr.io/org", { username: "bot" })
    expect(chartRegistryProvider(entry)).toBe(chartRegistryProvider(entry))
    expect(chartRegistryProvider(entry).username).toBeUndefined()
  })
})

describe("a chart version's + is an OCI tag's _", () => {
  test.each([
    ["a plain version", "1.2.3", "1.2.3"],
    ["build metadata", "1.2.3+build.4", "1.2.3_build.4"],
    ["a pre-release with build metadata", "2.0.0-rc.1+sha.5114f85", "2.0.0-rc.1_sha.5114f85"]
  ])("%s", (_, version, tag) => {
    expect(ociTagOf(version)).toBe(tag)
    expect(chartVersionOf(tag)).toBe(version)
  })
})
