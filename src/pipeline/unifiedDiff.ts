/**
 * A unified diff of a patched file. Patches replace characters inside lines and never add or
 * remove a line, so lines pair up one to one and no general diff algorithm is needed; a change
 * in line count falls back to one hunk for the whole file.
 */
export const unifiedDiff = (path: string, before: string, after: string, context = 3): string => {
  const lines = (text: string) => (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n")
  const a = lines(before)
  const b = lines(after)
  const header = `--- a/${path}\n+++ b/${path}\n`
  if (a.length !== b.length) {
    return header + `@@ -1,${a.length} +1,${b.length} @@\n` + a.map((l) => `-${l}\n`).join("") + b.map((l) => `+${l}\n`).join("")
  }
  const changed = a.flatMap((line, i) => (line === b[i] ? [] : [i]))
  if (changed.length === 0) return ""
  // Group changed lines whose context windows touch into one hunk.
  const hunks: Array<[number, number]> = []
  for (const i of changed) {
    const last = hunks[hunks.length - 1]
    if (last !== undefined && i - last[1] <= 2 * context) last[1] = i
    else hunks.push([i, i])
  }
  let out = header
  for (const [first, last] of hunks) {
    const start = Math.max(0, first - context)
    const end = Math.min(a.length - 1, last + context)
    const n = end - start + 1
    out += `@@ -${start + 1},${n} +${start + 1},${n} @@\n`
    for (let i = start; i <= end; i++) {
      if (a[i] === b[i]) out += ` ${a[i]}\n`
      else out += `-${a[i]}\n+${b[i]}\n`
    }
  }
  return out
}
