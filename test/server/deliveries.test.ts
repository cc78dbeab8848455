import { describe, expect, test } from "bun:test"
import { recentDeliveries } from "../../src/server/deliveries.ts"

describe("recentDeliveries", () => {
  test.each([
    { name: "a new id, then its replay", capacity: 4, ids: ["a", "a"], seen: [false, true] },
    { name: "distinct ids", capacity: 4, ids: ["a", "b", "c"], seen: [false, false, false] },
    // The oldest is forgotten once the memory is full: bounded, whatever the number of deliveries.
    { name: "the oldest forgotten beyond capacity", capacity: 2, ids: ["a", "b", "c", "a", "c"], seen: [false, false, false, false, true] },
    { name: "an id too long to be a GUID is never remembered", capacity: 4, ids: ["x".repeat(101), "x".repeat(101)], seen: [false, false] }
  ])("$name", ({ capacity, ids, seen }) => {
    const recent = recentDeliveries(capacity)
    expect(ids.map((id) => recent.seen(id))).toEqual([...seen])
    expect(recent.size()).toBeLessThanOrEqual(capacity)
  })

  test("a flood of distinct ids keeps the memory at its capacity", () => {
    const recent = recentDeliveries(100)
    for (let i = 0; i < 10_000; i++) recent.seen(`id-${i}`)
    expect(recent.size()).toBe(100)
  })
})
