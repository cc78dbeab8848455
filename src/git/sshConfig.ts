import { FileSystem, Path } from "@effect/platform"
import { createHash } from "node:crypto"
import { Effect, Either, Option } from "effect"
import type { GitConfig } from "../config/model.ts"
import { writeFileWhole } from "../files.ts"
import { fileProblem } from "../files.ts"

/** How git's ssh reaches and trusts a host: what SystemGit runs ssh with. */
export interface SshSettings {
  /** The runner's own ssh config, the only one ssh reads (`ssh -F`). */
  readonly configFile: string
  /** The known-hosts file ssh checks: spec.git.knownHostsFile, or the runner's own in the data dir. */
  readonly knownHostsFile: string
  /** Only the keys of spec.git.knownHostsFile are trusted; otherwise a new host is trusted on first use. */
  readonly strict: boolean
}

/** Piped's default `host`, which Piped's ssh config block names when none is configured. */
const PIPED_DEFAULT_HOST = "github.com"

/**
 * A path as an ssh config argument: quoted, its `%` escaped (ssh expands tokens in these paths).
 * ssh has no escape for `"`, line breaks or `${` (it expands environment variables), so such a
 * path cannot be written at all.
 */
export const configPath = (path: string): Either.Either<string, string> =>
  /["\r\n]|\$\{/.test(path)
    ? Either.left(`the path ${JSON.stringify(path)} cannot be written in an ssh config (it holds ", \${ or a line break)`)
    : Either.right(`"${path.replace(/%/g, "%%")}"`)

export interface SshConfigInput {
  readonly knownHostsFile: string
  readonly strict: boolean
  readonly keyFile: Option.Option<string>
  /** Piped's `host`, `hostName`; both absent, and no key, means no alias block. */
  readonly host?: string
  readonly hostName?: string
}

/**
 * The ssh config the runner's git uses. Host keys are checked only against one file (the global
 * one is /dev/null, so nothing outside the runner's settings is trusted), never hashed (the runner
 * reads the host names back to say which host it trusted) and never updated by the server. As
 * Piped does, a `Host <host>` block maps Piped's alias to `hostName` with user `git`; it is written
 * whenever Piped would write it (a key is configured) or an alias is configured.
 */
export const sshConfigText = (input: SshConfigInput): Either.Either<string, string> =>
  Either.gen(function*() {
    const knownHosts = yield* configPath(input.knownHostsFile)
    const key = Option.isSome(input.keyFile) ? Option.some(yield* configPath(input.keyFile.value)) : Option.none()
    const aliased = Option.isSome(key) || input.host !== undefined || input.hostName !== undefined
    const host = input.host ?? PIPED_DEFAULT_HOST
    return [
      "# Written by the runner for git over ssh: ssh reads this file alone (-F), never ~/.ssh/config.",
      `StrictHostKeyChecking ${input.strict ? "yes" : "accept-new"}`,
      `UserKnownHostsFile ${knownHosts}`,
      "GlobalKnownHostsFile /dev/null",
      "HashKnownHosts no",
      "UpdateHostKeys no",
      "CheckHostIP no",
      "BatchMode yes",
      ...Option.match(key, { onNone: () => [], onSome: (file) => [`IdentityFile ${file}`, "IdentitiesOnly yes"] }),
      ...(aliased ? ["", "# Piped's host alias (spec.git.host, spec.git.hostName), as Piped writes it.", `Host ${host}`, `  HostName ${input.hostName ?? host}`, "  User git"] : []),
      ""
    ].join("\n")
  })

/**
 * The ssh settings of a pipeline, its files written under `<dataDir>/ssh` (a directory only its
 * owner can enter): the config, named after its content so that pipelines with different settings
 * never share one, and, without spec.git.knownHostsFile, the runner's known-hosts file, created
 * empty and private if missing and never rewritten (ssh appends to it). The user's ~/.ssh is
 * neither read nor written. spec.git.sshConfigFilePath is where Piped writes its own block
 * (~/.ssh/config by default, turning host key checking off): the runner writes the same block
 * here instead and never reads that file.
 */
export const sshSettings = (
  git: GitConfig,
  dataDir: string,
  keyFile: Option.Option<string>
): Effect.Effect<SshSettings, string, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.resolve(dataDir, "ssh")
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 }).pipe(
      Effect.mapError((e) => `cannot create ${dir} for ssh: ${fileProblem(e)}`)
    )
    const strict = git.knownHostsFile !== undefined
    const knownHostsFile = git.knownHostsFile === undefined ? path.join(dir, "known_hosts") : path.resolve(git.knownHostsFile)
    if (strict) {
      // ssh would take an unreadable file for an empty one and blame every host.
      yield* fs.readFileString(knownHostsFile).pipe(
        Effect.mapError((e) => `cannot read spec.git.knownHostsFile ${knownHostsFile}: ${fileProblem(e)}`)
      )
    } else {
      // Appending nothing creates the file, private, without emptying one another pass has filled.
      yield* fs.writeFile(knownHostsFile, new Uint8Array(), { flag: "a", mode: 0o600 }).pipe(
        Effect.mapError((e) => `cannot create ${knownHostsFile}: ${fileProblem(e)}`)
      )
    }
    const text = yield* sshConfigText({
      knownHostsFile,
      strict,
      keyFile: Option.map(keyFile, (file) => path.resolve(file)),
      ...(git.host === undefined ? {} : { host: git.host }),
      ...(git.hostName === undefined ? {} : { hostName: git.hostName })
    })
    const configFile = path.join(dir, `config-${createHash("sha256").update(text).digest("hex").slice(0, 16)}`)
    if (!(yield* fs.exists(configFile).pipe(Effect.orElseSucceed(() => false)))) {
      yield* writeFileWhole(fs, configFile, text, { mode: 0o600 }).pipe(
        Effect.mapError((e) => `cannot write ${configFile}: ${fileProblem(e)}`)
      )
    }
    return { configFile, knownHostsFile, strict }
  })
