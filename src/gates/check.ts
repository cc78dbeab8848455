import { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import type { Pipeline } from "../config/model.ts"
import { parsePublicKey } from "./cosign.ts"
import { fileProblem } from "../files.ts"

/**
 * `runner validate`'s checks of the gates' files, as it checks credential files: a file that
 * cannot be read on this machine is a warning (it may exist only where the runner runs), one that
 * is there but is no key cosign signs with is an error. Messages name the gate and the file,
 * never the file's content.
 */
export const checkGateFiles = (
  pipeline: Pipeline
): Effect.Effect<{ readonly errors: ReadonlyArray<string>; readonly warnings: ReadonlyArray<string> }, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const errors: Array<string> = []
    const warnings: Array<string> = []
    for (const gate of pipeline.gates) {
      const where = `${gate.source.file}:${gate.source.line}: gate`
      const file = gate.cosign?.publicKeyFile ?? gate.cosign?.trustedRootFile
      if (file === undefined) continue
      const text = yield* Effect.either(fs.readFileString(file))
      if (Either.isLeft(text)) {
        warnings.push(`${where}: cannot read ${file}: ${fileProblem(text.left)}`)
        continue
      }
      if (gate.cosign?.publicKeyFile !== undefined) {
        const key = parsePublicKey(text.right)
        if (Either.isLeft(key)) errors.push(`${where}: ${file} is not a usable cosign key: ${key.left}`)
      }
    }
    return { errors, warnings }
  })
