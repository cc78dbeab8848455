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
  readonly logFormat: LogFormat
  readonly logLevel: LogLevelName
}

export interface ValidateCommand {
  readonly _tag: "Validate"
  readonly configs: ReadonlyArray<string>
  readonly watcherFiles: ReadonlyArray<string>
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

export type Command =
  | RunCommand
  | ValidateCommand
  | NotifyCommand
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }

export const HELP = `runner: keeps container image tags in git up to date.

It lists the tags of watched images in container registries, compares them with the image
references in YAML files of git repositories (declared by ImageWatcher files in each
repository's .pipe/ directory), patches the files that lag behind, commits and pushes.

Usage:
  runner [--config FILE|DIR]... [--once] [--dry-run] [--data-dir DIR]
         [--listen ADDR [--api-token-file FILE]]
         [--log-format text|json] [--log-level debug|info|warn|error]
  runner validate --config FILE... [WATCHER_FILE...]
  runner notify --config FILE --provider NAME --image IMAGE --tag TAG [--digest DIGEST]
  runner notify --address URL --token-file FILE --image IMAGE --tag TAG [--digest DIGEST]
  runner --help | --version

Options:
  --config FILE|DIR   Piped config file (kind: Piped), or a directory of them; repeatable.
                      Each kind: Piped document is one pipeline.        [env RUNNER_CONFIG, comma-separated]
  --once              One pass over every pipeline, print a report on stdout, exit. [env RUNNER_ONCE=true]
  --dry-run           Everything but commit and push; print the unified diff instead.  [env RUNNER_DRY_RUN=true]
  --data-dir DIR      Working copies and the tag store, kept between runs.
                      Default: $XDG_CACHE_HOME/runner or ~/.cache/runner.           [env RUNNER_DATA_DIR]
  --listen ADDR       Serve /healthz, /readyz and /metrics on HOST:PORT, :PORT or PORT
                      (not with --once).                                            [env RUNNER_LISTEN]
  --api-token-file F  Turn on the API (POST /api/v1/images, /api/v1/webhooks/KIND);
                      requests carry this token as a Bearer token.           [env RUNNER_API_TOKEN_FILE]
  --log-format FMT    text (default) or json; logs go to stderr.                      [env RUNNER_LOG_FORMAT]
  --log-level LEVEL   debug, info (default), warn or error.                           [env RUNNER_LOG_LEVEL]
  -h, --help          This help.
  --version           Print the version.

Commands:
  validate            Check config files (and ImageWatcher files given as paths) without
                      touching any registry or repository. Exit 0 when all are valid, 2 otherwise.
  notify              Register a new tag of an image in a STORE provider's tag store
                      (--config, --provider), for CI pipelines that push images; or send
                      it to a running runner's API (--address URL --token-file FILE), which
                      also checks the repositories watching the image at once.

Exit codes:
  0  every target processed (updated or already up to date)
  1  a target, watcher file, provider or repository failed (the rest still ran)
  2  unusable config or arguments; nothing was done
`

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
  "--provider",
  "--address",
  "--token-file",
  "--image",
  "--tag",
  "--digest"
]
const SWITCHES = ["--once", "--dry-run", "--help", "-h", "--version"]

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

export const parseArgs = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Either.Either<Command, UsageError> =>
  Either.gen(function* () {
    const sub = argv[0] === "validate" || argv[0] === "notify" ? argv[0] : undefined
    const flags = yield* scan(sub === undefined ? argv : argv.slice(1))
    if (flags.switches.has("--help") || flags.switches.has("-h")) return { _tag: "Help" } as const
    if (flags.switches.has("--version")) return { _tag: "Version" } as const
    const envConfigs = (env["RUNNER_CONFIG"] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
    const configs = flags.values.get("--config") ?? envConfigs
    const dataDir = (yield* single(flags, "--data-dir")) ?? env["RUNNER_DATA_DIR"]

    if (sub === "validate") {
      yield* allowOnly(flags, "validate", ["--config"])
      if (configs.length === 0 && flags.positional.length === 0) {
        return yield* Either.left(new UsageError("validate needs --config FILE or watcher files to check"))
      }
      return { _tag: "Validate", configs, watcherFiles: flags.positional } as const
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
    yield* allowOnly(flags, "runner", ["--config", "--once", "--dry-run", "--data-dir", "--listen", "--log-format", "--log-level", "--api-token-file"])
    if (flags.positional.length > 0) return yield* Either.left(new UsageError(`unexpected argument ${flags.positional[0]}`))
    if (configs.length === 0) return yield* Either.left(new UsageError("no config given: use --config FILE|DIR or RUNNER_CONFIG"))
    const once = flags.switches.has("--once") || truthy(env["RUNNER_ONCE"])
    const listen = (yield* single(flags, "--listen")) ?? env["RUNNER_LISTEN"]
    const apiTokenFile = (yield* single(flags, "--api-token-file")) ?? env["RUNNER_API_TOKEN_FILE"]
    if (once && listen !== undefined) return yield* Either.left(new UsageError("--listen serves a running daemon; it does not apply to --once"))
    if (apiTokenFile !== undefined && listen === undefined) return yield* Either.left(new UsageError("--api-token-file needs --listen ADDR to serve the API on"))
    const logFormat = yield* oneOf("--log-format", (yield* single(flags, "--log-format")) ?? env["RUNNER_LOG_FORMAT"] ?? "text", ["text", "json"])
    const logLevel = yield* oneOf("--log-level", (yield* single(flags, "--log-level")) ?? env["RUNNER_LOG_LEVEL"] ?? "info", ["debug", "info", "warn", "error"])
    return {
      _tag: "Run",
      configs,
      once,
      dryRun: flags.switches.has("--dry-run") || truthy(env["RUNNER_DRY_RUN"]),
      dataDir,
      listen,
      apiTokenFile,
      logFormat,
      logLevel
    } as const
  })
