/**
 * Slopes of the scale scenario: extra cost per extra 1,000 images (at fixed targets per image) and
 * per extra 1,000 targets (at a fixed number of images), each over a smaller and a larger step, so
 * that the larger step's slope shows whether cost grows faster than the work.
 */
import type { Figure } from "./report.ts"
import { markdownTable } from "./report.ts"

/** One size of the scale scenario and its quiet passes. */
export interface ScalePoint {
  readonly images: number
  readonly targetsPerImage: number
  readonly cold: Figure
  readonly warm: Figure
}

/** A quarter, half and all of the images at the full targets per image; all images at 1, 2 and the full targets per image. */
export interface ScalePoints {
  readonly quarter: ScalePoint
  readonly half: ScalePoint
  readonly one: ScalePoint
  readonly two: ScalePoint
  readonly full: ScalePoint
}

type Pass = "cold" | "warm"
type Axis = "images" | "targets"

export interface Slope {
  readonly pass: Pass
  readonly axis: Axis
  readonly step: "smaller" | "larger"
  readonly from: { readonly images: number; readonly targets: number }
  readonly to: { readonly images: number; readonly targets: number }
  /** Extra milliseconds (megabytes) per 1,000 more images or targets. */
  readonly runnerMs: number
  readonly boundMs: number
  readonly rssMb: number
  /** How far noise alone may move the slope, per 1,000: the noise of both medians over the step. */
  readonly noiseMs: number
  readonly noiseMb: number
}

/**
 * `undecided` when the larger step's slope is too steep but the smaller one is below zero beyond
 * its noise: more work cannot cost less, so the runs were noisier than the estimate allows.
 */
export type Outcome = "no faster than the work" | "FASTER than the work" | "undecided: a slope below zero, so noisier than estimated"

interface Comparison {
  readonly smaller: number
  readonly larger: number
  readonly tolerance: number
  readonly outcome: Outcome
}

export interface Verdict {
  readonly pass: Pass
  readonly axis: Axis
  readonly ms: Comparison
  readonly mb: Comparison
}

const halfSpread = (values: ReadonlyArray<number>) => (values.length === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / 2)

/**
 * How far a median may be off: half the spread of its runs, and at least a share of it, since one
 * run has no spread and runs on a shared machine move by a tenth or more (time 5 %, peak RSS 2 %).
 */
const noiseMs = (f: Figure) => Math.max(halfSpread(f.samples.runnerMs), 0.05 * f.runnerMs)
const noiseMb = (f: Figure) => Math.max(halfSpread(f.samples.rssMb), 0.02 * f.rssMb)

const targets = (p: ScalePoint) => p.images * p.targetsPerImage

const slope = (pass: Pass, axis: Axis, step: Slope["step"], a: ScalePoint, b: ScalePoint): Slope => {
  const units = (axis === "images" ? b.images - a.images : targets(b) - targets(a)) / 1000
  const [fa, fb] = [a[pass], b[pass]]
  return {
    pass,
    axis,
    step,
    from: { images: a.images, targets: targets(a) },
    to: { images: b.images, targets: targets(b) },
    runnerMs: (fb.runnerMs - fa.runnerMs) / units,
    boundMs: (fb.boundMs - fa.boundMs) / units,
    rssMb: (fb.rssMb - fa.rssMb) / units,
    noiseMs: (noiseMs(fa) + noiseMs(fb)) / units,
    noiseMb: (noiseMb(fa) + noiseMb(fb)) / units
  }
}

/** The slopes between `points`: per image over the smaller and the larger step, per target likewise. */
export const slopes = (points: ScalePoints) =>
  (["warm", "cold"] as const).flatMap((pass) => [
    slope(pass, "images", "smaller", points.quarter, points.half),
    slope(pass, "images", "larger", points.half, points.full),
    slope(pass, "targets", "smaller", points.one, points.two),
    slope(pass, "targets", "larger", points.two, points.full)
  ])

/** Growth over the whole range of one axis: how many times the work, and how many times each cost. */
export interface Growth {
  readonly pass: Pass
  readonly axis: Axis
  readonly work: number
  readonly runner: number
  readonly bound: number
  readonly rss: number
}

const growth = (pass: Pass, axis: Axis, a: ScalePoint, b: ScalePoint): Growth => ({
  pass,
  axis,
  work: axis === "images" ? b.images / a.images : targets(b) / targets(a),
  runner: b[pass].runnerMs / a[pass].runnerMs,
  bound: b[pass].boundMs / a[pass].boundMs,
  rss: b[pass].rssMb / a[pass].rssMb
})

/** From a quarter of the images to all (fixed targets per image), and from 1 target per image to the full number (fixed images). */
export const growths = (points: ScalePoints): ReadonlyArray<Growth> =>
  (["warm", "cold"] as const).flatMap((pass) => [growth(pass, "images", points.quarter, points.full), growth(pass, "targets", points.one, points.full)])

const compare = (smaller: number, smallerNoise: number, larger: number, largerNoise: number): Comparison => {
  const tolerance = smallerNoise + largerNoise
  const outcome: Outcome =
    larger <= smaller + tolerance ? "no faster than the work" : smaller + smallerNoise < 0 ? "undecided: a slope below zero, so noisier than estimated" : "FASTER than the work"
  return { smaller, larger, tolerance, outcome }
}

/** Whether each pass's cost grows no faster than the work: the larger step's slope is at most the smaller's, within noise. */
export const verdicts = (all: ReadonlyArray<Slope>): ReadonlyArray<Verdict> =>
  (["warm", "cold"] as const).flatMap((pass) =>
    (["images", "targets"] as const).flatMap((axis) => {
      const pick = (step: Slope["step"]) => all.find((s) => s.pass === pass && s.axis === axis && s.step === step)
      const [small, large] = [pick("smaller"), pick("larger")]
      if (small === undefined || large === undefined) return []
      return [{
        pass,
        axis,
        ms: compare(small.runnerMs, small.noiseMs, large.runnerMs, large.noiseMs),
        mb: compare(small.rssMb, small.noiseMb, large.rssMb, large.noiseMb)
      }]
    })
  )

const n = (value: number) => Math.round(value).toLocaleString("en-US")
const ms = (value: number) => `${n(value)} ms`
const mb = (value: number) => `${value.toFixed(1)} MB`

const stepLabel = (s: Slope) =>
  s.axis === "images"
    ? `${n(s.from.images)} → ${n(s.to.images)} images, ${s.to.targets / s.to.images} targets each`
    : `${n(s.from.targets)} → ${n(s.to.targets)} targets, ${n(s.to.images)} images`

/** The slopes as a table, then one line per pass and axis saying whether cost grows no faster than the work. */
export const slopeLines = (all: ReadonlyArray<Slope>, grown: ReadonlyArray<Growth>, repos: number): ReadonlyArray<string> => [
  `scale slopes (${repos} repositories; runner ± noise beside its lower bound; noise: the runs' spread, at least 5 % of time, 2 % of RSS):`,
  "",
  markdownTable(
    ["pass", "slope", "step", "runner", "lower bound", "runner peak RSS"],
    all.map((s) => [
      s.pass,
      s.axis === "images" ? "per 1,000 images" : "per 1,000 targets",
      stepLabel(s),
      `${ms(s.runnerMs)} ± ${n(s.noiseMs)}`,
      ms(s.boundMs),
      `${mb(s.rssMb)} ± ${s.noiseMb.toFixed(1)}`
    ])
  ),
  "",
  ...verdicts(all).map(
    (v) =>
      `${v.pass}, per ${v.axis === "images" ? "image" : "target"}: time ${v.ms.outcome} ` +
      `(larger step ${ms(v.ms.larger)} vs smaller ${ms(v.ms.smaller)} + ${n(v.ms.tolerance)} allowed), ` +
      `memory ${v.mb.outcome} (${mb(v.mb.larger)} vs ${mb(v.mb.smaller)} + ${v.mb.tolerance.toFixed(1)})`
  ),
  "",
  ...grown.map(
    (g) =>
      `${g.pass}, ${Number(g.work.toFixed(2))}x the ${g.axis} (${g.axis === "images" ? "same targets per image" : "same images"}): ` +
      `runner x${g.runner.toFixed(2)}, lower bound x${g.bound.toFixed(2)}, runner peak RSS x${g.rss.toFixed(2)}` +
      (g.runner <= g.work ? "" : ": time grows FASTER than the work")
  )
]
