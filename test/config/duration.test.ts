import { describe, expect, test } from "bun:test"
import { Duration, Either } from "effect"
import { parseGoDuration } from "../../src/config/duration.ts"

const ok: ReadonlyArray<readonly [string, number]> = [
  ["0", 0],
  ["0s", 0],
  ["300ms", 300],
  ["30s", 30_000],
  ["5m", 300_000],
  ["1h", 3_600_000],
  ["1h30m", 5_400_000],
  ["1.5h", 5_400_000],
  ["2h45m30s", 9_930_000],
  ["1m0.5s", 60_500],
  [".5s", 500],
  ["1.s", 1_000],
  ["+5m", 300_000],
  ["1500us", 1.5],
  ["1500µs", 1.5],
  ["2000000ns", 2],
  ["1h1h", 7_200_000]
]

const bad: ReadonlyArray<readonly [string, string]> = [
  ["", "empty"],
  ["-5m", "negative"],
  ["5", "missing unit"],
  ["1.5", "missing unit"],
  ["5x", "unknown unit \"x\""],
  ["5 m", "unknown unit"],
  ["m", "missing number before \"m\""],
  [".s", "missing number"],
  ["+", "expected a number"],
  ["1d", "unknown unit \"d\""],
  ["3000000h", "too large"]
]

describe("parseGoDuration", () => {
  test.each(ok)("%p is %p ms", (text, millis) => {
    const result = parseGoDuration(text)
    expect(Either.isRight(result)).toBe(true)
    if (Either.isRight(result)) expect(Duration.toMillis(result.right)).toBe(millis)
  })

  test.each(bad)("%p is refused (%s)", (text, why) => {
    const result = parseGoDuration(text)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left).toContain(why)
      expect(result.left).toContain(JSON.stringify(text))
    }
  })
})
