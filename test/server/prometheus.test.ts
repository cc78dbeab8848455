import { describe, expect, test } from "bun:test"
import { Effect, Metric, MetricBoundaries } from "effect"
import { renderPrometheus } from "../../src/server/prometheus.ts"

/** Metrics live in one global registry: each test reads back only the names it made. */
const render = (effect: Effect.Effect<unknown>, names: ReadonlyArray<string>) =>
  Effect.runSync(effect.pipe(Effect.zipRight(Metric.snapshot))).filter((m) => names.includes(m.metricKey.name))

describe("renderPrometheus", () => {
  test("counters with labels, escaped, grouped under one HELP and TYPE", () => {
    const requests = Metric.counter("test_requests_total", { description: "Requests." })
    const text = renderPrometheus(
      render(
        Effect.all([
          Metric.incrementBy(Metric.tagged(requests, "code", "200"), 3),
          Metric.increment(Metric.tagged(requests, "code", 'x"y\\z\n'))
        ]),
        ["test_requests_total"]
      )
    )
    expect(text).toBe(
      [
        "# HELP test_requests_total Requests.",
        "# TYPE test_requests_total counter",
        'test_requests_total{code="200"} 3',
        'test_requests_total{code="x\\"y\\\\z\\n"} 1',
        ""
      ].join("\n")
    )
  })

  test("gauges and cumulative histogram buckets ending in +Inf", () => {
    const gauge = Metric.gauge("test_last_seconds")
    const histogram = Metric.histogram("test_duration_seconds", MetricBoundaries.fromIterable([0.1, 1]))
    const text = renderPrometheus(
      render(Effect.all([Metric.set(gauge, 1.5), Metric.update(histogram, 0.05), Metric.update(histogram, 0.5), Metric.update(histogram, 7)]), [
        "test_duration_seconds",
        "test_last_seconds"
      ])
    )
    expect(text).toBe(
      [
        "# TYPE test_duration_seconds histogram",
        'test_duration_seconds_bucket{le="0.1"} 1',
        'test_duration_seconds_bucket{le="1"} 2',
        'test_duration_seconds_bucket{le="+Inf"} 3',
        "test_duration_seconds_sum 7.55",
        "test_duration_seconds_count 3",
        "# TYPE test_last_seconds gauge",
        "test_last_seconds 1.5",
        ""
      ].join("\n")
    )
  })

  test("nothing to render", () => {
    expect(renderPrometheus([])).toBe("")
  })
})
