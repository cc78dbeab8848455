/** SSHSIG signatures made in process, checked by OpenSSH itself (`ssh-keygen -Y`), for each key type. */
import { describe, expect, test } from "bun:test"
import { Effect, Either, Redacted } from "effect"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { signerOf } from "../../src/git/signing.ts"
import { parseOpenSshKey } from "../../src/git/sshsig.ts"
import { runCommand } from "../support/signingKeys.ts"
import { tempDir } from "../support/tempDirs.ts"

const MESSAGE = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@example.com> 1700000000 +0000\n\nhello\n"

const keyOf = async (dir: string, name: string, args: ReadonlyArray<string>) => {
  const file = join(dir, name)
  const made = await runCommand("ssh-keygen", ["-q", ...args, "-N", "", "-C", "me@example.com", "-f", file])
  if (made.code !== 0) throw new Error(made.stderr)
  return file
}

const sign = async (key: string, message: string) => {
  const signer = await Effect.runPromise(signerOf(Redacted.make(await readFile(key, "utf8")), "ssh"))
  return signer.sign(new TextEncoder().encode(message))
}

/** `ssh-keygen -Y verify` of `signature` over `message`, as a reader who allows `key` in namespace `namespace`. */
const verify = async (dir: string, key: string, message: string, signature: string, namespace = "git") => {
  const allowed = join(dir, "allowed")
  await writeFile(allowed, `me@example.com ${(await readFile(`${key}.pub`, "utf8")).trim()}\n`)
  await writeFile(join(dir, "message"), message)
  await writeFile(join(dir, "message.sig"), signature)
  return runCommand("sh", ["-c", `ssh-keygen -Y verify -f allowed -I me@example.com -n ${namespace} -s message.sig < message`], { cwd: dir })
}

describe("SSHSIG in process", () => {
  test.each([
    ["Ed25519", ["-t", "ed25519"]],
    ["ECDSA P-256", ["-t", "ecdsa", "-b", "256"]],
    ["ECDSA P-384", ["-t", "ecdsa", "-b", "384"]],
    ["ECDSA P-521", ["-t", "ecdsa", "-b", "521"]],
    ["RSA", ["-t", "rsa", "-b", "3072"]]
  ] as const)("%s: the signature verifies with ssh-keygen -Y verify, and only for its message and namespace", async (_, args) => {
    const dir = tempDir("sshsig-")
    const key = await keyOf(dir, "key", args)
    const signature = await sign(key, MESSAGE)
    const good = await verify(dir, key, MESSAGE, signature)
    expect(good.stdout).toContain('Good "git" signature for me@example.com')
    expect(good.code).toBe(0)
    expect((await verify(dir, key, `${MESSAGE}changed\n`, signature)).code).not.toBe(0)
    expect((await verify(dir, key, MESSAGE, signature, "file")).code).not.toBe(0)
  }, 30_000)

  test("an Ed25519 signature is byte for byte what ssh-keygen -Y sign makes", async () => {
    const dir = tempDir("sshsig-")
    const key = await keyOf(dir, "key", ["-t", "ed25519"])
    await writeFile(join(dir, "message"), MESSAGE)
    const signed = await runCommand("ssh-keygen", ["-Y", "sign", "-n", "git", "-f", key, join(dir, "message")])
    expect(signed.code).toBe(0)
    expect(await sign(key, MESSAGE)).toBe(await readFile(join(dir, "message.sig"), "utf8"))
  }, 30_000)

  test("what the parser refuses: an encrypted key, a DSA key, bytes that are no key", async () => {
    const dir = tempDir("sshsig-")
    const decoded = async (file: string) => {
      const body = (await readFile(file, "utf8")).split("\n").filter((line) => !line.startsWith("-----")).join("")
      return Buffer.from(body, "base64")
    }
    const locked = join(dir, "locked")
    expect((await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-f", locked])).code).toBe(0)
    expect(parseOpenSshKey(await decoded(locked))).toEqual(Either.left("passphrase"))
    const dsa = await keyOf(dir, "dsa", ["-t", "dsa"])
    expect(parseOpenSshKey(await decoded(dsa))).toEqual(Either.left({ unsupported: "ssh-dss" }))
    expect(parseOpenSshKey(new TextEncoder().encode("openssh-key-v1\0"))).toEqual(Either.left("malformed"))
    expect(parseOpenSshKey(new TextEncoder().encode("hello"))).toEqual(Either.left("malformed"))
  }, 30_000)
})
