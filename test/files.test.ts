/** Why a file could not be read, in a few words: no platform tags, no module names, the path not again. */
import { describe, expect, test } from "bun:test"
import { FileSystem } from "@effect/platform"
import { BadArgument, SystemError } from "@effect/platform/Error"
import { NodeContext } from "@effect/platform-node"
import { Effect, Redacted } from "effect"
import { fileProblem } from "../src/files.ts"
import { readProviderFile } from "../src/credentials/files.ts"
import { parseImageName } from "../src/domain/ImageRef.ts"
import { readTokenFile } from "../src/secretFile.ts"
import { providerConfig } from "./support/config.ts"
import { tempDir } from "./support/runner.ts"

const system = (reason: SystemError["reason"], description?: string) =>
  new SystemError({ reason, module: "FileSystem", method: "readFile", pathOrDescriptor: "/etc/x", ...(description === undefined ? {} : { description }) })

describe("fileProblem", () => {
  test.each([
    ["a missing file", system("NotFound", "ENOENT: no such file or directory, open '/etc/x'"), "no such file"],
    ["a file it may not read", system("PermissionDenied", "EACCES: permission denied, open '/etc/x'"), "permission denied"],
    ["a directory", system("BadResource", "EISDIR: illegal operation on a directory, read"), "is a directory"],
    ["a path through a file", system("Unknown", "ENOTDIR: not a directory, open '/etc/x/y'"), "a part of the path is not a directory"],
    ["a code without words of ours", system("Unknown", "ESTALE: stale file handle, open '/etc/x'"), "stale file handle"],
    ["NotFound without a description", system("NotFound"), "no such file"],
    ["nothing but the reason", system("Busy"), "Busy"],
    ["a bad argument", new BadArgument({ module: "FileSystem", method: "readFile", description: "the path holds a NUL" }), "the path holds a NUL"]
  ])("%s", (_, error, expected) => {
    expect(fileProblem(error)).toBe(expected)
    expect(fileProblem(error)).not.toContain("/etc/x")
    expect(fileProblem(error)).not.toContain("FileSystem")
  })

  test("what a real read says of a missing file and of a directory", async () => {
    const dir = tempDir("file-problem-")
    const problems = await Effect.runPromise(
      Effect.flatMap(FileSystem.FileSystem, (fs) =>
        Effect.all([`${dir}/missing`, dir].map((file) => Effect.flip(fs.readFileString(file)).pipe(Effect.map(fileProblem))))
      ).pipe(Effect.provide(NodeContext.layer))
    )
    expect(problems).toEqual(["no such file", "is a directory"])
  })
})

describe("the messages of a file that cannot be read name the setting and the file once", () => {
  const run = <A, E>(effect: Effect.Effect<A, E, FileSystem.FileSystem>) => Effect.runPromise(Effect.flip(effect).pipe(Effect.provide(NodeContext.layer)))
  const image = parseImageName("registry.test/app")

  test.each([
    [
      "a provider's passwordFile",
      () =>
        image._tag === "Right"
          ? run(readProviderFile(providerConfig({ name: "oci", username: "u", passwordFile: "/etc/x" }), image.right, "passwordFile", "/etc/x")).then((e) => e.message)
          : Promise.reject(new Error("bad image")),
      "cannot read passwordFile /etc/x: no such file"
    ],
    ["a token file", () => run(readTokenFile("--api-token-file", "/etc/x").pipe(Effect.map(Redacted.value))), "--api-token-file /etc/x: cannot read: no such file"]
  ])("%s", async (_, message, expected) => {
    const text = await message()
    expect(text).toContain(expected)
    expect(text.split("/etc/x")).toHaveLength(2)
    expect(text).not.toMatch(/SystemError|NotFound|FileSystem|ENOENT/)
  })
})
