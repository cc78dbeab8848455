import { Duration, Either } from "effect"

const nanosPerUnit: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n, // U+00B5 micro sign
  "μs": 1_000n, // U+03BC Greek mu: Go accepts both spellings
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n
}

/** How often a source is listed when its config names no interval: a provider's, a chart repository's. */
export const DEFAULT_LISTING_INTERVAL = Duration.minutes(5)

const maxNanos = 2n ** 63n - 1n
const component = /(\d*)(?:\.(\d*))?([^\d.]+)/y

/** Parses Go's `time.ParseDuration` syntax ("300ms", "1h30m", "1.5h", "0"); negative durations are refused. */
export const parseGoDuration = (text: string): Either.Either<Duration.Duration, string> => {
  const invalid = (why: string) => Either.left(`invalid duration ${JSON.stringify(text)}: ${why}`)
  if (text === "") return invalid("empty")
  if (text.startsWith("-")) return invalid("must not be negative")
  const body = text.startsWith("+") ? text.slice(1) : text
  if (body === "0") return Either.right(Duration.zero)
  if (body === "") return invalid("expected a number and a unit, like 30s, 5m or 1h30m")
  let total = 0n
  let pos = 0
  while (pos < body.length) {
    component.lastIndex = pos
    const match = component.exec(body)
    if (match === null) {
      return /^[\d.]+$/.test(body.slice(pos))
        ? invalid("missing unit (ns, us, ms, s, m, h)")
        : invalid("expected a number and a unit, like 30s, 5m or 1h30m")
    }
    const whole = match[1] ?? ""
    const fraction = match[2] ?? ""
    const unitName = match[3] ?? ""
    const unit = nanosPerUnit[unitName]
    if (whole === "" && fraction === "") return invalid(`missing number before "${unitName}"`)
    if (unit === undefined) return invalid(`unknown unit "${unitName}" (use ns, us, ms, s, m or h)`)
    total += BigInt(whole === "" ? "0" : whole) * unit
    if (fraction !== "") total += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length)
    if (total > maxNanos) return invalid("too large")
    pos = component.lastIndex
  }
  return Either.right(Duration.nanos(total))
}
