import { Command, type CommandExecutor, FileSystem } from "@effect/platform"
import { createHash } from "node:crypto"
import { Duration, Effect, Either, Encoding, Option } from "effect"
import { fileProblem } from "../files.ts"
import { GitError } from "./GitError.ts"
import type { Checkout, RepoSpec } from "./repoTypes.ts"
import { isSshRemote } from "./remote.ts"
import type { SshSettings } from "./sshConfig.ts"

/** One key of a known-hosts file. */
export interface KnownHost {
  /** The host names as written: `host` or `[host]:port`, comma-separated. */
  readonly hosts: string
  readonly type: string
  readonly key: string
}

/** The entry of a known-hosts line (a `@revoked` or `@cert-authority` marker dropped); None for comments and blanks. */
export const parseKnownHost = (line: string): Option.Option<KnownHost> => {
  const fields = line.trim().split(/\s+/)
  const [hosts, type, key] = fields[0]?.startsWith("@") === true ? fields.slice(1) : fields
  return hosts === undefined || hosts === "" || hosts.startsWith("#") || type === undefined || key === undefined
    ? Option.none()
    : Option.some({ hosts, type, key })
}

export const parseKnownHosts = (text: string): ReadonlyArray<KnownHost> =>
  text.split("\n").flatMap((line) => Option.toArray(parseKnownHost(line)))

/** What is wrong with the lines of a known-hosts file, each as `line N: why`; none for a usable file. */
export const knownHostsProblems = (text: string): ReadonlyArray<string> =>
  text.split(/\r?\n/).flatMap((raw, index) => {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) return []
    const entry = parseKnownHost(line)
    const at = `line ${index + 1}`
    if (Option.isNone(entry)) return [`${at}: expected "HOSTS KEY-TYPE BASE64-KEY", as ssh-keyscan prints it`]
    const { type, key } = entry.value
    if (!/^(ssh-|ecdsa-|sk-)/.test(type)) return [`${at}: "${type.slice(0, 40)}" is not an ssh key type (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...)`]
    return Option.isNone(fingerprint(key)) ? [`${at}: the key is not base64`] : []
  })

/**
 * `runner validate`'s check of `spec.git.knownHostsFile`, the only keys ssh will trust: a file that
 * cannot be read here is a warning (it may exist only where the runner runs), lines ssh cannot use
 * are errors, and a file without a key a warning, since it refuses every host.
 */
export const checkKnownHostsFile = (
  pipeline: { readonly file: string; readonly git: { readonly knownHostsFile?: string } }
): Effect.Effect<{ readonly errors: ReadonlyArray<string>; readonly warnings: ReadonlyArray<string> }, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const file = pipeline.git.knownHostsFile
    if (file === undefined) return { errors: [], warnings: [] }
    const fs = yield* FileSystem.FileSystem
    const at = `${pipeline.file}: spec.git.knownHostsFile ${file}`
    const text = yield* Effect.either(fs.readFileString(file))
    if (Either.isLeft(text)) return { errors: [], warnings: [`${pipeline.file}: cannot read spec.git.knownHostsFile ${file}: ${fileProblem(text.left)}`] }
    const problems = knownHostsProblems(text.right)
    if (problems.length > 0) return { errors: problems.map((problem) => `${at}: ${problem}`), warnings: [] }
    return parseKnownHosts(text.right).length === 0
      ? { errors: [], warnings: [`${at}: holds no host key, so every ssh host is refused`] }
      : { errors: [], warnings: [] }
  })

/** `SHA256:<unpadded base64>` of a key, as `ssh-keygen -l` prints it; None when the key is no base64. */
export const fingerprint = (key: string): Option.Option<string> =>
  Either.match(Encoding.decodeBase64(key), {
    onLeft: () => Option.none(),
    onRight: (blob) => Option.some(`SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`)
  })

/** A key type as ssh's own messages name it ("ED25519" for ssh-ed25519). */
const typeName = (type: string): string =>
  type === "ssh-ed25519" ? "ED25519"
  : type === "ssh-rsa" ? "RSA"
  : type === "ssh-dss" ? "DSA"
  : type.startsWith("ecdsa-sha2-") ? "ECDSA"
  : type.startsWith("sk-ssh-ed25519") ? "ED25519-SK"
  : type.startsWith("sk-ecdsa-") ? "ECDSA-SK"
  : type

/** "ED25519 key SHA256:..." */
export const describeKey = (entry: Pick<KnownHost, "type" | "key">): string =>
  `${typeName(entry.type)} key ${Option.getOrElse(fingerprint(entry.key), () => "(unreadable)")}`

/** Why ssh refused a host, read from its messages. */
export type Refusal =
  | {
    readonly _tag: "Changed"
    readonly host: string
    /** "ED25519 key SHA256:..." as the server sent it. */
    readonly now: string
    /** The file and line of the key it contradicts. */
    readonly file: string
    readonly line: number
  }
  | { readonly _tag: "Unknown"; readonly host: string; readonly type: string }
  | { readonly _tag: "NoUser"; readonly uid: string }

/** The refusal in ssh's messages (as git passes them on), if the host key or the user was the reason. */
export const parseRefusal = (text: string): Option.Option<Refusal> => {
  const changed = /Host key for (\S+) has changed/.exec(text)
  const sent = /The fingerprint for the (\S+) key sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(text)
  const offending = /Offending \S+ key in (.+):(\d+)\s*$/m.exec(text)
  if (changed?.[1] !== undefined && sent?.[1] !== undefined && sent[2] !== undefined && offending?.[1] !== undefined) {
    const [host, now, file] = [changed[1], `${sent[1]} key ${sent[2]}`, offending[1]]
    return Option.some({ _tag: "Changed", host, now, file, line: Number(offending[2]) })
  }
  const unknown = /No (\S+) host key is known for (\S+) and you have requested strict checking/.exec(text)
  if (unknown?.[1] !== undefined && unknown[2] !== undefined) return Option.some({ _tag: "Unknown", host: unknown[2], type: unknown[1] })
  const noUser = /No user exists for uid (\d+)/.exec(text)
  return noUser?.[1] === undefined ? Option.none() : Option.some({ _tag: "NoUser", uid: noUser[1] })
}

const readText = (fs: FileSystem.FileSystem, file: string) => fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))

/** `[host]:port` or `host` (port 22), as ssh names a host in its messages. */
const hostPort = (host: string): { readonly name: string; readonly port: string } => {
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(host)
  return bracketed?.[1] !== undefined && bracketed[2] !== undefined ? { name: bracketed[1], port: bracketed[2] } : { name: host, port: "22" }
}

/** The key of `type` that the host offers now, asked with `ssh-keyscan`; None when it cannot be had. */
const scannedKey = (host: string, type: string) => {
  const { name, port } = hostPort(host)
  return Command.lines(Command.make("ssh-keyscan", "-T", "10", "-t", type.toLowerCase(), "-p", port, "--", name)).pipe(
    Effect.timeout(Duration.seconds(15)),
    Effect.map((lines) => Option.flatMap(Option.fromNullable(lines.map(parseKnownHost).find(Option.isSome)), (entry) => entry)),
    Effect.orElseSucceed(() => Option.none<KnownHost>())
  )
}

/** What the user needs to hear about a refusal: the host, both keys' fingerprints, and what to do. */
const explain = (refusal: Refusal, settings: SshSettings) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    switch (refusal._tag) {
      case "Changed": {
        const line = (yield* readText(fs, refusal.file)).split("\n")[refusal.line - 1] ?? ""
        const was = Option.match(parseKnownHost(line), { onNone: () => `the key at ${refusal.file}:${refusal.line}`, onSome: describeKey })
        return settings.strict
          ? `host key of ${refusal.host} does not match spec.git.knownHostsFile (${settings.knownHostsFile} holds ${was}, the server sent ${refusal.now}): not connecting`
          : `host key of ${refusal.host} changed (was ${was}, now ${refusal.now}): not connecting — remove the old key from ${settings.knownHostsFile} if the change is expected`
      }
      case "Unknown": {
        const offered = Option.match(yield* scannedKey(refusal.host, refusal.type), {
          onNone: () => `its ${refusal.type} key`,
          onSome: (entry) => `its ${describeKey(entry)}`
        })
        return `host key of ${refusal.host} is unknown: spec.git.knownHostsFile (${settings.knownHostsFile}) does not list the host, so ${offered} is not trusted: not connecting — add the key there if it is the right host`
      }
      case "NoUser":
        return `ssh cannot run as uid ${refusal.uid}: the uid has no entry in the password database; run the runner as a user that has one`
    }
  })

/**
 * Host keys ssh added to the runner's known-hosts file and nobody was told of yet, by file and
 * entry: concurrent clones from one new host each see its key appear, and it is said once.
 */
const announced = new Set<string>()

/** A warning for each key that appeared in the known-hosts file since `before`: trust given on first use. */
const announceNew = (settings: SshSettings, before: string, repoId: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const earlier = new Set(parseKnownHosts(before).map((e) => `${e.hosts} ${e.type} ${e.key}`))
    for (const entry of parseKnownHosts(yield* readText(fs, settings.knownHostsFile))) {
      const id = `${entry.hosts} ${entry.type} ${entry.key}`
      if (earlier.has(id) || announced.has(`${settings.knownHostsFile}\u0000${id}`)) continue
      announced.add(`${settings.knownHostsFile}\u0000${id}`)
      yield* Effect.logWarning(
        `trusting ssh host ${entry.hosts} on first use with its ${describeKey(entry)}, remembered in ${settings.knownHostsFile}; ` +
          "a different key later fails the repository. Set spec.git.knownHostsFile to trust only the keys you list"
      ).pipe(Effect.annotateLogs({ repoId, host: entry.hosts, fingerprint: Option.getOrElse(fingerprint(entry.key), () => "") }))
    }
  })

/** One operation that may reach the host: new host keys announced after it, ssh's refusals explained. */
const watch = <A, R>(operation: Effect.Effect<A, GitError, R>, settings: SshSettings, repoId: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const before = settings.strict ? "" : yield* readText(fs, settings.knownHostsFile)
    const result = yield* Effect.either(operation)
    if (!settings.strict) yield* announceNew(settings, before, repoId)
    if (Either.isRight(result)) return result.right
    const error = result.left
    const refusal = parseRefusal(error.detail)
    if (Option.isNone(refusal)) return yield* Effect.fail(error)
    const detail = yield* explain(refusal.value, settings)
    const kind = refusal.value._tag === "NoUser" ? "config" : "hostKey"
    return yield* Effect.fail(new GitError({ repoId: error.repoId, operation: error.operation, kind, detail }))
  })

/**
 * The checkout of an ssh remote with the runner's host key policy made visible: the operations
 * that reach the host (the first sync in opening, sync, push) say which host was trusted on first
 * use, and fail with one clear sentence, instead of ssh's banner, when a host key is unknown or
 * changed. Other remotes, and specs without ssh settings, are opened as they are.
 */
export const guardHostKeys = <R>(
  spec: RepoSpec,
  opening: Effect.Effect<Checkout, GitError, R>
): Effect.Effect<Checkout, GitError, R | FileSystem.FileSystem | CommandExecutor.CommandExecutor> => {
  const settings = spec.ssh
  if (settings === undefined || !isSshRemote(spec.remote)) return opening
  return Effect.gen(function*() {
    const context = yield* Effect.context<FileSystem.FileSystem | CommandExecutor.CommandExecutor>()
    const watched = <A>(operation: Effect.Effect<A, GitError>) => watch(operation, settings, spec.repoId).pipe(Effect.provide(context))
    const checkout = yield* watch(opening, settings, spec.repoId)
    const branches = {
      ...checkout.branches,
      fetch: (name: string) => watched(checkout.branches.fetch(name)),
      push: (name: string, oid: string) => watched(checkout.branches.push(name, oid))
    }
    return { ...checkout, sync: watched(checkout.sync), push: watched(checkout.push), branches } satisfies Checkout
  })
}
