/**
 * What release dates cost. Every image of this repository has its best candidate on a newer line
 * (`1.10.0` above a current `1.9.1`), so the default policy dates two tags of each: the first
 * release of the newer line and the newest of the current one. `1.9.1` came after `1.10.0`, so
 * every target stays on its maintained line and the pass is quiet.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { TestGitServer } from "../test/support/gitServer.ts"
import type { TestRegistry } from "../test/support/registry.ts"
import { inParallel, pad, PUSH_CONCURRENCY } from "./fixtures.ts"
import { median, type Sample } from "./measure.ts"
import { log, SIZE, TARGETS_PER_IMAGE } from "./options.ts"
import { quietPasses, repeat, runPass, watchedRepo } from "./passes.ts"
import { type Figure, percent } from "./report.ts"

/** Releases in the order they came out, a day apart: the 1.9 line got a patch after 1.10.0. */
const RELEASES = ["1.8.0", "1.9.0", "1.10.0", "1.9.1"]
const CURRENT = "1.9.1"
const FIRST_DAY = Date.UTC(2025, 0, 1)

/** Makes every kept date due for its check, as once the provider's interval has passed. */
const due = (dataDir: string) => {
  const file = join(dataDir, "release-dates.json")
  const kept = JSON.parse(readFileSync(file, "utf8")) as { providers: Record<string, Record<string, { tags: Record<string, { checked: number }> }>> }
  for (const images of Object.values(kept.providers)) for (const image of Object.values(images)) for (const tag of Object.values(image.tags)) tag.checked = 0
  writeFileSync(file, JSON.stringify(kept))
}

/** The same Piped config with `defaultPolicy: {version: "~"}`: the same decisions, with no release date asked. */
const undatedConfig = (config: string) => {
  const text = readFileSync(config, "utf8")
  const undated = config.replace(/\.yaml$/, "-undated.yaml")
  writeFileSync(undated, text.replace("  imageWatcher:\n", `  imageWatcher:\n    defaultPolicy: { version: "~" }\n`))
  return undated
}

/**
 * The quiet passes with dates needed for every image: cold (dates read) and warm (dates kept)
 * beside their bounds; then, in the same rounds, warm with dates kept, warm with every date due
 * for its check, and warm under `~`, which decides the same without asking for a date.
 */
export const datedPasses = async (registry: TestRegistry, server: TestGitServer, work: string, quiet: { readonly cold: Figure; readonly warm: Figure } | undefined) => {
  const images = Array.from({ length: SIZE.images }, (_, i) => `bench/dated-${pad(i, 3)}`)
  log(`dated: pushing ${images.length} images x ${RELEASES.length} releases, a day apart`)
  await inParallel(images, PUSH_CONCURRENCY, async (repository) => {
    for (const [day, tag] of RELEASES.entries()) await registry.pushImage(repository, tag, { created: new Date(FIRST_DAY + day * 86_400_000).toISOString() })
  })
  const layout = { targetsPerImage: TARGETS_PER_IMAGE, files: SIZE.files, extraFiles: SIZE.extraFiles, tag: CURRENT }
  const w = await watchedRepo(registry, server, work, "dated", images, layout)
  const { cold, warm } = await quietPasses(registry, w, work, { cold: "stated", warm: "within 10% of the quiet warm pass" })
  const dataDir = join(work, `${w.name}-data`)
  const undated = { config: undatedConfig(w.config), dataDir: join(work, `${w.name}-undated-data`) }
  const quietPass = { updated: 0, upToDate: w.targets }
  await runPass(undated.config, undated.dataDir, quietPass)
  const samples: Record<"kept" | "due" | "none", Array<Sample>> = { kept: [], due: [], none: [] }
  await repeat(async () => {
    samples.none.push(await runPass(undated.config, undated.dataDir, quietPass))
    samples.kept.push(await runPass(w.config, dataDir, quietPass))
    due(dataDir)
    samples.due.push(await runPass(w.config, dataDir, quietPass))
  })
  const [none, kept, rechecked] = [samples.none, samples.kept, samples.due].map((runs) => median(runs.map((r) => r.ms)))
  log(`dated: warm passes, median ms: no date asked ${none?.toFixed(0)}, dates kept ${kept?.toFixed(0)}, every date due ${rechecked?.toFixed(0)}`)
  const over = (ms: number | undefined) => percent(ms ?? 0, none ?? 1)
  const beside = (figure: Figure, plain: Figure | undefined) => (plain === undefined ? "" : ` against the quiet pass's x${plain.ratio.toFixed(2)} (${percent(figure.ratio, plain.ratio)})`)
  return [
    "",
    `release dates, ${images.length} images each dating 2 tags (${w.targets} targets, all kept on their maintained line):`,
    `  warm, dates kept: x${warm.ratio.toFixed(2)}${beside(warm, quiet?.warm)}; the same pass under "~", which asks no date: ${over(kept)}; goal: at most +10%`,
    `  warm, every date due for its check (one HEAD per dated tag): ${over(rechecked)} over the pass under "~"`,
    `  cold, dates read (manifest and config of each): x${cold.ratio.toFixed(2)}${beside(cold, quiet?.cold)}`
  ]
}
