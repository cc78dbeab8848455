import { FetchHttpClient } from "@effect/platform"
import { Effect, Option, Logger, LogLevel } from "effect"
import { RegistryClient } from "../../src/registry/RegistryClient.ts"
const url = Deno.args[0]!
const r = await Effect.runPromise(RegistryClient.pipe(Effect.flatMap(c => Effect.either(c.listTags({ baseUrl: url, registry: "x", repository: "foo/bar", credentials: Option.none(), insecure: true }))), Effect.provide(RegistryClient.layer), Effect.provide(FetchHttpClient.layer), Logger.withMinimumLogLevel(LogLevel.Debug)))
console.log(JSON.stringify(r))
