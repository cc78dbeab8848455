/**
 * What discovery makes of the references and chart versions it found: targets beside the declared
 * ones, explicit targets first, each (file, field) once; and the registries no provider serves and
 * the chart sources no chart repository matches, listed once.
 * Pure: the pass and `runner validate --list-targets` read the files their own way.
 */
import { Either } from "effect"
import type { WatcherFile } from "../config/model.ts"
import type { ChartRepository } from "../domain/ChartSource.ts"
import { CHART_NAME } from "../domain/chartTarget.ts"
import { type DiscoverRule, ruleSelection } from "../domain/DiscoverRule.ts"
import { chartGlobs, compileGlobs, imageGlob } from "../domain/glob.ts"
import { DOCKER_HUB, imageName, parseImageRef, withoutDefaultPort } from "../domain/ImageRef.ts"
import { isRegistryProvider, type ProviderConfig } from "../domain/ProviderConfig.ts"
import { type DeclaredTarget, helmField, kustomizeField } from "../domain/Target.ts"
import { formatFieldPath, parseFieldPath } from "../manifest/FieldPath.ts"
import type { FoundReference } from "../manifest/scan.ts"
import type { FoundFluxRepository } from "../manifest/scanCharts.ts"
import type { FileScan } from "../manifest/scanFile.ts"
import { chartRepositoryFor, chartTargetOf } from "./discoveredCharts.ts"

/** A rule with its globs compiled; one whose globs no longer compile (a cache from elsewhere) matches nothing. */
export interface CompiledRule {
  readonly rule: DiscoverRule
  readonly watcherFile: string
  readonly path: (path: string) => boolean
  readonly image: (image: string) => boolean
  readonly chart: (chart: string) => boolean
}

export const compileRules = (files: ReadonlyArray<WatcherFile>): ReadonlyArray<CompiledRule> =>
  files.flatMap((file) =>
    (file.discover ?? []).map((rule): CompiledRule => {
      const images = (rule.images ?? []).map((pattern) => Either.getOrElse(imageGlob(pattern), () => () => false))
      return {
        rule,
        watcherFile: file.path,
        path: Either.getOrElse(compileGlobs(rule.paths), () => () => false),
        image: rule.images === undefined ? () => true : (image) => images.some((match) => match(image)),
        chart: rule.charts === undefined ? () => true : Either.getOrElse(chartGlobs(rule.charts), () => () => false)
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
    ...ruleSelection(rule)
  }
}

export interface Discovery {
  /** The watcher files, each with its discovered targets after its declared ones. */
  readonly files: ReadonlyArray<WatcherFile>
  /** The targets found, in the files' and rules' order, for listings. */
  readonly discovered: ReadonlyArray<DeclaredTarget>
  /** `no provider for HOST`, and why a chart has no chart repository, once each, sorted. */
  readonly notes: ReadonlyArray<string>
}

/** What a pass of the rules shares: the places taken so far and the notes, added to as targets are made. */
interface Found {
  readonly taken: Set<string>
  readonly notes: Set<string>
  readonly providers: ReadonlyArray<ProviderConfig>
  readonly chartRepositories: ReadonlyArray<ChartRepository>
  readonly flux: ReadonlyArray<FoundFluxRepository>
  readonly parse: (image: string) => ReturnType<typeof parseImageRef>
}

/** The image targets of one file for one rule: not pinned by digest alone, within its images, at a place not taken. */
const imageTargets = (compiled: CompiledRule, filePath: string, refs: ReadonlyArray<FoundReference>, found: Found): ReadonlyArray<DeclaredTarget> =>
  refs.flatMap((ref) => {
    const parsed = found.parse(ref.image)
    if (ref.digestOnly || Either.isLeft(parsed) || !compiled.image(ref.image)) return []
    const key = placeKey({ filePath, field: fieldOf(ref), format: ref.format, image: ref.image })
    // One target per place: a field found in several documents is written in each by the one target.
    if (found.taken.has(key)) return []
    const provider = compiled.rule.provider ?? providerForHost(found.providers, parsed.right.registry)?.name
    if (provider === undefined) {
      found.notes.add(`no provider for ${parsed.right.registry}`)
      return []
    }
    found.taken.add(key)
    return [targetOf(compiled, filePath, ref, provider)]
  })

/**
 * The fields of a file that hold different charts (or one chart from different sources) in its
 * documents, with the charts they hold. A version field carries no chart name, so one target at
 * such a field would write one chart's version into another's.
 */
const mixedFields = (charts: FileScan["charts"]): ReadonlyMap<string, string> => {
  const byField = new Map<string, Map<string, string>>()
  for (const chart of charts) {
    const sources = byField.get(chart.field) ?? new Map<string, string>()
    sources.set(`${chart.chart}\u0000${chart.repositoryKind}\u0000${chart.repository}`, chart.chart)
    byField.set(chart.field, sources)
  }
  return new Map([...byField].flatMap(([field, sources]) => (sources.size > 1 ? [[field, [...new Set(sources.values())].sort().join(", ").slice(0, 200)] as const] : [])))
}

/**
 * The chart targets of one file for one rule: a pinned version (a range is Helm's to resolve), a
 * chart name that can be one (the file is untrusted), within the rule's charts, at a place not taken.
 */
const chartTargets = (compiled: CompiledRule, filePath: string, charts: FileScan["charts"], found: Found): ReadonlyArray<DeclaredTarget> => {
  const mixed = mixedFields(charts)
  return charts.flatMap((chart) => {
    if (chart.ranged || !CHART_NAME.test(chart.chart) || !compiled.chart(chart.chart)) return []
    const key = placeKey({ filePath, field: chart.field, format: "tag", image: chart.chart })
    if (found.taken.has(key)) return []
    const others = mixed.get(chart.field)
    if (others !== undefined) {
      found.notes.add(`${filePath} ${chart.field}: different charts in several documents (${others}), not discovered: a target writes its field in every document`)
      return []
    }
    const repository = chartRepositoryFor(chart, found.chartRepositories, found.flux)
    if (Either.isLeft(repository)) {
      found.notes.add(repository.left)
      return []
    }
    found.taken.add(key)
    return [chartTargetOf(compiled.rule, filePath, chart, repository.right)]
  })
}

/**
 * Targets of what each rule's files hold (`scans`: path to what was found, for the paths the rules
 * matched). Declared targets win over discovered ones at the same place, an earlier rule over a
 * later one; a reference pinned only by digest, or outside the rule's images, is no target, nor a
 * ranged chart version or one outside the rule's charts. A Flux release's HelmRepository is looked
 * for in every file the rules matched.
 */
export const discoveredTargets = (
  files: ReadonlyArray<WatcherFile>,
  rules: ReadonlyArray<CompiledRule>,
  scans: ReadonlyMap<string, FileScan>,
  providers: ReadonlyArray<ProviderConfig>,
  chartRepositories: ReadonlyArray<ChartRepository> = []
): Discovery => {
  // Many references name the same few images: each is parsed once.
  const images = new Map<string, ReturnType<typeof parseImageRef>>()
  const parse = (image: string) => {
    const known = images.get(image)
    if (known !== undefined) return known
    const parsed = parseImageRef(image)
    images.set(image, parsed)
    return parsed
  }
  const found: Found = {
    taken: new Set(files.flatMap((file) => file.targets.map(placeKey))),
    notes: new Set(),
    providers,
    chartRepositories,
    flux: [...scans.values()].flatMap((scan) => scan.repositories),
    parse
  }
  const byFile = new Map<string, Array<DeclaredTarget>>()
  for (const compiled of rules) {
    for (const [filePath, scan] of scans) {
      if (!compiled.path(filePath)) continue
      const list = byFile.get(compiled.watcherFile) ?? []
      // One at a time: a spread into push() puts every element on the stack.
      for (const target of imageTargets(compiled, filePath, scan.references, found)) list.push(target)
      for (const target of chartTargets(compiled, filePath, scan.charts, found)) list.push(target)
      byFile.set(compiled.watcherFile, list)
    }
  }
  return {
    files: files.map((file) => {
      const more = byFile.get(file.path)
      return more === undefined || more.length === 0 ? file : { ...file, targets: [...file.targets, ...more] }
    }),
    discovered: files.flatMap((file) => byFile.get(file.path) ?? []),
    notes: [...found.notes].sort()
  }
}
