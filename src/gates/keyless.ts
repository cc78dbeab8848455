/**
 * Keyless cosign verification, offline, with the sigstore project's own verifier
 * (`@sigstore/verify`): a sigstore bundle (v0.3) is valid for a candidate when its Fulcio
 * certificate chains to a certificate authority of the trusted root and carries an SCT from one of
 * its CT logs, its transparency-log entry verifies under one of its log keys (signed entry
 * timestamp and inclusion proof against a signed checkpoint), the signature verifies under the
 * certificate, the certificate names the expected OIDC issuer and the subject (exactly, or wholly
 * matching the pattern),
 * and what was signed is exactly the candidate's digest. Pure: the caller fetches the bundles.
 */
import { type Bundle, bundleFromJSON } from "@sigstore/bundle"
import { HashAlgorithm, TrustedRoot as TrustedRootMessage } from "@sigstore/protobuf-specs"
import { type Signer, type TrustMaterial, toSignedEntity, toTrustMaterial, VerificationError, Verifier } from "@sigstore/verify"
import { Either, Schema } from "effect"
import { generateKeyPairSync, sign, verify } from "node:crypto"
import { sha256Digest, sha256DigestPattern } from "../domain/ImageRef.ts"
import { decodeJsonText, parseJsonText } from "../json.ts"
import { compileRe2 } from "../policy/re2.ts"
import { BASE64, excerpt, shortDigest } from "./cosign.ts"
import { MAX_BUNDLE_BYTES } from "./referrers.ts"

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
/** The public-good root is about 10 KB; a file much larger is not a trusted root. */
const MAX_TRUSTED_ROOT_CHARS = 4 * 1024 * 1024

export interface Identity {
  /** The OIDC issuer the certificate must name, exactly (`https://token.actions.githubusercontent.com`). */
  readonly issuer: string
  /** The certificate's subject (SAN URI or email), exactly, as cosign's `--certificate-identity`. One of this and `subjectPattern`. */
  readonly subject?: string
  /**
   * An RE2 pattern the whole subject must match: matched as `^(?:pattern)$`, so that neither a
   * prefix (`...@refs/heads/main` in `...@refs/heads/main-hotfix`) nor an alternative left
   * unanchored lets another signer through. The config demands it written anchored too.
   */
  readonly subjectPattern?: string
}

/** The test a certificate's subject must pass, or why the identity cannot be used. */
const subjectMatcher = (identity: Identity): Either.Either<(san: string) => boolean, string> => {
  const { subject, subjectPattern } = identity
  if ((subject === undefined) === (subjectPattern === undefined)) return Either.left("identity: give subject or subjectPattern, one of them")
  if (subject !== undefined) return Either.right((san) => san === subject)
  // Checked alone first: a pattern such as `x)|(.*` is no regex, but wrapped it would be one matching anything.
  const whole = Either.flatMap(compileRe2(subjectPattern ?? ""), () => compileRe2(`^(?:${subjectPattern})$`))
  return Either.map(Either.mapLeft(whole, (why) => `subjectPattern: ${why}`), (re) => (san: string) => re.test(san))
}

/** Why verification failed; `fatal` when the trusted root or the identity cannot be used at all. */
export interface KeylessFailure {
  readonly reason: string
  readonly fatal: boolean
}

/** A trusted root read and checked, ready to verify against. */
export interface TrustedRoot {
  readonly material: TrustMaterial
}

const Base64 = Schema.String.pipe(Schema.pattern(BASE64), Schema.minLength(1))
const Time = Schema.String.pipe(Schema.filter((text) => !Number.isNaN(Date.parse(text)) || "not a date"))
const TimeRange = Schema.Struct({ start: Schema.optional(Time), end: Schema.optional(Time) })
const Log = Schema.Struct({
  baseUrl: Schema.String,
  publicKey: Schema.Struct({ rawBytes: Base64, keyDetails: Schema.String, validFor: Schema.optional(TimeRange) }),
  logId: Schema.Struct({ keyId: Base64 }),
})
const Authority = Schema.Struct({
  certChain: Schema.Struct({ certificates: Schema.NonEmptyArray(Schema.Struct({ rawBytes: Base64 })) }),
  validFor: Schema.optional(TimeRange),
})
/** What the verifier needs of a trusted root (sigstore protobuf-specs `TrustedRoot`, JSON). */
const TrustedRootJson = Schema.Struct({
  mediaType: Schema.String.pipe(Schema.startsWith("application/vnd.dev.sigstore.trustedroot")),
  tlogs: Schema.Array(Log),
  certificateAuthorities: Schema.Array(Authority),
  ctlogs: Schema.optionalWith(Schema.Array(Log), { default: () => [] }),
  timestampAuthorities: Schema.optionalWith(Schema.Array(Authority), { default: () => [] }),
})

const decodeTrustedRoot = Schema.decodeUnknownEither(TrustedRootJson)

/** Reads a sigstore trusted root (`trusted_root.json`); the reason never quotes the file. */
export const parseTrustedRoot = (text: string): Either.Either<TrustedRoot, string> => {
  if (text.length > MAX_TRUSTED_ROOT_CHARS) return Either.left("too large for a trusted root")
  const parsed = parseJsonText(text)
  if (Either.isLeft(parsed)) return Either.left("not JSON")
  const value = parsed.right
  return Either.flatMap(
    Either.mapLeft(decodeTrustedRoot(value), () => "not a sigstore trusted root (mediaType, tlogs, certificateAuthorities, ctlogs)"),
    (json): Either.Either<TrustedRoot, string> => {
      if (json.certificateAuthorities.length === 0) return Either.left("the trusted root lists no certificate authority")
      if (json.tlogs.length === 0) return Either.left("the trusted root lists no transparency log")
      // Fulcio certificates are checked for an SCT, as cosign does by default; without a CT log none could pass.
      if (json.ctlogs.length === 0) return Either.left("the trusted root lists no certificate transparency log")
      try {
        // The file as written, not the decoded subset: fields the schema does not name (checkpointKeyId) matter too.
        const material = toTrustMaterial(TrustedRootMessage.fromJSON(value))
        // Parsing is lazy: touch what verification reads, so a broken certificate shows here.
        for (const ca of [...material.certificateAuthorities, ...material.timestampAuthorities]) {
          for (const cert of ca.certChain) void [cert.subject, cert.publicKey, cert.notBefore, cert.notAfter, cert.extensions]
        }
        return Either.right({ material })
      } catch {
        return Either.left("a key or certificate in the trusted root is not readable")
      }
    }
  )
}

// How far a bundle got before it failed: the report shows the reason of the bundle that got furthest.
interface Failure {
  readonly stage: number
  readonly reason: string
}
const fail = (stage: number, reason: string): Either.Either<never, Failure> => Either.left({ stage, reason })

const verifierReason = (e: unknown): Failure => {
  const detail = e instanceof Error ? excerpt(e.message, 80) : ""
  if (!(e instanceof VerificationError)) return { stage: 1, reason: "malformed sigstore bundle" }
  switch (e.code) {
    case "CERTIFICATE_ERROR":
      if (/SCT/.test(e.message)) return { stage: 3, reason: `certificate has no valid SCT from a trusted CT log (${detail})` }
      return { stage: 3, reason: "certificate not issued by the trusted root" }
    case "TIMESTAMP_ERROR":
      return { stage: 3, reason: `no verifiable timestamp (${detail})` }
    case "PUBLIC_KEY_ERROR":
      return { stage: 2, reason: "bundle is signed with a key, not a Fulcio certificate" }
    case "SIGNATURE_ERROR":
      return { stage: 5, reason: "signature does not verify" }
    case "TLOG_ERROR":
    case "TLOG_BODY_ERROR":
    case "TLOG_INCLUSION_PROOF_ERROR":
    case "TLOG_INCLUSION_PROMISE_ERROR":
    case "TLOG_MISSING_INCLUSION_ERROR":
      return { stage: 4, reason: `transparency log entry does not verify (${detail})` }
    default:
      return { stage: 3, reason: detail }
  }
}

const InTotoStatement = Schema.Struct({
  _type: Schema.Literal("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"),
  subject: Schema.Array(Schema.Struct({ digest: Schema.Record({ key: Schema.String, value: Schema.String }) })).pipe(Schema.maxItems(1000)),
  predicateType: Schema.String,
})

/** The image digest(s) a bundle's content signs: in-toto subjects for DSSE, the message digest otherwise. */
const signedDigests = (bundle: Bundle): Either.Either<ReadonlyArray<string>, string> => {
  const content = bundle.content
  if (content.$case === "messageSignature") {
    const { algorithm, digest } = content.messageSignature.messageDigest
    return algorithm === HashAlgorithm.SHA2_256
      ? Either.right([`sha256:${Buffer.from(digest).toString("hex")}`])
      : Either.left("bundle signs a message digest other than sha256")
  }
  const envelope = content.dsseEnvelope
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return Either.left(`bundle signs a "${excerpt(envelope.payloadType)}" payload, not an in-toto statement`)
  const statement = decodeJsonText(InTotoStatement, Buffer.from(envelope.payload).toString("utf8"))
  if (Either.isLeft(statement)) return Either.left("bundle's in-toto statement is malformed")
  return Either.right(statement.right.subject.flatMap((s) => (s.digest["sha256"] === undefined ? [] : [`sha256:${s.digest["sha256"].toLowerCase()}`])))
}

const checkIdentity = (signer: Signer, identity: Identity, subject: (san: string) => boolean): Either.Either<void, Failure> => {
  const issuer = signer.identity?.extensions?.issuer
  const san = signer.identity?.subjectAlternativeName
  if (issuer === identity.issuer && san !== undefined && subject(san)) return Either.void
  return fail(6, `identity does not match: issued to "${excerpt(san ?? "", 64)}" by "${excerpt(issuer ?? "", 64)}"`)
}

interface BundleInput {
  readonly identity: Identity
  readonly digest: string
  /** The candidate's manifest bytes, for bundles whose message signature is over them. */
  readonly artifact: Uint8Array | undefined
}

const verifyBundle = (root: TrustedRoot, bytes: Uint8Array, subject: (san: string) => boolean, input: BundleInput): Either.Either<void, Failure> => {
  if (bytes.byteLength > MAX_BUNDLE_BYTES) return fail(1, `sigstore bundle too large (${bytes.byteLength} bytes)`)
  let bundle: Bundle
  try {
    bundle = bundleFromJSON(JSON.parse(Buffer.from(bytes).toString("utf8")))
  } catch {
    return fail(1, "malformed sigstore bundle")
  }
  if (bundle.verificationMaterial.content.$case === "publicKey") return fail(2, "bundle is signed with a key, not a Fulcio certificate")
  const named = signedDigests(bundle)
  if (Either.isLeft(named)) return fail(2, named.left)
  const message = bundle.content.$case === "messageSignature"
  if (message && input.artifact === undefined) return fail(2, "bundle signs the image manifest, which was not available")
  let signer: Signer
  try {
    signer = new Verifier(root.material).verify(toSignedEntity(bundle, message ? Buffer.from(input.artifact ?? []) : undefined))
  } catch (e) {
    return Either.left(verifierReason(e))
  }
  const identity = checkIdentity(signer, input.identity, subject)
  if (Either.isLeft(identity)) return identity
  if (named.right.includes(input.digest)) return Either.void
  const [first] = named.right
  return fail(7, first === undefined ? "bundle names no sha256 digest" : `bundle is for ${shortDigest(first)}`)
}

// @sigstore/verify checks log entries, checkpoints and DSSE signatures with node:crypto's default
// digest for the key, which Deno's node:crypto lacks ("no default digest"): every bundle would fail
// there as if forged. Probed once, so such a runtime fails the gate with the real cause.
let defaultDigest: boolean | undefined
const hasDefaultDigest = (): boolean => {
  if (defaultDigest === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" })
    const data = Buffer.from("default digest probe")
    try {
      defaultDigest = verify(undefined, data, publicKey, sign("sha256", data, privateKey))
    } catch {
      defaultDigest = false
    }
  }
  return defaultDigest
}

/** Whether a bundle signs the image manifest itself (a message signature), so the caller must fetch it. */
export const needsManifest = (bundles: ReadonlyArray<Uint8Array>): boolean =>
  bundles.some((bytes) => {
    try {
      const value: unknown = JSON.parse(Buffer.from(bytes).toString("utf8"))
      return typeof value === "object" && value !== null && "messageSignature" in value
    } catch {
      return false
    }
  })

/**
 * Valid when one bundle verifies against the (already parsed) trusted root for `identity` and
 * names exactly `digest`; the reason is the report's, as in `not signed by <issuer> <subject> (<reason>)`.
 */
export const verifyBundles = (
  root: TrustedRoot,
  input: BundleInput & { readonly bundles: ReadonlyArray<Uint8Array> }
): Either.Either<void, KeylessFailure> => {
  if (!sha256DigestPattern.test(input.digest)) return Either.left({ reason: `cannot check ${shortDigest(input.digest)}: not a sha256 digest`, fatal: false })
  const subject = subjectMatcher(input.identity)
  if (Either.isLeft(subject)) return Either.left({ reason: subject.left, fatal: true })
  if (!hasDefaultDigest()) {
    const reason = "keyless verification needs node:crypto to verify ECDSA without a digest name, which this runtime cannot (Deno): run the compiled binary or Bun"
    return Either.left({ reason, fatal: true })
  }
  const artifact = input.artifact
  // A manifest that is not the candidate's would let a signature over other bytes pass for it.
  const manifest = artifact !== undefined && sha256Digest(artifact) === input.digest ? artifact : undefined
  let furthest: Failure = { stage: 0, reason: "no sigstore bundle" }
  for (const bytes of input.bundles) {
    const result = verifyBundle(root, bytes, subject.right, { ...input, artifact: manifest })
    if (Either.isRight(result)) return Either.void
    if (result.left.stage > furthest.stage) furthest = result.left
  }
  return Either.left({ reason: furthest.reason, fatal: false })
}

/**
 * Right when at least one of `bundles` (bundle JSON bytes) verifies offline against `trustedRoot`
 * (the JSON text of a sigstore trusted root) for `identity` and signs exactly `digest`. Left with
 * a reason for the report; `fatal` when the trusted root or the identity is unusable, which should
 * fail the target rather than skip the candidate.
 */
export const verifyKeyless = (input: {
  readonly bundles: ReadonlyArray<Uint8Array>
  readonly trustedRoot: string
  readonly identity: Identity
  readonly digest: string
  readonly artifact?: Uint8Array
}): Either.Either<void, KeylessFailure> => {
  const root = parseTrustedRoot(input.trustedRoot)
  if (Either.isLeft(root)) return Either.left({ reason: `malformed trusted root: ${root.left}`, fatal: true })
  return verifyBundles(root.right, { bundles: input.bundles, identity: input.identity, digest: input.digest, artifact: input.artifact })
}
