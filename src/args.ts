import { Either } from "effect"

/** The command line, parsed. Pure: `main.ts` supplies argv and the environment. */

export type LogFormat = "text" | "json"
export type LogLevelName = "debug" | "info" | "warn" | "error"

export interface RunCommand {
  readonly _tag: "Run"
  readonly configs: ReadonlyArray<string>
  readonly once: boolean
  readonly dryRun: boolean
  readonly dataDir: string | undefined
  readonly listen: string | undefined
  readonly apiTokenFile: string | undefined
  /** GitHub's webhook secret: its deliveries are checked by their signature. */
  readonly webhookSecretFile: string | undefined
  readonly logFormat: LogFormat
  readonly logLevel: LogLevelName
}

export interface ValidateCommand {
  readonly _tag: "Validate"
  readonly configs: ReadonlyArray<string>
  readonly watcherFiles: ReadonlyArray<string>
  /** `--list-targets`: also print every target the watcher files declare or discover, in the current directory's tree. */
  readonly listTargets?: true
}

export interface NotifyCommand {
  readonly _tag: "Notify"
  readonly configs: ReadonlyArray<string>
  readonly provider: string | undefined
  /** `--address` and `--token-file`: a running runner's API instead of the store files. */
  readonly remote: { readonly address: string; readonly tokenFile: string } | undefined
  readonly image: string
  readonly tag: string
  readonly digest: string | undefined
  readonly dataDir: string | undefined
}

/** `runner explain`: a dry pass that shows, for the targets of one image, how its tags were read. */
export interface ExplainCommand {
  readonly _tag: "Explain"
  readonly configs: ReadonlyArray<string>
  readonly dataDir: string | undefined
  readonly image: string
  /** Only the targets whose `filePath` is this. */
  readonly file: string | undefined
  readonly logFormat: LogFormat
  readonly logLevel: LogLevelName
}

export type Command =
  | RunCommand
  | ExplainCommand
  | ValidateCommand
  | NotifyCommand
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }


export class UsageError {
  readonly _tag = "UsageError"
  constructor(readonly message: string) {}
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v)

const oneOf = <T extends string>(flag: string, value: string, allowed: ReadonlyArray<T>): Either.Either<T, UsageError> => {
  const found = allowed.find((a) => a === value)
  return found === undefined
    ? Either.left(new UsageError(`${flag} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`))
    : Either.right(found)
}

interface Flags {
  readonly values: Map<string, Array<string>>
  readonly switches: Set<string>
  readonly positional: Array<string>
}

const VALUE_FLAGS = [
  "--config",
  "--data-dir",
  "--listen",
  "--log-format",
  "--log-level",
  "--api-token-file",
  "--webhook-secret-file",
  "--provider",
  "--address",
  "--token-file",
  "--image",
  "--tag",
  "--digest"
]
const SWITCHES = ["--once", "--dry-run", "--help", "-h", "--version", "--list-targets"]

const scan = (argv: ReadonlyArray<string>): Either.Either<Flags, UsageError> => {
  const values = new Map<string, Array<string>>()
  const switches = new Set<string>()
  const positional: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    const eq = arg.indexOf("=")
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    if (VALUE_FLAGS.includes(name)) {
      const value = eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : argv[++i]
      if (value === undefined) return Either.left(new UsageError(`${name} needs a value`))
      values.set(name, [...(values.get(name) ?? []), value])
    } else if (SWITCHES.includes(arg)) {
      switches.add(arg)
    } else if (arg.startsWith("-")) {
      return Either.left(new UsageError(`unknown option ${arg}`))
    } else {
      positional.push(arg)
    }
  }
  return Either.right({ values, switches, positional })
}

const single = (flags: Flags, name: string): Either.Either<string | undefined, UsageError> => {
  const all = flags.values.get(name) ?? []
  return all.length > 1 ? Either.left(new UsageError(`${name} given more than once`)) : Either.right(all[0])
}

const allowOnly = (flags: Flags, command: string, allowed: ReadonlyArray<string>): Either.Either<void, UsageError> => {
  for (const name of [...flags.values.keys(), ...flags.switches]) {
    if (!allowed.includes(name)) return Either.left(new UsageError(`${name} does not apply to ${command}`))
  }
  return Either.void
}

/** The API's files mean nothing without a server to serve it. */
const needListen = (listen: string | undefined, files: ReadonlyArray<readonly [string, string | undefined]>): Either.Either<void, UsageError> => {
  const flag = listen === undefined ? files.find(([, file]) => file !== undefined)?.[0] : undefined
  return flag === undefined ? Either.void : Either.left(new UsageError(`${flag} needs --listen ADDR to serve the API on`))
}

export const parseArgs = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Either.Either<Command, UsageError> =>
  Either.gen(function* () {
    const sub = argv[0] === "validate" || argv[0] === "notify" || argv[0] === "explain" ? argv[0] : undefined
    const flags = yield* scan(sub === undefined ? argv : argv.slice(1))
    if (flags.switches.has("--help") || flags.switches.has("-h")) return { _tag: "Help" } as const
    if (flags.switches.has("--version")) return { _tag: "Version" } as const
    const envConfigs = (env["RUNNER_CONFIG"] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
    const configs = flags.values.get("--config") ?? envConfigs
    const dataDir = (yield* single(flags, "--data-dir")) ?? env["RUNNER_DATA_DIR"]

    if (sub === "validate") {
      yield* allowOnly(flags, "validate", ["--config", "--list-targets"])
      const list = flags.switches.has("--list-targets")
      if (configs.length === 0 && flags.positional.length === 0 && !list) {
        return yield* Either.left(new UsageError("validate needs --config FILE or watcher files to check"))
      }
      return { _tag: "Validate", configs, watcherFiles: flags.positional, ...(list ? { listTargets: true as const } : {}) } as const
    }
    if (sub === "notify") {
      yield* allowOnly(flags, "notify", ["--config", "--provider", "--address", "--token-file", "--image", "--tag", "--digest", "--data-dir"])
      if (flags.positional.length > 0) return yield* Either.left(new UsageError(`unexpected argument ${flags.positional[0]}`))
      const image = yield* single(flags, "--image")
      const tag = yield* single(flags, "--tag")
      if (image === undefined || tag === undefined) return yield* Either.left(new UsageError("notify needs --image and --tag"))
      const provider = yield* single(flags, "--provider")
      const address = (yield* single(flags, "--address")) ?? env["RUNNER_ADDRESS"]
      const tokenFile = (yield* single(flags, "--token-file")) ?? env["RUNNER_TOKEN_FILE"]
      if (address === undefined && (provider === undefined || configs.length === 0)) {
        return yield* Either.left(new UsageError("notify needs --config FILE and --provider NAME (or --address URL of a running runner)"))
      }
      if (address !== undefined && tokenFile === undefined) {
        return yield* Either.left(new UsageError("notify --address needs --token-file FILE holding the runner's API token"))
      }
      if (address !== undefined && (provider !== undefined || flags.values.has("--config"))) {
        return yield* Either.left(new UsageError("notify takes either --address (a running runner) or --config and --provider (its store files), not both"))
      }
      return {
        _tag: "Notify",
        configs,
        provider,
        remote: address === undefined || tokenFile === undefined ? undefined : { address, tokenFile },
        image,
        tag,
        digest: yield* single(flags, "--digest"),
        dataDir
      } as const
    }
    const logFormat = yield* oneOf("--log-format", (yield* single(flags, "--log-format")) ?? env["RUNNER_LOG_FORMAT"] ?? "text", ["text", "json"])
    const logLevel = yield* oneOf("--log-level", (yield* single(flags, "--log-level")) ?? env["RUNNER_LOG_LEVEL"] ?? "info", ["debug", "info", "warn", "error"])
    if (sub === "explain") {
      yield* allowOnly(flags, "explain", ["--config", "--data-dir", "--log-format", "--log-level"])
      const [image, file, extra] = flags.positional
      if (image === undefined) return yield* Either.left(new UsageError("explain needs the IMAGE whose targets to explain"))
      if (extra !== undefined) return yield* Either.left(new UsageError(`unexpected argument ${extra}`))
      if (configs.length === 0) return yield* Either.left(new UsageError("no config given: use --config FILE|DIR or RUNNER_CONFIG"))
      return { _tag: "Explain", configs, dataDir, image, file, logFormat, logLevel } as const
    }
    yield* allowOnly(flags, "runner", ["--config", "--once", "--dry-run", "--data-dir", "--listen", "--log-format", "--log-level", "--api-token-file", "--webhook-secret-file"])
    if (flags.positional.length > 0) return yield* Either.left(new UsageError(`unexpected argument ${flags.positional[0]}`))
    if (configs.length === 0) return yield* Either.left(new UsageError("no config given: use --config FILE|DIR or RUNNER_CONFIG"))
    const once = flags.switches.has("--once") || truthy(env["RUNNER_ONCE"])
    const listen = (yield* single(flags, "--listen")) ?? env["RUNNER_LISTEN"]
    const apiTokenFile = (yield* single(flags, "--api-token-file")) ?? env["RUNNER_API_TOKEN_FILE"]
    const webhookSecretFile = (yield* single(flags, "--webhook-secret-file")) ?? env["RUNNER_WEBHOOK_SECRET_FILE"]
    if (once && listen !== undefined) return yield* Either.left(new UsageError("--listen serves a running daemon; it does not apply to --once"))
    yield* needListen(listen, [["--api-token-file", apiTokenFile], ["--webhook-secret-file", webhookSecretFile]])
    return {
      _tag: "Run",
      configs,
      once,
      dryRun: flags.switches.has("--dry-run") || truthy(env["RUNNER_DRY_RUN"]),
      dataDir,
      listen,
      apiTokenFile,
      webhookSecretFile,
      logFormat,
      logLevel
    } as const
  })
