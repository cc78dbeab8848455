import { Data, Effect, Schedule } from "effect"
import { GitFailure } from "../domain/failures.ts"
import type { Checkout, GitError } from "../git/GitRepo.ts"

/** Another writer moved the branch since the checkout was synced. */
export class PushRejected extends Data.TaggedError("PushRejected")<{ readonly reason: string }> {}

export const PUSH_ATTEMPTS = 5

/** Another writer moved the branch: fetch, recompute, push again, a few times with growing pauses. */
const pushRetry = Schedule.exponential("250 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(PUSH_ATTEMPTS - 1))
)

/** The push stage: all of a repository's new commits in one plain push, never forced. */
export const pushCommits = (checkout: Checkout): Effect.Effect<void, GitError | PushRejected> =>
  Effect.flatMap(checkout.push, (pushed) => (pushed._tag === "Rejected" ? new PushRejected({ reason: pushed.reason }) : Effect.void))

/**
 * Runs a repository's attempt again from the new tip, up to `PUSH_ATTEMPTS` times in all, while
 * pushes are rejected because the branch moved; nothing another writer pushed is ever lost.
 */
export const retryOnRejectedPush = <A, E, R>(repoId: string, attempt: Effect.Effect<A, E | PushRejected, R>) =>
  attempt.pipe(
    Effect.tapError((e) =>
      e instanceof PushRejected
        ? Effect.logInfo(`push rejected (${e.reason}); fetching and recomputing`).pipe(Effect.annotateLogs({ repo: repoId }))
        : Effect.void
    ),
    Effect.retry({ schedule: pushRetry, while: (e) => e instanceof PushRejected })
  )

/** What a repository's failure to clone, fetch, read, commit or push is reported as. */
export const gitFailure = (e: GitError | PushRejected): GitFailure =>
  e._tag === "PushRejected"
    ? new GitFailure({ operation: "push", kind: "race", detail: `push rejected ${PUSH_ATTEMPTS} times, the branch kept moving: ${e.reason}` })
    : new GitFailure({ operation: e.operation, kind: e.kind, detail: e.message })
