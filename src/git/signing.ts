import { FileSystem } from "@effect/platform"
import { createHash } from "node:crypto"
import { Effect, Either, Redacted } from "effect"
import type { Pipeline } from "../config/model.ts"
import type { Author, Signer, SigningFormat } from "./repoTypes.ts"
import { identPart } from "./commitBatch.ts"
import { type KeyProblem, parseOpenSshKey, sshsig } from "./sshsig.ts"
import { messageOf } from "../domain/foreignText.ts"
import { fileProblem, looseModeWarning } from "../files.ts"

export type { Signer, SigningFormat } from "./repoTypes.ts"

const KEY = "spec.git.signingKeyFile"

const PASSPHRASE = "the key is protected by a passphrase, which the runner cannot enter: use a key without one"

/** What else the file holds, by its armor, to say what to do instead. */
const otherKind = (text: string, format: SigningFormat): string => {
  if (text.includes("-----BEGIN PGP PRIVATE KEY BLOCK-----")) return "it holds an OpenPGP key: set spec.git.signingFormat: openpgp"
  if (text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")) return "it holds an OpenPGP public key, not the private key"
  if (text.includes("-----BEGIN OPENSSH PRIVATE KEY-----")) return "it holds an ssh key: set spec.git.signingFormat: ssh (the default)"
  if (/^(ssh-|ecdsa-sha2-|sk-)\S+ AAAA/m.test(text)) return "it holds an ssh public key, not the private key"
  if (/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
    return "it holds a PEM key: convert it to the OpenSSH format (ssh-keygen -p -f FILE rewrites it so)"
  }
  return format === "ssh" ? "it is not an OpenSSH private key" : "it is not an OpenPGP private key in ASCII armor"
}

const sshProblem = (problem: KeyProblem): string =>
  problem === "passphrase"
    ? PASSPHRASE
    : problem === "malformed"
    ? "it is not a well-formed OpenSSH private key"
    : "keys" in problem
    ? `it holds ${problem.keys} keys, and the runner signs with one`
    : `the runner cannot sign with keys of type ${problem.unsupported}: use an Ed25519, ECDSA or RSA key`

const sshSigner = (text: string): Either.Either<Signer, string> => {
  const armored = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text)
  if (armored?.[1] === undefined) return Either.left(otherKind(text, "ssh"))
  return Either.map(
    Either.mapLeft(parseOpenSshKey(Buffer.from(armored[1].replace(/\s+/g, ""), "base64")), sshProblem),
    (key): Signer => ({ format: "ssh", sign: (payload) => Promise.resolve(sshsig(key, payload, "git")) })
  )
}

const openPgpSigner = (text: string): Effect.Effect<Signer, string> =>
  Effect.gen(function* () {
    if (!text.includes("-----BEGIN PGP PRIVATE KEY BLOCK-----")) return yield* Effect.fail(otherKind(text, "openpgp"))
    // Loaded on first use: the library is large (tens of ms and MB at start-up), and most runners sign nothing.
    const openpgp = yield* Effect.tryPromise(() => import("openpgp")).pipe(Effect.mapError((e) => `cannot load OpenPGP support: ${messageOf(e)}`))
    // openpgp's parse errors are about the armor and packets, never their bytes; still, none is shown.
    const key = yield* Effect.tryPromise(() => openpgp.readPrivateKey({ armoredKey: text })).pipe(
      Effect.mapError(() => "it is not a well-formed OpenPGP private key")
    )
    if (!key.isDecrypted()) return yield* Effect.fail(PASSPHRASE)
    // Binary, as `gpg --detach-sign` makes them for git: the commit is signed byte for byte.
    const sign = async (payload: Uint8Array) =>
      openpgp.sign({ message: await openpgp.createMessage({ binary: payload }), signingKeys: key, detached: true, format: "armored" })
    // An expired key, a key without a signing (sub)key, a subkey still locked: found now, not at the first commit.
    yield* Effect.tryPromise(() => sign(new Uint8Array())).pipe(Effect.mapError((e) => `the key cannot sign: ${messageOf(e)}`))
    return { format: "openpgp", sign } satisfies Signer
  })

/** A signer for `key`, in `format`; fails with why it cannot be one, never quoting the key. */
export const signerOf = (key: Redacted.Redacted<string>, format: SigningFormat): Effect.Effect<Signer, string> =>
  format === "ssh" ? Effect.suspend(() => sshSigner(Redacted.value(key))) : openPgpSigner(Redacted.value(key))

/** The signer for `spec.git.signingKeyFile`; its failures name the setting and the file. */
export const loadSigner = (file: string, format: SigningFormat): Effect.Effect<Signer, string, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((e) => `cannot read ${KEY} ${file}: ${fileProblem(e)}`),
      Effect.map(Redacted.make)
    )
    return yield* signerOf(text, format).pipe(Effect.mapError((reason) => `${KEY} ${file}: ${reason}`))
  })

/**
 * `runner validate`'s check of the signing key, as it checks credential files: a file that cannot
 * be read here is a warning (it may exist only where the runner runs), one that is no usable key an
 * error. Messages name the file, never its content.
 */
export const checkSigningKey = (
  pipeline: Pipeline
): Effect.Effect<{ readonly errors: ReadonlyArray<string>; readonly warnings: ReadonlyArray<string> }, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const file = pipeline.git.signingKeyFile
    if (file === undefined) return { errors: [], warnings: [] }
    const fs = yield* FileSystem.FileSystem
    const text = yield* Effect.either(fs.readFileString(file))
    if (Either.isLeft(text)) return { errors: [], warnings: [`${pipeline.file}: cannot read ${KEY} ${file}: ${fileProblem(text.left)}`] }
    const signer = yield* Effect.either(signerOf(Redacted.make(text.right), pipeline.git.signingFormat ?? "ssh"))
    const loose = yield* looseModeWarning(fs, file)
    return {
      errors: Either.isLeft(signer) ? [`${pipeline.file}: ${KEY} ${file}: ${signer.left}`] : [],
      warnings: loose === undefined ? [] : [`${pipeline.file}: ${KEY} ${loose}`]
    }
  })

/** A commit the runner writes: its parents (two for a merge), the same author and committer. */
export interface CommitFields {
  readonly tree: string
  readonly parents: ReadonlyArray<string>
  readonly author: Author
  readonly seconds: number
  readonly message: string
}

const encoder = new TextEncoder()

/** The commit object's text as git hashes it, unsigned: the signature's payload. */
export const commitText = ({ author, message, parents, seconds, tree }: CommitFields): string => {
  const ident = `${identPart(author.name)} <${identPart(author.email)}> ${seconds} +0000`
  const body = message.endsWith("\n") ? message : `${message}\n`
  return `tree ${tree}\n${parents.map((parent) => `parent ${parent}\n`).join("")}author ${ident}\ncommitter ${ident}\n\n${body}`
}

/**
 * The commit with `signature` in a `gpgsig` header after the others, each line after the first
 * indented by a space (an empty line becomes a lone space), as `git commit -S` writes it: git
 * removes the header again to get the signed payload back.
 */
export const withSignature = (text: string, signature: string): string => {
  const end = text.indexOf("\n\n") + 1
  const header = `gpgsig ${signature.replace(/\n+$/, "").split("\n").join("\n ")}\n`
  return `${text.slice(0, end)}${header}${text.slice(end)}`
}

/** A signed commit object: its bytes, and the id git gives them (SHA-1 of `commit <length>\0` and the bytes). */
export const signedCommit = async (signer: Signer, fields: CommitFields): Promise<{ readonly oid: string; readonly bytes: Uint8Array }> => {
  const text = commitText(fields)
  const bytes = encoder.encode(withSignature(text, await signer.sign(encoder.encode(text))))
  const oid = createHash("sha1").update(`commit ${bytes.length}\0`).update(bytes).digest("hex")
  return { oid, bytes }
}
