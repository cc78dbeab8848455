/**
 * A real OpenSSH server on loopback: Debian's `/usr/sbin/sshd` in the foreground with its own
 * config, a host key made for the run, and one authorized client key. It serves git over ssh
 * (git-upload-pack and git-receive-pack from PATH) for bare repositories on disk, reached by
 * absolute path. Tests run as root, the one account sure to exist, so the ssh user is root.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./registry.ts"

export const SSHD = "/usr/sbin/sshd"

export type KeyType = "ed25519" | "rsa" | "ecdsa"

export interface PublicKey {
  /** `ssh-ed25519`, `ssh-rsa`, ... */
  readonly type: string
  /** The key, base64, as a known-hosts line holds it. */
  readonly key: string
  /** `SHA256:...`, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string
}

export interface TestSshd {
  readonly port: number
  readonly user: string
  /** The private key sshd lets in (a file, mode 0600). */
  readonly clientKeyFile: string
  /** The host key sshd presents now. */
  readonly hostKey: () => PublicKey
  /** The known-hosts line that trusts the current host key: `[127.0.0.1]:PORT type key`. */
  readonly knownHostsLine: () => string
  /** How ssh names this server in its messages and in known-hosts files: `[127.0.0.1]:PORT`. */
  readonly hostName: string
  /** `ssh://root@127.0.0.1:PORT/abs/path` */
  readonly url: (path: string) => string
  /** Stops sshd and starts it again on the same port with a new host key of `type`. */
  readonly restartWithNewHostKey: (type?: KeyType) => Promise<void>
  /** A new key pair, its public key not authorized: `{ file, fingerprint }`. */
  readonly otherKey: (type?: KeyType) => Promise<PublicKey & { readonly file: string }>
  /** What sshd logged, for a failing test to show. */
  readonly log: () => string
  readonly stop: () => Promise<void>
}

const run = (command: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) => {
    execFile(command, [...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`))
      else resolve(stdout)
    })
  })

/** A new key pair at `file` (and `file.pub`), without passphrase; its fingerprint as `ssh-keygen -l` prints it. */
export const makeKey = async (file: string, type: KeyType = "ed25519"): Promise<PublicKey> => {
  await run("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", "runner-test", "-f", file])
  const [keyType = "", key = ""] = (await readFile(`${file}.pub`, "utf8")).trim().split(/\s+/)
  const fingerprint = (await run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`])).split(/\s+/)[1] ?? ""
  return { type: keyType, key, fingerprint }
}

const config = (dir: string, hostKeyFile: string) =>
  [
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyFile}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "StrictModes no",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PidFile none",
    // The session runs git-upload-pack / git-receive-pack, found where this process finds git.
    `SetEnv PATH=${process.env.PATH ?? "/usr/bin:/bin"}`,
    ""
  ].join("\n")

/** Starts sshd and resolves once it listens; rejects with its log if it exits first. */
const launch = (configFile: string, port: number, onLog: (text: string) => void) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(SSHD, ["-D", "-e", "-f", configFile, "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] })
    let log = ""
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 10s:\n${log}`)), 10_000)
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8")
      log += text
      onLog(text)
      if (log.includes("Server listening on")) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`sshd exited with ${code}:\n${log}`))
    })
  })

const stopped = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

export const startSshd = async (): Promise<TestSshd> => {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server (.ci/run does)`)
  // sshd insists on its privilege separation directory, which only the system service creates.
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 })
  const dir = await mkdtemp(join(tmpdir(), "sshd-"))
  const clientKeyFile = join(dir, "client")
  await makeKey(clientKeyFile)
  await writeFile(join(dir, "authorized_keys"), await readFile(`${clientKeyFile}.pub`))
  const port = await freePort()
  let generation = 0
  let hostKey: PublicKey = { type: "", key: "", fingerprint: "" }
  let log = ""
  let child: ChildProcess | undefined

  const startWith = async (type: KeyType) => {
    const hostKeyFile = join(dir, `host-${++generation}`)
    hostKey = await makeKey(hostKeyFile, type)
    const configFile = join(dir, `sshd_config-${generation}`)
    await writeFile(configFile, config(dir, hostKeyFile))
    child = await launch(configFile, port, (text) => (log += text))
  }
  await startWith("ed25519")

  return {
    port,
    user: "root",
    clientKeyFile,
    hostKey: () => hostKey,
    knownHostsLine: () => `[127.0.0.1]:${port} ${hostKey.type} ${hostKey.key}`,
    hostName: `[127.0.0.1]:${port}`,
    url: (path) => `ssh://root@127.0.0.1:${port}${path}`,
    restartWithNewHostKey: async (type = "ed25519") => {
      if (child !== undefined) await stopped(child)
      await startWith(type)
    },
    otherKey: async (type = "ed25519") => {
      const file = join(dir, `other-${++generation}`)
      return { file, ...(await makeKey(file, type)) }
    },
    log: () => log,
    stop: async () => {
      if (child !== undefined) await stopped(child)
      await rm(dir, { recursive: true, force: true })
    }
  }
}
