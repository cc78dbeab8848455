/**
 * What the runner remembers of its own requests in a repository, in the data dir: those it left
 * open with the changes they propose (a merge found later is recorded as written, so a rollback is
 * obeyed), and those it closed itself (superseded, or replaced after a conflict), which are not a
 * person's refusal. Lost, the requests still are found by their marker: a request the runner closed
 * then reads as declined, which writes less, never more.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Schema } from "effect"
import { readDataFile, writeDataFile } from "../dataFile.ts"

const Change = Schema.Struct({ filePath: Schema.String, field: Schema.String, image: Schema.String, tag: Schema.String })
export type RequestChange = typeof Change.Type

const Stored = Schema.Struct({
  open: Schema.Record({ key: Schema.String, value: Schema.Struct({ branch: Schema.String, changes: Schema.Array(Change) }) }),
  closed: Schema.Record({ key: Schema.String, value: Schema.Literal("superseded", "replaced") })
})

export type ClosedBecause = "superseded" | "replaced"

export interface RequestLog {
  /** By request number. */
  readonly open: Map<number, { readonly branch: string; readonly changes: ReadonlyArray<RequestChange> }>
  readonly closed: Map<number, ClosedBecause>
}

/** Requests the runner closed, kept at most: the oldest numbers go first. */
const MAX_CLOSED = 2_000

const fileOf = (path: Path.Path, dataDir: string, repoId: string) => path.join(dataDir, "requests", `${encodeURIComponent(repoId)}.json`)

export const readRequestLog = (dataDir: string, repoId: string): Effect.Effect<RequestLog, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const stored = yield* readDataFile(fileOf(path, dataDir, repoId), Stored, "the requests opened")
    return {
      open: new Map(Object.entries(stored?.open ?? {}).map(([n, r]) => [Number(n), r] as const)),
      closed: new Map(Object.entries(stored?.closed ?? {}).map(([n, why]) => [Number(n), why] as const))
    }
  })

/** Writes the log whole; a failure is a warning: the requests themselves are on the host. */
export const writeRequestLog = (dataDir: string, repoId: string, log: RequestLog): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const file = fileOf(yield* Path.Path, dataDir, repoId)
    const closed = [...log.closed].sort(([a], [b]) => b - a).slice(0, MAX_CLOSED)
    yield* writeDataFile(file, { open: Object.fromEntries(log.open), closed: Object.fromEntries(closed) }).pipe(
      Effect.catchAll((e) => Effect.logWarning(`cannot keep the requests opened in ${file}: ${e.message}`))
    )
  })
