import { FileSystem } from "@effect/platform"
import { Clock, Duration, Effect, Either, Option, Schedule, Schema, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import { GitError } from "./GitError.ts"

/** Who holds a clone: what `<clone>.lock` says. */
const Holder = Schema.parseJson(Schema.Struct({ pid: Schema.Number, host: Schema.String, since: Schema.Number, run: Schema.String }))
type Holder = typeof Holder.Type

/** This process, told apart from an earlier one with the same pid (a restarted container is pid 1 again). */
const thisRun = randomUUID()

/** How long a second runner waits for a clone another one holds, and how often it looks. */
export const LOCK_WAIT = Duration.seconds(30)
const LOCK_POLL = Duration.millis(250)

/** Whether a pid is alive on this host: signal 0 checks without signalling (EPERM: alive, someone else's). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM"
  }
}

/**
 * A lock left by a process that is gone: on this host, its pid not alive, or our own pid from an
 * earlier run. A holder on another host (a shared volume) is never judged: it is waited for.
 */
const isStale = (holder: Holder): boolean =>
  holder.host === hostname() && (holder.pid === process.pid ? holder.run !== thisRun : !isAlive(holder.pid))

const describe = (holder: Holder): string =>
  `pid ${holder.pid} on ${holder.host}${holder.pid === process.pid && holder.run === thisRun ? " (this runner)" : ""}, since ${new Date(holder.since).toISOString()}`

/** The lock is taken: by this holder, or by nobody known yet (look again). */
class Held {
  readonly _tag = "Held"
  constructor(readonly holder: Option.Option<Holder>) {}
}

/**
 * Takes the clone's lock, `<dir>.lock` created exclusively, for the rest of the scope: two runners
 * (or two passes of one) sharing a data dir never work in one clone at once, and while it is held no
 * other runner's git is running there, so git's own lock files in it are leftovers of a crash. A
 * runner waits for the holder up to `wait`, polling, then fails naming it; a lock whose process is
 * gone is taken over. (Two runners taking over the same dead lock at the same instant could both
 * remove it; the window is the time between reading and removing one file.)
 */
export const holdCloneLock = (
  repoId: string,
  dir: string,
  wait: Duration.DurationInput = LOCK_WAIT
): Effect.Effect<void, GitError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = `${dir}.lock`
    const fail = (detail: string, kind: GitError["kind"] = "other") => new GitError({ repoId, operation: "clone", kind, detail })
    const readHolder = fs.readFileString(file).pipe(Effect.map(Schema.decodeEither(Holder)), Effect.either)

    const take = Effect.gen(function*() {
      const me: Holder = { pid: process.pid, host: hostname(), since: yield* Clock.currentTimeMillis, run: thisRun }
      const created = yield* fs.writeFileString(file, JSON.stringify(me), { flag: "wx" }).pipe(Effect.either)
      if (Either.isRight(created)) return me
      if (created.left._tag !== "SystemError" || created.left.reason !== "AlreadyExists") {
        return yield* fail(`cannot create ${file}: ${created.left.message}`)
      }
      const read = yield* readHolder
      // Gone between our create and read: the next look takes it.
      if (Either.isLeft(read)) return yield* Effect.fail(new Held(Option.none()))
      // Unreadable: a process died between creating the file and writing it.
      if (Either.isRight(read.right) && !isStale(read.right.right)) return yield* Effect.fail(new Held(Option.some(read.right.right)))
      yield* Effect.logWarning(`taking over ${file}, left by a process that is gone`).pipe(Effect.annotateLogs({ repo: repoId }))
      yield* fs.remove(file, { force: true }).pipe(Effect.mapError((e) => fail(`cannot remove ${file}: ${e.message}`)))
      return yield* Effect.fail(new Held(Option.none()))
    })

    yield* fs.makeDirectory(`${dir}/..`, { recursive: true }).pipe(Effect.mapError((e) => fail(`cannot create the directory of ${dir}: ${e.message}`)))
    let logged = false
    const me = yield* take.pipe(
      Effect.tapError((e) =>
        e instanceof Held && Option.isSome(e.holder) && !logged
          ? Effect.sync(() => (logged = true)).pipe(
            Effect.zipRight(Effect.logInfo(`waiting for ${file}, held by ${Option.match(e.holder, { onNone: () => "", onSome: describe })}`)),
            Effect.annotateLogs({ repo: repoId })
          )
          : Effect.void
      ),
      Effect.retry({
        schedule: Schedule.spaced(LOCK_POLL).pipe(Schedule.upTo(wait)),
        while: (e) => e instanceof Held
      }),
      Effect.catchIf((e): e is Held => e instanceof Held, (e) =>
        Effect.flatMap(readHolder, (read) => {
          const holder = Either.isRight(read) && Either.isRight(read.right) ? Option.some(read.right.right) : e.holder
          const who = Option.match(holder, { onNone: () => "another runner", onSome: describe })
          // Another runner's pass in the clone: the next pass finds it free.
          return fail(`the clone ${dir} is in use by ${who} (lock file ${file}); gave up after ${Duration.format(wait)}`, "race")
        }))
    )
    // Only our own lock is removed: one taken over from us (after a hang past the bound) is not.
    yield* Effect.addFinalizer(() =>
      readHolder.pipe(
        Effect.flatMap((read) =>
          Either.isRight(read) && Either.isRight(read.right) && read.right.right.run === me.run && read.right.right.pid === me.pid
            ? fs.remove(file, { force: true })
            : Effect.void
        ),
        Effect.ignore
      )
    )
  })
