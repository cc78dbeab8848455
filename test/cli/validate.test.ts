/** `runner validate`'s cross-checks, in process: watcher files against the config's providers, git credential files. */
import { describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { validateFiles } from "../../src/validate.ts"
import { ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { writeFile } from "../support/runner.ts"
import { tempDir } from "../support/tempDirs.ts"

const validate = (configs: ReadonlyArray<string>, watchers: ReadonlyArray<string>) =>
  Effect.runPromise(validateFiles(configs, watchers).pipe(Effect.provide(NodeContext.layer)))

const setup = (git?: string) => {
  const dir = tempDir("runner-validate-")
  const config = writePipedConfig(dir, {
    repoId: "config",
    remote: "https://git.test/org/config.git",
    providers: ociProvider("registry", "https://gcr.io"),
    ...(git === undefined ? {} : { git })
  })
  const watcher = (provider: string) =>
    writeFile(dir, `${provider}.yaml`, watcherFile([{ image: "gcr.io/org/app", provider, filePath: "app.yaml", field: "image" }]))
  return { dir, config, watcher }
}

describe("runner validate", () => {
  test("a watcher file naming a provider the config does not declare is an error", async () => {
    const { config, watcher } = setup()
    const unknown = watcher("nowhere")
    const found = await validate([config], [watcher("registry"), unknown])
    expect(found.errors).toEqual([`${unknown}:5: provider "nowhere" is not declared in the config (known: registry)`])
  })

  test("without a config, a watcher file's providers cannot be checked", async () => {
    const { watcher } = setup()
    expect((await validate([], [watcher("nowhere")])).errors).toEqual([])
  })

  test.each(["passwordFile", "sshKeyFile"])("a missing spec.git.%s is a warning", async (key) => {
    const { dir, config } = setup(`    username: piped\n    ${key}: ${"/nonexistent/secret"}\n`)
    const found = await validate([config], [])
    expect(found.errors).toEqual([])
    expect(found.warnings).toEqual([expect.stringContaining(`${config}: cannot read spec.git.${key} /nonexistent/secret`)])
    // A file that is there is no warning.
    const present = setup(`    username: piped\n    ${key}: ${writeFile(dir, "secret", "s3cret\n")}\n`)
    expect((await validate([present.config], [])).warnings).toEqual([])
  })
})
