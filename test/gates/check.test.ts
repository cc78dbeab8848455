/** `runner validate`'s checks of the gates' files, in process. */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import type { GateConfig } from "../../src/config/model.ts"
import { checkGateFiles } from "../../src/gates/check.ts"
import { generateP256 } from "../support/cosign.ts"
import { pipelineOf } from "../support/inProcess.ts"
import { tempDir, writeFile } from "../support/runner.ts"

const gate = (cosign: GateConfig["cosign"]): GateConfig => ({ images: ["**"], pinDigest: true, source: { file: "piped.yaml", line: 12 }, ...(cosign === undefined ? {} : { cosign }) })
const check = (gates: ReadonlyArray<GateConfig>) => Effect.runPromise(checkGateFiles(pipelineOf({ gates })).pipe(Effect.provide(NodeContext.layer)))

describe("validate checks the gates' files", () => {
  const dir = tempDir("runner-gatecheck-")
  test("a readable cosign key passes", async () => {
    expect(await check([gate({ publicKeyFile: writeFile(dir, "cosign.pub", generateP256().publicKeyPem) })])).toEqual({ errors: [], warnings: [] })
  })

  test("a key file missing on this machine is a warning naming its gate", async () => {
    const { errors, warnings } = await check([gate({ publicKeyFile: `${dir}/missing.pub` })])
    expect(errors).toEqual([])
    expect(warnings[0]).toStartWith(`piped.yaml:12: gate: cannot read ${dir}/missing.pub`)
  })

  test("a file that is no key is refused without showing its content", async () => {
    const [error] = (await check([gate({ publicKeyFile: writeFile(dir, "garbage.pub", "hunter2 not a key\n") })])).errors
    expect(error).toContain("is not a usable cosign key")
    expect(error).not.toContain("hunter2")
  })

  test("a gate without cosign has no file to check", async () => {
    expect(await check([gate(undefined)])).toEqual({ errors: [], warnings: [] })
  })
})
