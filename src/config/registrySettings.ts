import { Either, ParseResult, Schema } from "effect"
import { type AddressProblem, parseRegistryAddress } from "../domain/address.ts"
import { opt } from "./ConfigError.ts"

/** The settings of a provider's `config` that say how to reach its registries, and how much it may ask of them. */

const Text = Schema.String

/** Never the value itself: it may hold a password. */
const addressProblems: Record<AddressProblem, string> = {
  NotUrl: "expected an http:// or https:// URL",
  NotHttp: "expected an http:// or https:// URL",
  Credentials: "credentials are not allowed in the address; use username and passwordFile",
  QueryOrFragment: "the address must not have a query or fragment"
}

/** An http(s) base URL without credentials (they belong in passwordFile); `bareHost` allows `gcr.io`. */
export const registryAddress = (bareHost: boolean) =>
  Schema.transformOrFail(Schema.Unknown, Schema.String, {
    strict: true,
    decode: (input, _, ast) => {
      const bad = (why: string) => ParseResult.fail(new ParseResult.Type(ast, input, why))
      if (typeof input !== "string" || input === "") return bad("expected an http:// or https:// URL")
      const text = bareHost && !input.includes("://") ? `https://${input}` : input
      return Either.match(parseRegistryAddress(text), { onLeft: (problem) => bad(addressProblems[problem]), onRight: ParseResult.succeed })
    },
    encode: (address) => ParseResult.succeed(address)
  })

/**
 * `rateLimit: {rps, burst, concurrency}`: concurrency caps requests in flight per host (default 8);
 * rps sets a per-second ceiling, with bursts of one second's worth unless burst says otherwise.
 */
export const RateLimitSchema = Schema.transform(
  Schema.Struct({
    rps: opt(Schema.Number.pipe(Schema.positive())),
    burst: opt(Schema.Int.pipe(Schema.positive())),
    concurrency: opt(Schema.Int.pipe(Schema.positive()))
  }).pipe(Schema.filter((limit) => limit.burst === undefined || limit.rps !== undefined || "burst needs rps")),
  Schema.Struct({ rps: opt(Schema.Number), burst: opt(Schema.Number), concurrency: opt(Schema.Number) }),
  {
    strict: true,
    decode: ({ rps, burst, concurrency }) => ({
      ...(rps === undefined ? {} : { rps, burst: burst ?? Math.max(1, Math.ceil(rps)) }),
      ...(concurrency === undefined ? {} : { concurrency })
    }),
    encode: (limit) => limit
  }
)

/**
 * A registry host name a provider serves, without scheme or port; `*` stands for any run of
 * characters within one label (`*.example.com`, `*-docker.pkg.dev`). Stored in lower case.
 */
const HostPattern = Schema.transformOrFail(Schema.Unknown, Schema.String, {
  strict: true,
  decode: (input, _, ast) => {
    const text = typeof input === "string" ? input.trim().toLowerCase() : ""
    const name = /^[a-z0-9*](?:[a-z0-9*-]*[a-z0-9*])?(?:\.[a-z0-9*](?:[a-z0-9*-]*[a-z0-9*])?)*$/
    return name.test(text) || /^\[[0-9a-f:.]+\]$/.test(text)
      ? ParseResult.succeed(text)
      : ParseResult.fail(new ParseResult.Type(ast, input, "expected a host name without scheme or port, e.g. registry.example.com or *.example.com"))
  },
  encode: (host) => ParseResult.succeed(host)
})

/** The most tags one image of the provider may list (default 100,000). */
export const MaxTags = opt(Schema.Int.pipe(Schema.positive()))

export const registrySettings = { rateLimit: opt(RateLimitSchema), caFile: opt(Text), insecure: opt(Schema.Boolean), hosts: opt(Schema.Array(HostPattern)), maxTags: MaxTags }

