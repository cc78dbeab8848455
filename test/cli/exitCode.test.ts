import { describe, expect, test } from "bun:test"
import { Cause, Exit, FiberId } from "effect"
import { exitCodeOf } from "../../src/exitCodes.ts"

const interrupted = Cause.interrupt(FiberId.none)
const defect = Cause.die(new Error("boom"))

describe("exitCodeOf", () => {
  test.each([
    ["the code the program returned", Exit.succeed(2), false, 2],
    ["a defect", Exit.failCause(defect), false, 1],
    // A defect in one of several fibers interrupts the others: still a defect, not a SIGINT.
    ["a defect beside the interruptions it caused", Exit.failCause(Cause.parallel(defect, interrupted)), false, 1],
    ["a defect beside interruptions, in a service", Exit.failCause(Cause.parallel(interrupted, defect)), true, 1],
    ["SIGINT during --once", Exit.failCause(interrupted), false, 130],
    ["SIGTERM stopping a service", Exit.failCause(interrupted), true, 0]
  ] as const)("%s", (_name, exit, isService, code) => {
    expect(exitCodeOf(exit, isService)).toBe(code)
  })
})
