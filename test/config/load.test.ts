import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { Effect, Either } from "effect"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadPipelines } from "../../src/config/load.ts"

let dir = ""
const piped = (body = "  {}\n") => `apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n${body}`

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "config-load-"))
  const files: Record<string, string> = {
    "conf/b.yaml": piped(),
    "conf/a.yml": piped() + "---\n" + piped(),
    "conf/watcher.yaml": "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec: {}\n",
    "conf/notes.txt": "not yaml: [",
    "conf/nested/c.yaml": piped(),
    "single.yaml": piped(),
    "broken.yaml": piped("  git: {user: x}\n"),
    "other.yaml": "apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec: {}\n",
    "empty/.keep": "",
    "locked.yaml": piped()
  }
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  chmodSync(join(dir, "locked.yaml"), 0o000)
}, SERVER_HOOK_TIMEOUT)

afterAll(() => rmSync(dir, { recursive: true, force: true }), SERVER_HOOK_TIMEOUT)

const load = (...paths: ReadonlyArray<string>) =>
  Effect.runPromise(loadPipelines(paths.map((p) => join(dir, p))).pipe(Effect.either, Effect.provide(NodeFileSystem.layer)))

const strip = (text: string) => text.replaceAll(`${dir}/`, "")

describe("loadPipelines", () => {
  const ok: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
    ["a file", ["single.yaml"], ["single.yaml"]],
    ["a directory: its YAML files in name order, not recursive", ["conf"], ["conf/a.yml#1", "conf/a.yml#2", "conf/b.yaml"]],
    ["a directory with a trailing slash", ["conf/"], ["conf/a.yml#1", "conf/a.yml#2", "conf/b.yaml"]],
    ["several paths, in order", ["single.yaml", "conf/b.yaml", "other.yaml"], ["single.yaml", "conf/b.yaml"]]
  ]
  test.each(ok)("%s", async (_, paths, names) => {
    const result = await load(...paths)
    if (Either.isLeft(result)) throw result.left
    expect(result.right.map((p) => strip(p.name))).toEqual([...names])
  })

  const bad: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
    ["a missing file", ["missing.yaml", "single.yaml"], ["missing.yaml: no such file or directory"]],
    ["a decoding error, with the other files still read", ["broken.yaml", "missing.yaml"], [
      "broken.yaml:4: spec.git.user: unknown key (allowed: username, email, sshKeyFile, passwordFile, sshKeyData, password, signingKeyFile, signingFormat, knownHostsFile, host, hostName, sshConfigFilePath)",
      "missing.yaml: no such file or directory"
    ]],
    ["files without Piped documents", ["other.yaml", "empty"], ["other.yaml, empty: no `kind: Piped` document found"]]
  ]
  test.each(bad)("%s", async (_, paths, messages) => {
    const result = await load(...paths)
    if (Either.isRight(result)) throw new Error("expected errors")
    expect(result.left._tag).toBe("ConfigErrors")
    expect(result.left.errors.map((e) => strip(e.display))).toEqual([...messages])
    expect(strip(result.left.message)).toBe(messages.join("\n"))
  })

  test.skipIf(process.getuid?.() === 0)("an unreadable file", async () => {
    const result = await load("locked.yaml")
    expect(Either.isLeft(result) && result.left.errors.map((e) => strip(e.display))).toEqual(["locked.yaml: permission denied"])
  })
})
