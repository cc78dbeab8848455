import { type Document, isMap, isPair, isScalar, isSeq } from "yaml"

/**
 * The offset of the first key that repeats one before it in the same map, if any. yaml's own
 * check (`uniqueKeys`) compares each key with every earlier one, so a map of 50,000 keys took
 * over 20 s to parse; this one keeps a set per map and compares scalar keys by value as yaml does.
 * The walk keeps its own stack: nesting as deep as the parser accepts cannot overflow it.
 */
export const duplicateKeyOffset = (doc: Document.Parsed): number | undefined => {
  const pending: Array<unknown> = [doc.contents]
  while (pending.length > 0) {
    const node = pending.pop()
    if (isSeq(node)) {
      // One at a time: spreading a list of a million items would overflow the call stack.
      for (const item of node.items) pending.push(item)
      continue
    }
    if (!isMap(node)) continue
    const seen = new Set<unknown>()
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const { key, value } = pair
      // Keys that are collections are equal only to themselves, as in yaml's check; NaN to nothing.
      if (isScalar(key) && !Number.isNaN(key.value)) {
        if (seen.has(key.value)) return key.range?.[0] ?? node.range?.[0] ?? 0
        seen.add(key.value)
      }
      pending.push(key, value)
    }
  }
  return undefined
}
