/**
 * A pure function, remembered by a key of its input: a pass computes the same few values for
 * thousands of targets (field paths, image references, selectors, new tags). The memory is
 * bounded: a daemon's watcher files change over its life, and it forgets everything at once
 * rather than grow without end.
 */
export const memoize = <I, A>(compute: (input: I) => A, keyOf: (input: I) => string, max = 10_000): ((input: I) => A) => {
  const known = new Map<string, A>()
  return (input) => {
    const key = keyOf(input)
    if (known.has(key)) return known.get(key) as A
    if (known.size >= max) known.clear()
    const value = compute(input)
    known.set(key, value)
    return value
  }
}

/** `memoize` for functions of one string. */
export const memoizeString = <A>(compute: (input: string) => A, max?: number): ((input: string) => A) =>
  memoize(compute, (input) => input, max)
