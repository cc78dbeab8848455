import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { oneLine } from "../domain/foreignText.ts"

/** The probe file's name: hidden, and never a name a clone, a store or the kept dates use. */
const PROBE = ".readyz-probe"

/**
 * Why the data dir cannot take a write now, or None when it can: a runner that cannot write its
 * clones, tag stores or kept dates would fail every pass, so readiness says so. It writes and
 * removes a small file, since permissions alone do not tell (root, read-only mounts, a full disk).
 */
export const dataDirUnwritable = (dataDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const probe = path.join(dataDir, PROBE)
    return yield* fs.makeDirectory(dataDir, { recursive: true }).pipe(
      Effect.zipRight(fs.writeFileString(probe, "")),
      Effect.zipRight(fs.remove(probe)),
      Effect.as(Option.none<string>()),
      Effect.catchAll((e) => Effect.succeed(Option.some(oneLine(`data dir ${dataDir} is not writable: ${e.message}`))))
    )
  })
