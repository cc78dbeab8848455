/**
 * Reading a 20 MB index.yaml (430 charts × 60 versions by default) in helm's layout (like Bitnami's): time and peak RSS of the line
 * scanner, in a process of its own, beside a lower bound measured in the same run: decoding the
 * bytes and splitting them into lines, which any reader of the index does at least.
 * Run: node_modules/.bin/bun bench/chartIndex.ts [charts] [versions]
 */
import { Either } from "effect"
import { readIndex } from "../src/charts/readIndex.ts"
import { bigIndex } from "../test/support/chartIndex.ts"

const charts = Number(process.argv[2] ?? 430)
const versions = Number(process.argv[3] ?? 60)
const body = new TextEncoder().encode(bigIndex(charts, versions))
Bun.gc(true)
const before = process.memoryUsage.rss()
let peak = before
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2)
const started = performance.now()
const result = readIndex(body)
const elapsed = performance.now() - started
peak = Math.max(peak, process.memoryUsage.rss())
clearInterval(sampler)
// The bound after the read, so that the read's peak is its own.
const boundStarted = performance.now()
const lines = new TextDecoder().decode(body).split("\n").length
const bound = performance.now() - boundStarted
const count = Either.isRight(result) ? [...result.right.values()].reduce((n, v) => n + v.length, 0) : result.left
const mb = (n: number) => (n / 1e6).toFixed(1)
process.stdout.write(`index ${mb(body.byteLength)} MB, ${charts} charts × ${versions} versions = ${count} read in ${elapsed.toFixed(0)} ms, x${(elapsed / bound).toFixed(2)} of decoding and splitting its ${lines} lines (${bound.toFixed(0)} ms); RSS ${mb(before)} MB before (index bytes held), peak ${mb(peak)} MB (+${mb(peak - before)})\n`)
