import { describe, expect, test } from "bun:test"
import { authorizationSecrets, credentialSecrets, scrubSecrets } from "../../src/domain/foreignText.ts"

describe("scrubSecrets", () => {
  test.each([
    ["our own prose stays", "Bearer challenge without a realm; unsupported auth scheme(s): basic, bearer", [], "Bearer challenge without a realm; unsupported auth scheme(s): basic, bearer"],
    ["a Basic header's credentials", "sent Basic cm9ib3Q6cHc=", [], "sent Basic <redacted>"],
    ["a Bearer header's credentials, any case", "sent bearer abc.DEF-123", [], "sent bearer <redacted>"],
    ["a JWT anywhere", "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig-nature", [], "token=<redacted>"],
    ["known secrets, longest first", "robot:hunter22 then hunter22", ["hunter22", "robot:hunter22"], "<redacted> then <redacted>"],
    ["secrets too short to look for", "a b ab", ["ab"], "a b ab"],
  ] as const)("%s", (_, text, secrets, expected) => {
    expect(scrubSecrets(text, secrets)).toBe(expected)
  })
})

describe("authorizationSecrets", () => {
  test("Basic: the base64, the pair and the password", () => {
    expect([...authorizationSecrets(`Basic ${btoa("robot:pw:with:colons")}`)].sort()).toEqual(
      [...credentialSecrets("robot", "pw:with:colons")].sort(),
    )
  })
  test("Bearer: the token", () => {
    expect(authorizationSecrets("Bearer tok123")).toEqual(["tok123"])
  })
})
