import { Either } from "effect"
import { parseManifest } from "./patch.ts"
import { type FoundReference, scanManifest } from "./scan.ts"
import { type FoundChart, type FoundFluxRepository, fluxRepositoriesIn, scanChartManifest } from "./scanCharts.ts"

/** What discovery finds in one file: image references, chart versions, and the Flux HelmRepositories charts may name. */
export interface FileScan {
  readonly references: ReadonlyArray<FoundReference>
  readonly charts: ReadonlyArray<FoundChart>
  readonly repositories: ReadonlyArray<FoundFluxRepository>
}

export const EMPTY_SCAN: FileScan = { references: [], charts: [], repositories: [] }

/** Every scan of a YAML file from one parse; a file that is not YAML is the one failure. */
export const scanFile = (text: string, path: string): Either.Either<FileScan, string> =>
  parseManifest(text).pipe(
    Either.mapLeft((e) => `${path}: ${e.message}`),
    Either.map((manifest) => ({
      references: scanManifest(manifest, path),
      charts: scanChartManifest(manifest, path),
      repositories: fluxRepositoriesIn(manifest)
    }))
  )
