import { Effect } from "effect"
import { lookup } from "node:dns/promises"
import { isIP } from "node:net"
import { hostMatches } from "../domain/hosts.ts"
import { makeKeptCache } from "../keptCache.ts"

/**
 * Link-local and cloud metadata addresses: where instance credentials are served to anyone on the
 * machine who asks. No image, token realm or redirect may lead a request there; only a host the
 * operator's config names (a provider's address or hosts, a cloud endpoint) may be one.
 */

/** Names that resolve to a metadata service inside clouds. */
const METADATA_NAMES: ReadonlySet<string> = new Set(["metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"])

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included), or undefined. */
const ipv6Groups = (text: string): ReadonlyArray<number> | undefined => {
  let address = text.toLowerCase()
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number)
    address = `${address.slice(0, v4.index)}${(((a ?? 0) << 8) | (b ?? 0)).toString(16)}:${(((c ?? 0) << 8) | (d ?? 0)).toString(16)}`
  }
  const halves = address.split("::")
  if (halves.length > 2) return undefined
  const part = (half: string | undefined) => (half === undefined || half === "" ? [] : half.split(":").map((group) => parseInt(group, 16)))
  const head = part(halves[0])
  const tail = part(halves[1])
  const groups = halves.length === 2 ? [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail] : head
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

const isLinkLocalV4 = (address: string): boolean => address.startsWith("169.254.")

/** Whether an IP address (v4 or v6, without brackets) is link-local or a cloud metadata address. */
export const isLinkLocalAddress = (address: string): boolean => {
  switch (isIP(address)) {
    case 4:
      return isLinkLocalV4(address)
    case 6: {
      const g = ipv6Groups(address)
      if (g === undefined) return false
      const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g
      if ((g0 & 0xffc0) === 0xfe80) return true
      // fd00:ec2::254, the instance metadata service over IPv6.
      if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 0x254) return true
      // An IPv4 address mapped into IPv6.
      const mapped = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff
      return mapped && g6 === 0xa9fe
    }
    default:
      return false
  }
}

/** A URL's host name as an address or name to judge: brackets of IPv6 literals removed, lower case. */
export const bareHostname = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase().replace(/\.$/, "")

/** Whether a URL's host name is, by itself, a link-local or metadata address or name. */
export const isLinkLocalHost = (hostname: string): boolean => {
  const bare = bareHostname(hostname)
  return METADATA_NAMES.has(bare) || isLinkLocalAddress(bare)
}

/** Whether the host name is a literal IP address, which needs no lookup. */
export const isAddressLiteral = (hostname: string): boolean => isIP(bareHostname(hostname)) !== 0

/** The addresses a host name resolves to; none when it does not resolve (the request then fails on its own). */
export type HostLookup = (hostname: string) => Promise<ReadonlyArray<string>>

export const systemLookup: HostLookup = (hostname) =>
  lookup(hostname, { all: true }).then(
    (found) => found.map((entry) => entry.address),
    () => [],
  )

/** How long what a host name resolved to is trusted before it is looked up again. */
const LOOKUP_LIFETIME_MS = 60_000
/** Host names whose answers are kept at most: registries a runner talks to, and the hosts they redirect to. */
const MAX_NAMES = 10_000

/**
 * The check that a URL's host is no link-local or metadata address, by name, by literal or by what
 * its name resolves to, unless `allowed` names it. Undefined when the URL may be reached at once
 * (nearly always: no step of its own on the request path); else an effect that fails with the host name.
 * Requests to one name at once share one lookup.
 */
export const makeLinkLocalGuard = (resolve: HostLookup) =>
  Effect.map(makeKeptCache<boolean, never>({ keptFor: () => LOOKUP_LIFETIME_MS, max: MAX_NAMES }), (resolved) =>
    (allowed: ReadonlyArray<string> | "any", url: string): Effect.Effect<void, string> | undefined => {
      if (allowed === "any") return undefined
      const hostname = new URL(url).hostname
      // The URL already gives the host name: matched as it is, with no second parse on every request.
      if (allowed.some((pattern) => hostMatches(pattern, hostname))) return undefined
      if (isLinkLocalHost(hostname)) return Effect.fail(hostname)
      if (isAddressLiteral(hostname)) return undefined
      const linkLocal = resolved.get(hostname, () => Effect.map(Effect.promise(() => resolve(hostname)), (addresses) => addresses.some(isLinkLocalAddress)))
      return Effect.flatMap(linkLocal, (refused) => (refused ? Effect.fail(hostname) : Effect.void))
    }
  )
