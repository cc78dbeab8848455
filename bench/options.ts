/**
 * The bench's command line and the sizes it implies:
 *
 *   bun bench/bench.ts [--quick] [--only NAME[,NAME]] [--runs N] [--out FILE] [--runner BINARY]
 */
import { RUNNER } from "../test/support/runner.ts"

/** The scenarios, by the short names `--only` takes. */
export const SCENARIOS = ["startup", "quiet", "dated", "scale", "large", "update", "requests", "bucket", "discover", "charts"] as const
export type Scenario = (typeof SCENARIOS)[number]

const argv = process.argv.slice(2)
const option = (name: string) => {
  const i = argv.indexOf(name)
  return i === -1 ? undefined : argv[i + 1]
}

const isScenario = (name: string): name is Scenario => (SCENARIOS as ReadonlyArray<string>).includes(name)

const parseOnly = (list: string | undefined): ReadonlySet<Scenario> => {
  if (list === undefined) return new Set(SCENARIOS)
  const names = list.split(",").map((n) => n.trim()).filter((n) => n !== "")
  const unknown = names.filter((n) => !isScenario(n))
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--only ${list}: unknown scenario ${unknown.join(", ") || "(none given)"}; the scenarios are ${SCENARIOS.join(", ")}`)
  }
  return new Set(names.filter(isScenario))
}

export const quick = argv.includes("--quick")
export const RUNS = Number(option("--runs") ?? (quick ? 2 : 3))
export const OUT = option("--out") ?? "dist/bench/figures.json"
/** Another build of the runner, e.g. one made from a given commit, to compare. */
export const BINARY = option("--runner") ?? RUNNER
export const ONLY = parseOnly(option("--only"))
export const selected = (scenario: Scenario) => ONLY.has(scenario)

/** The scenario, or a quarter of it with `--quick`. */
export const SIZE = quick
  ? { images: 50, files: 25, extraFiles: 75, updated: 25, scaleImages: 500, largeFiles: 5_000, largeCommits: 1_000, startups: 7, discoverFiles: 250 }
  : { images: 200, files: 100, extraFiles: 300, updated: 100, scaleImages: 2_000, largeFiles: 20_000, largeCommits: 5_000, startups: 15, discoverFiles: 1_000 }
/** The scale scenario across repositories: 250 images of 4 targets per repository, a quarter as many repositories with `--quick`. */
export const MANY = quick ? { images: 1_250, repos: 5, targetsPerImage: 4 } : { images: 5_000, repos: 20, targetsPerImage: 4 }
export const TARGETS_PER_IMAGE = 5
export const TAGS = Array.from({ length: 10 }, (_, i) => `1.${i}.0`)
export const CURRENT = TAGS[TAGS.length - 1] as string
// A patch release of the current line, retagged from the current image: the default policy
// takes it without release dates (a new line, retagged, has no date to tell it by and stays).
export const NEW_TAG = "1.9.1"
export const SCALE_TAGS = ["1.0.0", "1.1.0", "1.2.0"]
export const SCALE_CURRENT = SCALE_TAGS[SCALE_TAGS.length - 1] as string
/** Tags per page the paging proxy serves when counting requests: 10 tags are 3 pages. */
export const PAGE_SIZE = 4

export const log = (text: string) => console.error(`[bench] ${text}`)
