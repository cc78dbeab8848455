import { describe, expect, test } from "bun:test"
import { Effect, Either, Option, Redacted } from "effect"
import { amzDate, parseAssumeRoleResponse, parseCredentialsFile, signV4 } from "../../src/credentials/aws.ts"
import { decodeEcrToken, parseEcrHost } from "../../src/credentials/ecr.ts"

// AWS's published SigV4 test suite (aws-sig-v4-test-suite): these keys, region, service and time.
const suite = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: Redacted.make("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
  sessionToken: Option.none<Redacted.Redacted<string>>(),
}
const scope = { service: "service", region: "us-east-1" }
const suiteTime = Date.parse("2015-08-30T12:36:00Z")
const credential = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

describe("signV4 against the AWS test suite", () => {
  const cases = [
    {
      name: "get-vanilla",
      request: { method: "GET" as const, url: "https://example.amazonaws.com/", headers: {} },
      expected: `${credential}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    },
    {
      name: "get-vanilla-query-order-key-case",
      request: { method: "GET" as const, url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: {} },
      expected: `${credential}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
    },
    {
      name: "post-x-www-form-urlencoded",
      request: {
        method: "POST" as const,
        url: "https://example.amazonaws.com/",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "Param1=value1",
      },
      expected: `${credential}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
    },
  ]
  test.each(cases)("$name", async ({ request, expected }) => {
    const signed = await Effect.runPromise(signV4(request, suite, scope, suiteTime))
    expect(signed.headers["authorization"]).toBe(expected)
    expect(signed.headers["x-amz-date"]).toBe("20150830T123600Z")
  })

  test("a session token is sent and signed", async () => {
    const signed = await Effect.runPromise(
      signV4({ method: "GET", url: "https://example.amazonaws.com/", headers: {} }, { ...suite, sessionToken: Option.some(Redacted.make("TOKEN")) }, scope, suiteTime),
    )
    expect(signed.headers["x-amz-security-token"]).toBe("TOKEN")
    expect(signed.headers["authorization"]).toContain("SignedHeaders=host;x-amz-date;x-amz-security-token")
  })
})

describe("amzDate", () => {
  test("formats as SigV4 wants", () => expect(amzDate(suiteTime)).toBe("20150830T123600Z"))
})

describe("parseCredentialsFile", () => {
  const file = [
    "[default]",
    "aws_access_key_id = AKIADEFAULT",
    "aws_secret_access_key = secret-default",
    "",
    "# a comment",
    "[profile ci]",
    "aws_access_key_id=AKIACI",
    "aws_secret_access_key=secret-ci",
    "aws_session_token=session-ci",
    "[broken]",
    "aws_access_key_id=AKIAONLY",
  ].join("\n")
  const cases = [
    { profile: "default", expected: Either.right({ id: "AKIADEFAULT", secret: "secret-default", token: undefined }) },
    { profile: "ci", expected: Either.right({ id: "AKIACI", secret: "secret-ci", token: "session-ci" }) },
    { profile: "broken", expected: Either.left('profile "broken" has no aws_access_key_id and aws_secret_access_key') },
    { profile: "missing", expected: Either.left('profile "missing" has no aws_access_key_id and aws_secret_access_key') },
  ]
  test.each(cases)("$profile", ({ profile, expected }) => {
    const parsed = Either.map(parseCredentialsFile(file, profile), (keys) => ({
      id: keys.accessKeyId,
      secret: Redacted.value(keys.secretAccessKey),
      token: Option.getOrUndefined(Option.map(keys.sessionToken, Redacted.value)),
    }))
    expect(parsed).toEqual(expected)
  })
})

describe("parseEcrHost", () => {
  const cases = [
    { host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", expected: Option.some({ registryId: "123456789012", region: "eu-west-1" }) },
    { host: "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", expected: Option.some({ registryId: "123456789012", region: "us-east-1" }) },
    { host: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", expected: Option.some({ registryId: "123456789012", region: "cn-north-1" }) },
    { host: "gcr.io", expected: Option.none() },
  ]
  test.each(cases)("$host", ({ host, expected }) => expect(parseEcrHost(host)).toEqual(expected))
})

describe("decodeEcrToken", () => {
  test("AWS:password", () => {
    const decoded = Either.map(decodeEcrToken(btoa("AWS:pa:ss")), (c) => [c.username, Redacted.value(c.password)])
    expect(decoded).toEqual(Either.right(["AWS", "pa:ss"]))
  })
  test("not user:password", () => expect(Either.isLeft(decodeEcrToken(btoa("nocolon")))).toBe(true))
})

describe("parseAssumeRoleResponse", () => {
  test("reads the four credentials of STS's XML", () => {
    const xml = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult><Credentials>
    <AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>web-secret</SecretAccessKey>
    <SessionToken>web-session</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>
  </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`
    expect(parseAssumeRoleResponse(xml)).toEqual(
      Either.right({ AccessKeyId: "ASIAWEB", SecretAccessKey: "web-secret", Token: "web-session", Expiration: "2030-01-01T00:00:00Z" }),
    )
  })
  test("an error document is refused", () => expect(Either.isLeft(parseAssumeRoleResponse("<ErrorResponse/>"))).toBe(true))
})
