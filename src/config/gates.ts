import { Duration, Either, ParseResult, Schema } from "effect"
import { imageGlob } from "../domain/glob.ts"
import { canonicalPlatform, platformProblem } from "../domain/platform.ts"
import { compileRe2 } from "../policy/re2.ts"
import { opt, showValue } from "./ConfigError.ts"
import { parseGoDuration } from "./duration.ts"
import type { SourceLocation } from "../domain/SourceLocation.ts"
import type { GateConfig } from "./model.ts"

/** A Go duration of 0 or more ("24h"), for how old a tag must be. */
export const Age = Schema.transformOrFail(Schema.Unknown, Schema.DurationFromSelf, {
  strict: true,
  decode: (input, _, ast) =>
    typeof input !== "string"
      ? ParseResult.fail(new ParseResult.Type(ast, input, `expected a duration such as "24h", got ${showValue(input)}`))
      : Either.match(parseGoDuration(input), {
        onLeft: (why) => ParseResult.fail(new ParseResult.Type(ast, input, why)),
        onRight: ParseResult.succeed
      }),
  encode: (duration, _, ast) => ParseResult.fail(new ParseResult.Forbidden(ast, duration, "durations are only decoded"))
})

const checked = (check: (text: string) => string | undefined) => Schema.NonEmptyString.pipe(Schema.filter((text) => check(text)))

export const Glob = checked((text) => Either.match(imageGlob(text), { onLeft: (why) => why, onRight: () => undefined }))
const Pattern = checked((text) => Either.match(compileRe2(text), { onLeft: (why) => why, onRight: () => undefined }))

/** True when `^` starts the pattern and an unescaped `$` ends it. */
const anchored = (text: string): boolean => {
  if (!text.startsWith("^") || !text.endsWith("$") || text.length < 2) return false
  const escapes = /\\*$/.exec(text.slice(0, -1))?.[0].length ?? 0
  return escapes % 2 === 0
}

// Anchored, so that what the operator reads is what is matched: `^...@refs/heads/main$`, not a prefix of main-hotfix.
const SubjectPattern = Pattern.pipe(
  Schema.filter((text) =>
    anchored(text)
      ? undefined
      : `subjectPattern must be anchored, starting with ^ and ending with $, so that it matches the whole subject ` +
        `(e.g. "^https://github.com/org/repo/.+@refs/heads/main$"); for one exact subject use subject instead`
  )
)

const Identity = Schema.Struct({
  issuer: Schema.NonEmptyString,
  subject: opt(Schema.NonEmptyString),
  subjectPattern: opt(SubjectPattern)
}).pipe(
  Schema.filter((identity) =>
    (identity.subject === undefined) === (identity.subjectPattern === undefined)
      ? "give subject (the certificate's subject, exactly) or subjectPattern (an anchored RE2 pattern), one of them"
      : undefined
  )
)

const CosignSection = Schema.Struct({
  publicKeyFile: opt(Schema.NonEmptyString),
  trustedRootFile: opt(Schema.NonEmptyString),
  identity: opt(Identity)
}).pipe(
  Schema.filter((cosign) => {
    if ((cosign.publicKeyFile === undefined) === (cosign.trustedRootFile === undefined)) {
      return "give publicKeyFile (a key) or trustedRootFile with identity (keyless), one of them"
    }
    if (cosign.trustedRootFile !== undefined && cosign.identity === undefined) {
      return { path: ["identity"], message: "keyless verification needs the identity to trust: issuer, and subject or subjectPattern" }
    }
    if (cosign.publicKeyFile !== undefined && cosign.identity !== undefined) {
      return { path: ["identity"], message: "identity applies to keyless verification (trustedRootFile), not to a key" }
    }
    return undefined
  })
)

const Platform = checked(platformProblem)

export const GateSection = Schema.Struct({
  images: Schema.Array(Glob).pipe(Schema.minItems(1, { message: () => "list at least one image glob" })),
  minAge: opt(Age),
  cosign: opt(CosignSection),
  pinDigest: opt(Schema.Boolean),
  platforms: opt(Schema.Array(Platform).pipe(Schema.minItems(1, { message: () => "list at least one platform, such as linux/amd64" })))
}).pipe(
  Schema.filter((gate) =>
    gate.minAge === undefined && gate.cosign === undefined && gate.platforms === undefined ? "a gate needs minAge, cosign or platforms" : undefined
  )
)

/** The gates of a Piped config as the pipeline uses them; `pinDigest` defaults to whether cosign is set. */
export const toGates = (
  sections: ReadonlyArray<typeof GateSection.Type>,
  sourceOf: (index: number) => SourceLocation
): ReadonlyArray<GateConfig> =>
  sections.map((gate, index) => ({
    images: gate.images,
    ...(gate.minAge === undefined || Duration.isZero(gate.minAge) ? {} : { minAge: gate.minAge }),
    ...(gate.cosign === undefined ? {} : { cosign: gate.cosign }),
    ...(gate.platforms === undefined ? {} : { platforms: [...new Set(gate.platforms.map(canonicalPlatform))] }),
    pinDigest: gate.pinDigest ?? gate.cosign !== undefined,
    source: sourceOf(index)
  }))
