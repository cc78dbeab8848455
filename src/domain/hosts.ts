/**
 * Host patterns, as the operator writes them in a provider's `hosts`: names without a port (the
 * operator's registry on another port is still the operator's), where `*` stands for any run of
 * characters within one label (`*.gcr.io`, `*-docker.pkg.dev`).
 */

/** The host name of a registry as images write it (`host[:port]`), or of a URL; lower case, no port. */
export const hostnameOf = (hostOrUrl: string): string => {
  const text = hostOrUrl.includes("://") ? hostOrUrl : `https://${hostOrUrl}`
  return URL.canParse(text) ? new URL(text).hostname : hostOrUrl.toLowerCase()
}

const patterns = new Map<string, RegExp>()

/** Whether a host pattern matches a host name. */
export const hostMatches = (pattern: string, hostname: string): boolean => {
  let re = patterns.get(pattern)
  if (re === undefined) {
    const body = pattern.toLowerCase().split("*").map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, "\\$&")).join("[^.]*")
    re = new RegExp(`^${body}$`)
    patterns.set(pattern, re)
  }
  return re.test(hostname.toLowerCase())
}

/** Whether any of `patterns` matches `host` (a host name, `host:port`, or a URL). */
export const hostListed = (list: ReadonlyArray<string>, host: string): boolean => {
  if (list.length === 0) return false
  const hostname = hostnameOf(host)
  return list.some((pattern) => hostMatches(pattern, hostname))
}
