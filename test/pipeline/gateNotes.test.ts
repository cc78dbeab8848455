import { describe, expect, test } from "bun:test"
import { makeGateNotes, type PassedOver } from "../../src/pipeline/gateNotes.ts"

const unsigned = (tag: string): PassedOver => ({ note: `skipped: ${tag} not signed by cosign.pub (no signature)`, kind: "not signed by cosign.pub" })
const young = (tag: string): PassedOver => ({ note: `held: ${tag} too new (pushed 1h ago, needs 24h)`, kind: "too new (needs 24h)" })
const unchecked: PassedOver = { note: "", kind: "not checked (10 newer tags failed first)" }

describe("gate notes", () => {
  const cases: ReadonlyArray<{ name: string; added: ReadonlyArray<readonly [PassedOver, number]>; notes: ReadonlyArray<string>; count: number }> = [
    { name: "none", added: [], notes: [], count: 0 },
    { name: "up to three are told one by one", added: [[unsigned("3"), 1], [young("2"), 1], [unsigned("1"), 1]], notes: [unsigned("3").note, young("2").note, unsigned("1").note], count: 3 },
    {
      name: "past three, the first is told and the rest counted by kind",
      added: [[unsigned("5"), 1], [unsigned("4"), 1], [young("3"), 1], [unsigned("2"), 1], [unsigned("1"), 1]],
      notes: [unsigned("5").note, "4 more: 3 not signed by cosign.pub, 1 too new (needs 24h)"],
      count: 5,
    },
    {
      name: "a batch is counted, never told",
      added: [[unsigned("9"), 1], [unsigned("8"), 1], [unchecked, 19_990]],
      notes: [unsigned("9").note, "19,991 more: 1 not signed by cosign.pub, 19,990 not checked (10 newer tags failed first)"],
      count: 19_992,
    },
    {
      name: "a batch first is counted whole, with what came after",
      added: [[unchecked, 5], [unsigned("1"), 1]],
      notes: ["6 more: 5 not checked (10 newer tags failed first), 1 not signed by cosign.pub"],
      count: 6,
    },
    { name: "a batch of none adds nothing", added: [[unsigned("1"), 1], [unchecked, 0]], notes: [unsigned("1").note], count: 1 },
  ]
  test.each(cases)("$name", ({ added, notes, count }) => {
    const gateNotes = makeGateNotes()
    for (const [passed, n] of added) gateNotes.add(passed, n)
    expect(gateNotes.render()).toEqual([...notes])
    expect(gateNotes.count()).toBe(count)
  })

  test("a long note is cut", () => {
    const gateNotes = makeGateNotes()
    gateNotes.add({ note: `skipped: 1.0.0 not signed (${"x".repeat(500)})`, kind: "not signed" })
    const [note] = gateNotes.render()
    expect(note?.length).toBe(200)
    expect(note?.endsWith("…")).toBe(true)
  })
})
