#!/usr/bin/env bun
import { FetchHttpClient, Path } from "@effect/platform"
import { fstatSync } from "node:fs"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Either, Layer, Logger, LogLevel, Option, Stream } from "effect"
import {
  type Command,
  type ExplainCommand,
  type LogFormat,
  type LogLevelName,
  type NotifyCommand,
  parseArgs,
  type RunCommand,
  type ValidateCommand
} from "./args.ts"
import type { ConfigError } from "./config/ConfigError.ts"
import { Credentials } from "./credentials/Credentials.ts"
import { EcrApi } from "./credentials/EcrApi.ts"
import type { Target } from "./domain/Target.ts"
import type { Pipeline } from "./config/model.ts"
import { loadPipelines } from "./config/load.ts"
import { oneLine } from "./domain/foreignText.ts"
import { imageName, isValidTag, parseImageName, parseImageRef } from "./domain/ImageRef.ts"
import { Signatures } from "./gates/Signatures.ts"
import { GitRepo } from "./git/GitRepo.ts"
import { RegistryHttp } from "./http/RegistryHttp.ts"
import { jsonLinesLogger, stderrIsJournal, textLinesLogger, withPriority, withSyslogPrefix } from "./logging.ts"
import { TagCache } from "./pipeline/TagCache.ts"
import { explainOutput, formatReport, passFailed } from "./pipeline/report.ts"
import { reloadedConfigs, runForever, runOnce, STOP_GRACE } from "./pipeline/run.ts"
import { Triggers } from "./pipeline/Triggers.ts"
import { Readiness } from "./pipeline/Readiness.ts"
import { WatchRouting } from "./pipeline/WatchRouting.ts"
import { LastWritten } from "./pipeline/LastWritten.ts"
import { Notifier } from "./notifications/Notifier.ts"
import { Pauses } from "./pipeline/Pauses.ts"
import { RegistryClient } from "./registry/RegistryClient.ts"
import { ChartIndex } from "./charts/ChartIndex.ts"
import { TagSource, storeDir } from "./registry/TagSource.ts"
import { TagStore } from "./registry/TagStore.ts"
import { listenFailure, parseListen } from "./server/listen.ts"
import { exitCodeOf, FAILED, OK, UNUSABLE } from "./exitCodes.ts"
import { HELP } from "./help.ts"
import { readTokenFile } from "./secretFile.ts"
import { VERSION } from "./version.ts"

/** Under systemd with stderr to the journal, every stderr line carries its syslog priority. */
const journal = (() => {
  try {
    return stderrIsJournal(process.env["JOURNAL_STREAM"], fstatSync(2, { bigint: true }))
  } catch {
    return false // no stderr at all
  }
})()

const out = (text: string) => Effect.sync(() => process.stdout.write(text))
/** What went wrong, for a person: an error, for journald too. */
const err = (text: string) =>
  Effect.sync(() => {
    const lines = text.endsWith("\n") ? text.slice(0, -1) : text
    process.stderr.write(`${journal ? withPriority(3, lines) : lines}\n`)
  })

/** `--data-dir`, or the default under the user's cache directory. */
const dataDirOf = (given: string | undefined): string => {
  if (given !== undefined) return given
  const cache = process.env["XDG_CACHE_HOME"] ?? `${process.env["HOME"] ?? "."}/.cache`
  return `${cache}/runner`
}

const levels: Record<LogLevelName, LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
}

const linesLogger = (format: LogFormat) => {
  const lines = format === "json" ? jsonLinesLogger : textLinesLogger
  return journal ? withSyslogPrefix(lines) : lines
}

/** Logs go to stderr, so stdout carries only the report and diffs. */
const loggerLayer = (format: LogFormat, level: LogLevelName) =>
  Layer.merge(
    Logger.replace(Logger.defaultLogger, Logger.withConsoleError(linesLogger(format))),
    Logger.minimumLogLevel(levels[level])
  )

/**
 * Config errors as lines of text, or under `--log-format json` as log events with their `file`,
 * `line` and `key`, as a reload's are: a collector that reads JSON lines would drop plain text.
 */
const showConfigErrors = (errors: ReadonlyArray<ConfigError>, format: LogFormat) =>
  format === "json"
    ? Effect.forEach(
        errors,
        (e) => Effect.logError(`config error: ${e.display}`).pipe(Effect.annotateLogs({ file: e.file, ...(e.line === undefined ? {} : { line: e.line }), key: e.path })),
        { discard: true }
      )
    : err(errors.map((e) => `config error: ${e.display}`).join("\n"))

/** The pipelines of `configs`, or None once their errors are shown. */
const loadOrReport = (configs: ReadonlyArray<string>, format: LogFormat = "text") =>
  Effect.either(loadPipelines(configs)).pipe(
    Effect.flatMap(
      Either.match({
        onLeft: (invalid) => Effect.as(showConfigErrors(invalid.errors, format), Option.none<ReadonlyArray<Pipeline>>()),
        onRight: (pipelines) => Effect.succeed(Option.some(pipelines))
      })
    )
  )

/** What the configs hold that the runner skips; a pass runs the rest. */
const logConfigWarnings = (pipelines: ReadonlyArray<Pipeline>) =>
  Effect.forEach(pipelines.flatMap((pipeline) => pipeline.warnings ?? []), (warning) => Effect.logWarning(`config: ${warning}`), { discard: true })

const readOptional = (flag: string, file: string | undefined) => (file === undefined ? Effect.succeed(undefined) : readTokenFile(flag, file))

/**
 * SIGHUP asks the daemon to read its config files again. Listening also keeps the signal from
 * ending the process: systemd would take that for a clean exit and not restart it.
 */
const hangups = Stream.async<void>((emit) => {
  const onHangup = () => void emit.single(undefined)
  process.on("SIGHUP", onHangup)
  return Effect.sync(() => process.off("SIGHUP", onHangup))
})

/**
 * How tags are read: the providers' listers over the registry client, the credentials and ECR's
 * API, and the chart repositories' indexes, all on one RegistryHttp, so that registry, chart and
 * cloud calls to a host share its limiter.
 */
const tagSources = (dataDir: string) =>
  TagSource.layer(dataDir).pipe(
    Layer.provideMerge(Credentials.layer),
    Layer.provideMerge(Layer.mergeAll(EcrApi.layer, RegistryClient.layer, TagStore.layer, ChartIndex.layer(dataDir))),
    Layer.provideMerge(RegistryHttp.layer)
  )

/**
 * What a pass needs: registries, tag stores, git, the daemon's routing of notifications and
 * readiness, and the notifications a pass sends to Piped's receivers.
 */
const passServices = (dataDir: string) =>
  Layer.mergeAll(TagCache.layerKeeping(dataDir), Signatures.layer, Notifier.layer({ dataDir }).pipe(Layer.provide(FetchHttpClient.layer))).pipe(
    Layer.provideMerge(tagSources(dataDir)),
    Layer.provideMerge(Layer.mergeAll(GitRepo.layer, WatchRouting.layer, Readiness.layer, Triggers.layer, LastWritten.layer, Pauses.layer))
  )

/**
 * The server, its API and webhooks, loaded only by a runner that listens: a `--once` pass, a
 * validation or a registration never runs that code, and does not pay for loading it.
 */
const loadServer = Effect.promise(() =>
  Promise.all([import("./server/Http.ts"), import("./server/Notices.ts"), import("./server/signature.ts")])
)

const run = (cmd: RunCommand) =>
  Effect.gen(function* () {
    const listen = cmd.listen === undefined ? undefined : parseListen(cmd.listen)
    if (listen !== undefined && Either.isLeft(listen)) {
      yield* err(`runner: ${listen.left}`)
      return UNUSABLE
    }
    const secrets = yield* Effect.either(
      Effect.all({ token: readOptional("--api-token-file", cmd.apiTokenFile), webhookSecret: readOptional("--webhook-secret-file", cmd.webhookSecretFile) })
    )
    if (Either.isLeft(secrets)) {
      yield* err(`runner: ${secrets.left}`)
      return UNUSABLE
    }
    const loaded = yield* loadOrReport(cmd.configs, cmd.logFormat)
    if (Option.isNone(loaded)) return UNUSABLE
    yield* logConfigWarnings(loaded.value)
    const dataDir = dataDirOf(cmd.dataDir)
    const options = { dryRun: cmd.dryRun, dataDir }
    const services = passServices(dataDir)
    if (!cmd.once) {
      yield* Effect.logInfo(`runner ${VERSION}: watching ${loaded.value.length} pipeline(s)`)
      const daemon = runForever(loaded.value, options, STOP_GRACE, reloadedConfigs(hangups, loadPipelines(cmd.configs)))
      if (listen === undefined) {
        yield* daemon.pipe(Effect.provide(services))
        return OK
      }
      const [{ serverLayer }, { Notices }, { githubSignature }] = yield* loadServer
      const server = serverLayer({
        ...listen.right,
        token: Option.fromNullable(secrets.right.token),
        githubSignature: Option.fromNullable(secrets.right.webhookSecret).pipe(Option.map(githubSignature)),
        pipelineCount: loaded.value.length,
        dataDir
      }).pipe(Layer.provide(Notices.layer(dataDir, loaded.value.length)), Layer.provideMerge(services))
      const served = yield* daemon.pipe(Effect.provide(server), Effect.either)
      if (Either.isLeft(served)) {
        yield* err(`runner: cannot listen on ${cmd.listen}: ${listenFailure(served.left.cause)}`)
        return UNUSABLE
      }
      return OK
    }
    const report = yield* runOnce(loaded.value, options).pipe(Effect.provide(services))
    for (const diff of report.diffs) yield* out(diff)
    yield* out(formatReport(report))
    return passFailed(report) ? FAILED : OK
  }).pipe(Effect.provide(loggerLayer(cmd.logFormat, cmd.logLevel)))

/** A dry pass that reports, for every target of one image, how its tags were read and why the choice fell as it did. */
const explain = (cmd: ExplainCommand) =>
  Effect.gen(function* () {
    const image = parseImageName(cmd.image)
    if (Either.isLeft(image)) {
      yield* err(`runner explain: ${image.left}`)
      return UNUSABLE
    }
    const loaded = yield* loadOrReport(cmd.configs, cmd.logFormat)
    if (Option.isNone(loaded)) return UNUSABLE
    const wanted = imageName(image.right)
    const asked = (target: Pick<Target, "image" | "filePath">) =>
      (cmd.file === undefined || target.filePath === cmd.file) &&
      Either.match(parseImageRef(target.image), { onLeft: () => false, onRight: (ref) => imageName(ref) === wanted })
    const dataDir = dataDirOf(cmd.dataDir)
    const report = yield* runOnce(loaded.value, { dryRun: true, dataDir, explain: asked }).pipe(Effect.provide(passServices(dataDir)))
    const shown = explainOutput(report, asked, `${cmd.image}${cmd.file === undefined ? "" : ` in ${cmd.file}`}`)
    yield* out(shown.out)
    if (shown.err !== undefined) yield* err(shown.err)
    return shown.failed ? FAILED : OK
  }).pipe(Effect.provide(loggerLayer(cmd.logFormat, cmd.logLevel)))

/** Static checks of config and watcher files: no registry, no repository. */
const validate = (cmd: ValidateCommand) =>
  Effect.gen(function* () {
    const { validateFiles } = yield* Effect.promise(() => import("./validate.ts"))
    const listing = cmd.listTargets === true ? yield* Effect.promise(() => import("./listTargets.ts")) : undefined
    // Listing reads the current directory's .pipe/ watcher files too: they are validated first.
    const pipe = listing === undefined ? [] : yield* listing.pipeWatcherFiles(".")
    const watcherFiles = [...new Set([...pipe, ...cmd.watcherFiles])]
    const { errors, warnings } = yield* validateFiles(cmd.configs, watcherFiles)
    if (errors.length > 0) {
      yield* err(errors.map((e) => `invalid: ${e}`).join("\n"))
      return UNUSABLE
    }
    for (const warning of warnings) yield* out(`warning: ${warning}\n`)
    if (listing !== undefined) {
      const listed = yield* Effect.either(listing.listTargets(cmd.configs, watcherFiles))
      if (Either.isLeft(listed)) {
        yield* err(`invalid: cannot list the targets: ${listed.left.message}`)
        return UNUSABLE
      }
      for (const line of [...listed.right.targets, ...listed.right.notes.map((n) => `note: ${n}`)]) yield* out(`${line}\n`)
      return OK
    }
    yield* out(`valid: ${[...cmd.configs, ...cmd.watcherFiles].join(", ")}\n`)
    return OK
  })

/** `runner notify --address`: asks a running runner to register the tag and check the image now. */
const notifyRunner = (address: string, tokenFile: string, image: string, registration: { readonly tag: string; readonly digest?: string }) =>
  Effect.gen(function* () {
    const token = yield* Effect.either(readTokenFile("--token-file", tokenFile))
    if (Either.isLeft(token)) {
      yield* err(`runner notify: ${token.left}`)
      return UNUSABLE
    }
    const { clientLayer, postImage } = yield* Effect.promise(() => import("./server/client.ts"))
    const result = yield* Effect.either(postImage(address, token.right, image, registration).pipe(Effect.provide(clientLayer)))
    if (Either.isLeft(result)) {
      yield* err(`runner notify: ${result.left.message}`)
      return FAILED
    }
    const { registered, checked } = result.right
    const stores = registered.length === 0 ? "" : ` in provider(s) ${registered.join(", ")}`
    // The names come from the server: one line, its control characters escaped.
    yield* out(`${oneLine(`registered ${image}:${registration.tag}${stores}; checking now: ${checked.join(", ")}`)}\n`)
    return OK
  })

/** `runner notify --config --provider`: writes straight into a STORE provider's tag store. */
const notify = (cmd: NotifyCommand) =>
  Effect.gen(function* () {
    const image = parseImageName(cmd.image)
    if (Either.isLeft(image)) {
      yield* err(`runner notify: --image: ${image.left}`)
      return UNUSABLE
    }
    if (!isValidTag(cmd.tag)) {
      yield* err(`runner notify: --tag ${JSON.stringify(cmd.tag)} is not a valid tag`)
      return UNUSABLE
    }
    const registration = { tag: cmd.tag, ...(cmd.digest === undefined ? {} : { digest: cmd.digest }) }
    if (cmd.remote !== undefined) return yield* notifyRunner(cmd.remote.address, cmd.remote.tokenFile, cmd.image, registration)
    const loaded = yield* loadOrReport(cmd.configs)
    if (Option.isNone(loaded)) return UNUSABLE
    const provider = loaded.value.flatMap((p) => p.providers).find((p) => p.name === cmd.provider)
    if (provider === undefined || provider.type !== "STORE") {
      yield* err(`runner notify: no provider ${JSON.stringify(cmd.provider)} of type STORE in ${cmd.configs.join(", ")}`)
      return UNUSABLE
    }
    const path = yield* Path.Path
    const store = yield* TagStore
    const dir = storeDir(provider, dataDirOf(cmd.dataDir), path)
    const registered = yield* Effect.either(
      store.register(dir, image.right, registration)
    )
    if (Either.isLeft(registered)) {
      yield* err(`runner notify: ${registered.left.message}`)
      return FAILED
    }
    yield* out(`registered ${cmd.image}:${cmd.tag} in provider ${provider.name}\n`)
    return OK
  }).pipe(Effect.provide(TagStore.layer))

const dispatch = (command: Command) => {
  switch (command._tag) {
    case "Help":
      return out(HELP).pipe(Effect.as(OK))
    case "Version":
      return out(`runner ${VERSION}\n`).pipe(Effect.as(OK))
    case "Run":
      return run(command)
    case "Validate":
      return validate(command)
    case "Explain":
      return explain(command)
    case "Notify":
      return notify(command)
  }
}

const parsed = parseArgs(process.argv.slice(2), process.env)
const isService = Either.isRight(parsed) && parsed.right._tag === "Run" && !parsed.right.once

const main = Effect.gen(function* () {
  if (Either.isLeft(parsed)) {
    yield* err(`runner: ${parsed.left.message}\nRun 'runner --help' for usage.`)
    return UNUSABLE
  }
  return yield* dispatch(parsed.right)
}).pipe(Effect.provide(NodeContext.layer))

NodeRuntime.runMain(main, {
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(exitCodeOf(exit, isService))
})
