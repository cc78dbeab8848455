import { Either, Encoding, ParseResult, Redacted, Schema } from "effect"
import { oneOf, opt } from "./ConfigError.ts"
import type { GitConfig } from "./model.ts"

const Text = Schema.String
const Name = Schema.NonEmptyString
/** A host name or alias as the runner writes it into an ssh config: one word, nothing ssh would read as quoting or a comment. */
const SshHost = Name.pipe(Schema.filter((host) => /^[^\s"'#\\]+$/.test(host) || "must be one word, without spaces, quotes, # or \\"))

/**
 * A secret Piped writes base64-encoded in its config (`sshKeyData`, `password`), decoded. Line
 * breaks are allowed, as `base64` wraps its output; errors never show the value.
 */
export const Base64Secret = Schema.transformOrFail(Schema.String, Schema.RedactedFromSelf(Schema.String), {
  strict: true,
  decode: (input, _, ast) =>
    Either.match(Encoding.decodeBase64String(input.replace(/\s+/g, "")), {
      onLeft: () => ParseResult.fail(new ParseResult.Type(ast, "<hidden>", "expected base64 (the value is not shown)")),
      onRight: (decoded) =>
        decoded === "" ? ParseResult.fail(new ParseResult.Type(ast, "<hidden>", "the decoded value is empty")) : ParseResult.succeed(Redacted.make(decoded))
    }),
  encode: (secret, _, ast) => ParseResult.fail(new ParseResult.Forbidden(ast, secret, "secrets are only decoded"))
})

export const GitSection = Schema.Struct({
  username: opt(Text),
  email: opt(Text),
  sshKeyFile: opt(Text),
  passwordFile: opt(Text),
  // Piped's inline secrets, base64-encoded: the key for ssh remotes, the password for https ones.
  sshKeyData: opt(Base64Secret),
  password: opt(Base64Secret),
  signingKeyFile: opt(Name),
  signingFormat: opt(oneOf("ssh", "openpgp")),
  knownHostsFile: opt(Name),
  // Piped's own ssh settings, honoured as Piped honours them.
  host: opt(SshHost),
  hostName: opt(SshHost),
  sshConfigFilePath: opt(Name)
})


/** The `git` section as the pipeline uses it: Piped's defaults for the author, every other key as given. */
export const toGitConfig = (git: typeof GitSection.Type | undefined): GitConfig => ({
  username: git?.username ?? "piped",
  email: git?.email ?? "pipecd.dev@gmail.com",
  ...(git?.sshKeyFile === undefined ? {} : { sshKeyFile: git.sshKeyFile }),
  ...(git?.passwordFile === undefined ? {} : { passwordFile: git.passwordFile }),
  ...(git?.sshKeyData === undefined ? {} : { sshKey: git.sshKeyData }),
  ...(git?.password === undefined ? {} : { password: git.password }),
  ...(git?.signingKeyFile === undefined ? {} : { signingKeyFile: git.signingKeyFile }),
  ...(git?.signingFormat === undefined ? {} : { signingFormat: git.signingFormat }),
  ...(git?.knownHostsFile === undefined ? {} : { knownHostsFile: git.knownHostsFile }),
  ...(git?.host === undefined ? {} : { host: git.host }),
  ...(git?.hostName === undefined ? {} : { hostName: git.hostName }),
  ...(git?.sshConfigFilePath === undefined ? {} : { sshConfigFilePath: git.sshConfigFilePath })
})
