import type { MetricKey } from "effect"

/**
 * Whether a series belongs to what the daemon watches now: after a reload removed a pipeline or
 * a repository, its series leave /metrics (effect's registry keeps every metric it ever made, so
 * they are left out when rendered). A series without those labels, or counted outside any
 * pass (an empty `pipeline`), always stays. `watched` maps each scheduled pipeline to its repositories.
 */
export const isLiveSeries = (watched: ReadonlyMap<string, ReadonlySet<string>>) => (key: MetricKey.MetricKey.Untyped): boolean => {
  const label = (name: string) => key.tags.find((t) => t.key === name)?.value
  const pipeline = label("pipeline")
  const repo = label("repo")
  if (pipeline !== undefined && pipeline !== "") {
    const repos = watched.get(pipeline)
    return repos !== undefined && (repo === undefined || repos.has(repo))
  }
  return repo === undefined || [...watched.values()].some((repos) => repos.has(repo))
}
