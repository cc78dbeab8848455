import { Effect } from "effect"
import type { ChartError } from "../charts/ChartError.ts"
import type { ChartIndex } from "../charts/ChartIndex.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import type { HelmProvider } from "../domain/ProviderConfig.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { withinLimit } from "./tagLimit.ts"

/** The chart a chart target's image name ends in (see chartImageName). */
export const chartOf = (image: ImageRef): string => image.repository.split("/").pop() ?? image.repository

/** A chart repository's failure as the pipeline reports a provider's: its reason, and what the repository said. */
const asRegistryError = (provider: HelmProvider, image: ImageRef) => (error: ChartError): RegistryError =>
  providerError(provider, image)(
    error.reason === "Index" ? "Protocol" : error.reason,
    error.reason === "Index" ? `unreadable index.yaml: ${error.detail}` : error.detail,
    error.status
  )

/** The versions of a chart target's chart, from its repository's `index.yaml`, dated by the index's `created`. */
export const listChartVersions = (
  charts: ChartIndex["Type"],
  provider: HelmProvider,
  image: ImageRef
): Effect.Effect<ReadonlyArray<TagInfo>, RegistryError> =>
  charts.versions(provider.repository, chartOf(image)).pipe(
    Effect.mapError(asRegistryError(provider, image)),
    Effect.flatMap((tags) => withinLimit(provider, image, tags))
  )
