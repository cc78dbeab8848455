/** Commit-signing keys made for a test, and `git verify-commit` with their public halves. */
import { execFile } from "node:child_process"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { tempDir } from "./tempDirs.ts"

const run = (command: string, args: ReadonlyArray<string>, options: { cwd?: string; env?: Record<string, string> } = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      command,
      [...args],
      { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

const must = async (command: string, args: ReadonlyArray<string>, options: { cwd?: string; env?: Record<string, string> } = {}) => {
  const out = await run(command, args, options)
  if (out.code !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${out.stderr}`)
  return out.stdout
}

/** How `git verify-commit` is told the public key: an allowed-signers file (ssh) or a GnuPG home that has it (OpenPGP). */
export type Verifier = { readonly format: "ssh"; readonly allowedSigners: string } | { readonly format: "openpgp"; readonly home: string }

export interface SigningKeys {
  readonly dir: string
  /** Unencrypted private key files, by format; each verifies with `verifier[format]`. */
  readonly key: { readonly ssh: string; readonly openpgp: string }
  readonly verifier: { readonly ssh: Verifier; readonly openpgp: Verifier }
  /** Verifiers that know only another key. */
  readonly otherVerifier: { readonly ssh: Verifier; readonly openpgp: Verifier }
  /** Keys protected by the passphrase "secret". */
  readonly locked: { readonly ssh: string; readonly openpgp: string }
  readonly sshPublicKey: string
  /** Ends the GnuPG agents that key generation started. */
  readonly stop: () => Promise<void>
}

export const EMAIL = "signer@example.com"

const sshKey = async (dir: string, name: string, type: string, passphrase = "") => {
  const file = join(dir, name)
  await must("ssh-keygen", ["-q", "-t", type, "-N", passphrase, "-C", EMAIL, "-f", file])
  return file
}

const allowedSigners = async (key: string) => {
  const file = `${key}.allowed`
  await writeFile(file, `${EMAIL} ${(await readFile(`${key}.pub`, "utf8")).trim()}\n`)
  return file
}

const gpg = (home: string, args: ReadonlyArray<string>, passphrase = "") =>
  must("gpg", ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase, ...args])

/** An OpenPGP key made by GnuPG (its default: RSA 3072) in a home of its own, exported in ASCII armor. */
const openPgpKey = async (dir: string, name: string, passphrase = "") => {
  const home = join(dir, `${name}-home`)
  await mkdir(home, { mode: 0o700 })
  const uid = `${name} <${name}@example.com>`
  await gpg(home, ["--quick-gen-key", uid, "default", "default", "never"], passphrase)
  const file = join(dir, `${name}.asc`)
  await writeFile(file, await gpg(home, ["--armor", "--export-secret-keys", `${name}@example.com`], passphrase))
  return { home, file }
}

export const makeSigningKeys = async (): Promise<SigningKeys> => {
  const dir = tempDir("signing-keys-")
  const [ssh, other, lockedSsh] = [await sshKey(dir, "ssh", "ed25519"), await sshKey(dir, "other", "ed25519"), await sshKey(dir, "locked", "ed25519", "secret")]
  const [pgp, otherPgp, lockedPgp] = [await openPgpKey(dir, "signer"), await openPgpKey(dir, "other"), await openPgpKey(dir, "locked", "secret")]
  return {
    dir,
    key: { ssh, openpgp: pgp.file },
    verifier: { ssh: { format: "ssh", allowedSigners: await allowedSigners(ssh) }, openpgp: { format: "openpgp", home: pgp.home } },
    otherVerifier: { ssh: { format: "ssh", allowedSigners: await allowedSigners(other) }, openpgp: { format: "openpgp", home: otherPgp.home } },
    locked: { ssh: lockedSsh, openpgp: lockedPgp.file },
    sshPublicKey: (await readFile(`${ssh}.pub`, "utf8")).trim(),
    stop: async () => {
      for (const home of [pgp.home, otherPgp.home, lockedPgp.home]) await run("gpgconf", ["--homedir", home, "--kill", "gpg-agent"])
    }
  }
}

/** `git verify-commit` of `oid` in the repository at `gitDir`, as a reader who trusts `verifier`'s key. */
export const verifyCommit = async (gitDir: string, oid: string, verifier: Verifier) => {
  const config = verifier.format === "ssh" ? ["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${verifier.allowedSigners}`] : []
  const env: Record<string, string> = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", ...(verifier.format === "openpgp" ? { GNUPGHOME: verifier.home } : {}) }
  const out = await run("git", [`--git-dir=${gitDir}`, ...config, "verify-commit", "--raw", oid], { env })
  return { ok: out.code === 0, output: `${out.stdout}${out.stderr}` }
}

export { run as runCommand }
