import { Cause, Exit } from "effect"

/** Exit codes of the contract. */
export const OK = 0
export const FAILED = 1
export const UNUSABLE = 2
/** Stopped by SIGINT or SIGTERM before the work was done (128 + SIGINT, as shells report it). */
export const INTERRUPTED = 130

/**
 * The process's exit code once the program ended. An interrupt alone (SIGINT/SIGTERM) ends a
 * service cleanly, but leaves a `--once` pass, a validation or a registration unfinished. A defect
 * is a failure, even when it interrupted the fibers running beside it on its way out: only an
 * interruption and nothing else is 130.
 */
export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>, isService: boolean): number => {
  if (Exit.isSuccess(exit)) return typeof exit.value === "number" ? exit.value : OK
  return Cause.isInterruptedOnly(exit.cause) ? (isService ? OK : INTERRUPTED) : FAILED
}
