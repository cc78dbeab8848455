/** What every ChartIndex layer does, the live one over a real chart repository and the fake alike. */
import { describe, expect, test } from "bun:test"
import { Effect, Either, type Layer } from "effect"
import { ChartIndex } from "../../src/charts/ChartIndex.ts"
import type { ChartError } from "../../src/charts/ChartError.ts"
import type { HttpChartRepository } from "../../src/domain/ChartSource.ts"
import { helmIndex, versionsOf } from "./chartIndex.ts"

/** The index every layer under contract serves for its repository. */
export const contractIndex = helmIndex([["nginx", versionsOf(3)], ["redis", versionsOf(2, 1)]])

export const chartIndexContract = (name: string, setup: () => { readonly layer: Layer.Layer<ChartIndex>; readonly repository: HttpChartRepository }) => {
  const run = <A>(f: (index: ChartIndex["Type"], repository: HttpChartRepository) => Effect.Effect<A, ChartError>): Promise<Either.Either<A, ChartError>> => {
    const { layer, repository } = setup()
    return Effect.runPromise(Effect.either(Effect.flatMap(ChartIndex, (index) => f(index, repository))).pipe(Effect.provide(layer)))
  }

  describe(`ChartIndex contract: ${name}`, () => {
    test("a chart's versions in the index's order, dated by created, with the archive's digest", async () => {
      const versions = Either.getOrThrow(await run((index, repository) => index.versions(repository, "nginx")))
      expect(versions.map((v) => [v.tag, v.created?.toISOString(), v.digest])).toEqual([
        ["0.0.2", "2024-01-03T00:00:00.123Z", `sha256:f${"2".padStart(63, "0")}`],
        ["0.0.1", "2024-01-02T00:00:00.123Z", `sha256:f${"1".padStart(63, "0")}`],
        ["0.0.0", "2024-01-01T00:00:00.123Z", `sha256:f${"0".padStart(63, "0")}`]
      ])
    })

    test("a chart the index does not list is NotFound, naming repository and chart", async () => {
      const result = await run((index, repository) => index.versions(repository, "postgres"))
      expect(Either.isLeft(result) && [result.left.reason, result.left.chart, result.left.message.includes("no chart postgres")]).toEqual(["NotFound", "postgres", true])
    })

    test("a git chart repository fails clearly", async () => {
      const result = await run((index) => index.versions({ type: "GIT", name: "gitcharts", gitRemote: "git@example.com:charts.git", source: { file: "p", line: 1 } }, "nginx"))
      expect(Either.isLeft(result) && result.left.message).toContain("chart repository gitcharts is a git repository: chart versions are not tags")
    })
  })
}
