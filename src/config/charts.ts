import { Either, Redacted, Schema } from "effect"
import { type AddressProblem, parseRegistryAddress } from "../domain/address.ts"
import type { ChartRegistry, ChartRepository } from "../domain/ChartSource.ts"
import { normaliseRegistryAddress } from "../domain/ociChart.ts"
import type { SourceLocation } from "../domain/SourceLocation.ts"
import { type Issue, type KeyPath, oneOf, opt } from "./ConfigError.ts"
import { DEFAULT_LISTING_INTERVAL } from "./duration.ts"

/**
 * Piped's own `spec.chartRepositories` and `spec.chartRegistries` (pkg/config/piped.go:
 * HelmChartRepository, HelmChartRegistry), with its keys and defaults: a repository is HTTP unless
 * it says GIT, a registry is OCI. Passwords are plain text there (not base64 as git's is).
 */

const Text = Schema.String

export const ChartRepositorySection = Schema.Struct({
  type: opt(oneOf("HTTP", "GIT")),
  name: opt(Schema.NonEmptyString),
  address: opt(Text),
  username: opt(Text),
  password: opt(Text),
  insecure: opt(Schema.Boolean),
  gitRemote: opt(Text),
  sshKeyFile: opt(Text)
})

export const ChartRegistrySection = Schema.Struct({
  type: opt(oneOf("OCI")),
  address: opt(Text),
  username: opt(Text),
  password: opt(Text)
})

/** Never the address itself: it may hold a password. */
const addressProblems: Record<AddressProblem, string> = {
  NotUrl: "expected an http:// or https:// URL",
  NotHttp: "expected an http:// or https:// URL",
  Credentials: "credentials are not allowed in the address; use username and password",
  QueryOrFragment: "the address must not have a query or fragment"
}


type Located = (path: KeyPath) => SourceLocation

const secretOf = (password: string | undefined) => (password === undefined || password === "" ? {} : { password: Redacted.make(password) })

const credentialIssues = (entry: { readonly username?: string; readonly password?: string }, at: KeyPath): Array<Issue> =>
  entry.password !== undefined && entry.password !== "" && (entry.username ?? "") === ""
    ? [{ path: [...at, "password"], message: "password needs username" }]
    : []

const toRepository = (
  entry: typeof ChartRepositorySection.Type,
  at: KeyPath,
  located: Located
): Either.Either<ChartRepository, ReadonlyArray<Issue>> => {
  const source = located(at)
  if (entry.type === "GIT") {
    if (entry.gitRemote === undefined || entry.gitRemote === "") return Either.left([{ path: [...at, "gitRemote"], message: "a GIT chart repository needs gitRemote" }])
    return Either.right({ type: "GIT", ...(entry.name === undefined ? {} : { name: entry.name }), gitRemote: entry.gitRemote, source })
  }
  const issues: Array<Issue> = credentialIssues(entry, at)
  if (entry.name === undefined) issues.push({ path: [...at, "name"], message: "an HTTP chart repository needs a name" })
  if (entry.address === undefined || entry.address === "") issues.push({ path: [...at, "address"], message: "an HTTP chart repository needs an address" })
  const address = entry.address === undefined || entry.address === "" ? undefined : parseRegistryAddress(entry.address)
  if (address !== undefined && Either.isLeft(address)) issues.push({ path: [...at, "address"], message: addressProblems[address.left] })
  if (issues.length > 0 || entry.name === undefined || address === undefined || Either.isLeft(address)) return Either.left(issues)
  return Either.right({
    type: "HTTP",
    name: entry.name,
    address: address.right,
    ...(entry.username === undefined || entry.username === "" ? {} : { username: entry.username }),
    ...secretOf(entry.password),
    insecure: entry.insecure ?? false,
    interval: DEFAULT_LISTING_INTERVAL,
    source
  })
}

const toRegistry = (entry: typeof ChartRegistrySection.Type, at: KeyPath, located: Located): Either.Either<ChartRegistry, ReadonlyArray<Issue>> => {
  const issues: Array<Issue> = credentialIssues(entry, at)
  if (entry.address === undefined || entry.address === "") return Either.left([...issues, { path: [...at, "address"], message: "a chart registry needs an address" }])
  const address = normaliseRegistryAddress(entry.address)
  if (address === undefined) {
    issues.push({ path: [...at, "address"], message: "expected a registry host such as registry.example.com or host:5000/path, without scheme or credentials" })
  }
  if (issues.length > 0 || address === undefined) return Either.left(issues)
  return Either.right({
    type: "OCI",
    address,
    ...(entry.username === undefined || entry.username === "" ? {} : { username: entry.username }),
    ...secretOf(entry.password),
    interval: DEFAULT_LISTING_INTERVAL,
    source: located(at)
  })
}

const firstSeen = <T>(items: ReadonlyArray<{ readonly item: T; readonly at: KeyPath }>, key: (item: T) => string | undefined, what: string, keyName: string, located: Located): Array<Issue> => {
  const seen = new Map<string, KeyPath>()
  return items.flatMap(({ item, at }) => {
    const name = key(item)
    if (name === undefined) return []
    const earlier = seen.get(name)
    if (earlier === undefined) {
      seen.set(name, at)
      return []
    }
    return [{ path: [...at, keyName], message: `duplicate ${what} "${name}" (first declared on line ${located(earlier).line})` }]
  })
}

export interface ChartSources {
  readonly chartRepositories: ReadonlyArray<ChartRepository>
  readonly chartRegistries: ReadonlyArray<ChartRegistry>
}

/** The chart sources of a Piped spec, or every problem found in them, at their key paths. */
export const toChartSources = (
  spec: { readonly chartRepositories?: ReadonlyArray<typeof ChartRepositorySection.Type>; readonly chartRegistries?: ReadonlyArray<typeof ChartRegistrySection.Type> },
  located: Located
): Either.Either<ChartSources, ReadonlyArray<Issue>> => {
  const issues: Array<Issue> = []
  const repositories = (spec.chartRepositories ?? []).flatMap((entry, index) => {
    const at = ["spec", "chartRepositories", index]
    return Either.match(toRepository(entry, at, located), { onLeft: (found) => (issues.push(...found), []), onRight: (item) => [{ item, at }] })
  })
  const registries = (spec.chartRegistries ?? []).flatMap((entry, index) => {
    const at = ["spec", "chartRegistries", index]
    return Either.match(toRegistry(entry, at, located), { onLeft: (found) => (issues.push(...found), []), onRight: (item) => [{ item, at }] })
  })
  issues.push(
    ...firstSeen(repositories, (repository) => repository.name, "chart repository name", "name", located),
    ...firstSeen(registries, (registry) => registry.address, "chart registry address", "address", located)
  )
  if (issues.length > 0) return Either.left(issues)
  return Either.right({ chartRepositories: repositories.map(({ item }) => item), chartRegistries: registries.map(({ item }) => item) })
}
