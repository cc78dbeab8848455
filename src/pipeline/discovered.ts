/**
 * What discovery makes of the references it found: targets beside the declared ones, explicit
 * targets first, each (file, field) once; and the registries no provider serves, listed once.
 * Pure: the pass and `runner validate --list-targets` read the files their own way.
 */
import { Either } from "effect"
import type { WatcherFile } from "../config/model.ts"
import type { DiscoverRule } from "../domain/DiscoverRule.ts"
import { compileGlobs, imageGlob } from "../domain/glob.ts"
import { DOCKER_HUB, imageName, parseImageRef, withoutDefaultPort } from "../domain/ImageRef.ts"
import { isRegistryProvider, type ProviderConfig } from "../domain/ProviderConfig.ts"
import { type DeclaredTarget, helmField, kustomizeField } from "../domain/Target.ts"
import { formatFieldPath, parseFieldPath } from "../manifest/FieldPath.ts"
import type { FoundReference } from "../manifest/scan.ts"

/** A rule with its globs compiled; one whose globs no longer compile (a cache from elsewhere) matches nothing. */
export interface CompiledRule {
  readonly rule: DiscoverRule
  readonly watcherFile: string
  readonly path: (path: string) => boolean
  readonly image: (image: string) => boolean
}

export const compileRules = (files: ReadonlyArray<WatcherFile>): ReadonlyArray<CompiledRule> =>
  files.flatMap((file) =>
    (file.discover ?? []).map((rule): CompiledRule => {
      const images = (rule.images ?? []).map((pattern) => Either.getOrElse(imageGlob(pattern), () => () => false))
      return {
        rule,
        watcherFile: file.path,
        path: Either.getOrElse(compileGlobs(rule.paths), () => () => false),
        image: rule.images === undefined ? () => true : (image) => images.some((match) => match(image))
      }
    })
  )

/** The host an address names, `host[:port]` as images write it; undefined when it is no URL. */
const addressHost = (address: string): string | undefined =>
  URL.canParse(address) ? withoutDefaultPort(new URL(address).host.toLowerCase()) : undefined

/**
 * The provider of an image's registry host when the rule names none: the one whose `address`
 * names the host; for Docker Hub a DOCKER_HUB provider, then a registry provider without address.
 */
export const providerForHost = (providers: ReadonlyArray<ProviderConfig>, host: string): ProviderConfig | undefined => {
  const byAddress = providers.find((p) => isRegistryProvider(p) && p.address !== undefined && addressHost(p.address) === host)
  if (byAddress !== undefined || host !== DOCKER_HUB) return byAddress
  return providers.find((p) => p.type === "DOCKER_HUB") ?? providers.find((p) => isRegistryProvider(p) && p.address === undefined)
}

/** The field a reference is written at, as a target knows it. */
const fieldOf = (ref: FoundReference): string =>
  ref.format === "kustomize" ? kustomizeField(ref.image) : ref.format === "helm" ? helmField(ref.field ?? "") : (ref.field ?? "")

/**
 * What makes two targets the same place: file and field as parsed (`a.b[0]` however written), and
 * for kustomize file and image by docker normalisation (`nginx` is `docker.io/library/nginx`).
 */
export const placeKey = (target: Pick<DeclaredTarget, "filePath" | "field" | "format" | "image">): string => {
  if (target.format === "kustomize") {
    const image = Either.match(parseImageRef(target.image), { onLeft: () => target.image, onRight: imageName })
    return `${target.filePath}\u0000kustomize\u0000${image}`
  }
  const field = Either.match(parseFieldPath(target.field), { onLeft: () => target.field, onRight: formatFieldPath })
  return `${target.filePath}\u0000${field}`
}

const targetOf = (compiled: CompiledRule, filePath: string, ref: FoundReference, provider: string): DeclaredTarget => {
  const { rule } = compiled
  return {
    image: ref.image,
    provider,
    filePath,
    field: fieldOf(ref),
    format: ref.format,
    ...(rule.policy === undefined ? {} : { policy: rule.policy }),
    ...(rule.filterTags === undefined ? {} : { filterTags: rule.filterTags }),
    excludeTags: rule.excludeTags,
    allowDowngrade: rule.allowDowngrade,
    ...(rule.minAge === undefined ? {} : { minAge: rule.minAge }),
    ...(rule.suspended === undefined ? {} : { suspended: rule.suspended }),
    source: rule.source
  }
}

export interface Discovery {
  /** The watcher files, each with its discovered targets after its declared ones. */
  readonly files: ReadonlyArray<WatcherFile>
  /** The targets found, in the files' and rules' order, for listings. */
  readonly discovered: ReadonlyArray<DeclaredTarget>
  /** `no provider for HOST`, once per host, sorted. */
  readonly notes: ReadonlyArray<string>
}

/**
 * Targets of what each rule's files hold (`found`: path to references, for the paths the rules
 * matched). Declared targets win over discovered ones at the same place, an earlier rule over a
 * later one; a reference pinned only by digest, or outside the rule's images, is no target.
 */
export const discoveredTargets = (
  files: ReadonlyArray<WatcherFile>,
  rules: ReadonlyArray<CompiledRule>,
  found: ReadonlyMap<string, ReadonlyArray<FoundReference>>,
  providers: ReadonlyArray<ProviderConfig>
): Discovery => {
  const taken = new Set(files.flatMap((file) => file.targets.map(placeKey)))
  const unserved = new Set<string>()
  const byFile = new Map<string, Array<DeclaredTarget>>()
  // Many references name the same few images: each is parsed once.
  const images = new Map<string, ReturnType<typeof parseImageRef>>()
  const parse = (image: string) => {
    const known = images.get(image)
    if (known !== undefined) return known
    const parsed = parseImageRef(image)
    images.set(image, parsed)
    return parsed
  }
  for (const compiled of rules) {
    for (const [filePath, refs] of found) {
      if (!compiled.path(filePath)) continue
      for (const ref of refs) {
        const parsed = parse(ref.image)
        if (ref.digestOnly || Either.isLeft(parsed) || !compiled.image(ref.image)) continue
        const key = placeKey({ filePath, field: fieldOf(ref), format: ref.format, image: ref.image })
        // One target per place: a field found in several documents is written in each by the one target.
        if (taken.has(key)) continue
        const provider = compiled.rule.provider ?? providerForHost(providers, parsed.right.registry)?.name
        if (provider === undefined) {
          unserved.add(parsed.right.registry)
          continue
        }
        const target = targetOf(compiled, filePath, ref, provider)
        taken.add(key)
        const list = byFile.get(compiled.watcherFile) ?? []
        list.push(target)
        byFile.set(compiled.watcherFile, list)
      }
    }
  }
  return {
    files: files.map((file) => {
      const more = byFile.get(file.path)
      return more === undefined ? file : { ...file, targets: [...file.targets, ...more] }
    }),
    discovered: files.flatMap((file) => byFile.get(file.path) ?? []),
    notes: [...unserved].sort().map((host) => `no provider for ${host}`)
  }
}
