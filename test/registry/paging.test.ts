import { describe, expect, test } from "bun:test"
import { Duration, Either, Option } from "effect"
import { parseRetryAfter, safeUrl } from "../../src/http/RegistryHttp.ts"
import type { ProviderType } from "../../src/domain/ProviderConfig.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { parseNextLink, readTagList, tagInfos } from "../../src/registry/distribution.ts"

describe("parseNextLink", () => {
  const request = "http://127.0.0.1:5000/v2/foo/bar/tags/list?n=1000"
  const cases: ReadonlyArray<{ name: string; header: string | undefined; expected: Either.Either<Option.Option<string>, string> }> = [
    { name: "no header", header: undefined, expected: Either.right(Option.none()) },
    {
      name: "relative next",
      header: '</v2/foo/bar/tags/list?last=b&n=2>; rel="next"',
      expected: Either.right(Option.some("http://127.0.0.1:5000/v2/foo/bar/tags/list?last=b&n=2")),
    },
    {
      name: "unquoted rel",
      header: "</v2/foo/bar/tags/list?last=b>; rel=next",
      expected: Either.right(Option.some("http://127.0.0.1:5000/v2/foo/bar/tags/list?last=b")),
    },
    {
      name: "absolute URL on the same origin",
      header: '<http://127.0.0.1:5000/v2/foo/bar/tags/list?last=c>; rel="next"',
      expected: Either.right(Option.some("http://127.0.0.1:5000/v2/foo/bar/tags/list?last=c")),
    },
    {
      name: "next among other links",
      header: '</v2/foo/bar/tags/list?last=a>; rel="prev", </v2/foo/bar/tags/list?last=z>; rel="next"',
      expected: Either.right(Option.some("http://127.0.0.1:5000/v2/foo/bar/tags/list?last=z")),
    },
    {
      name: "rel with several values",
      header: '</v2/x?last=q>; title="t"; rel="last next"',
      expected: Either.right(Option.some("http://127.0.0.1:5000/v2/x?last=q")),
    },
    { name: "only prev", header: '</v2/foo/bar/tags/list?last=a>; rel="prev"', expected: Either.right(Option.none()) },
    {
      name: "another host is refused",
      header: '<https://evil.example/v2/foo/bar/tags/list?last=b>; rel="next"',
      expected: Either.left("Link header points the next page to another host (https://evil.example), refused"),
    },
    {
      name: "another port is refused",
      header: '<http://127.0.0.1:5001/v2/foo/bar/tags/list>; rel="next"',
      expected: Either.left("Link header points the next page to another host (http://127.0.0.1:5001), refused"),
    },
    {
      name: "protocol-relative URL to another host is refused",
      header: '<//evil.example/v2/x>; rel="next"',
      expected: Either.left("Link header points the next page to another host (http://evil.example), refused"),
    },
  ]
  test.each(cases)("$name", ({ header, expected }) => {
    expect(parseNextLink(header, request)).toEqual(expected)
  })
})

describe("readTagList", () => {
  // The plain shape is read by hand, the rest by the schema: both must give the same tags and refuse the same pages.
  const cases: ReadonlyArray<{ name: string; body: string; tags?: ReadonlyArray<string>; error?: RegExp }> = [
    { name: "plain page", body: '{"name":"a/b","tags":["1.0","1.1"]}', tags: ["1.0", "1.1"] },
    { name: "no tags (null)", body: '{"name":"a/b","tags":null}', tags: [] },
    { name: "no tags (absent)", body: '{"name":"a/b"}', tags: [] },
    { name: "extra fields are ignored", body: '{"name":"a/b","tags":["x"],"child":[]}', tags: ["x"] },
    {
      name: "GCR manifest map",
      body: '{"name":"p/i","tags":["v1"],"manifest":{"sha256:aa":{"tag":["v1"],"timeUploadedMs":"1700000000000"}}}',
      tags: ["v1"]
    },
    { name: "not JSON", body: "<html>", error: /not JSON/ },
    { name: "a list", body: '["1.0"]', error: /Expected/ },
    { name: "no name", body: '{"tags":["1.0"]}', error: /name/ },
    { name: "a tag that is a number", body: '{"name":"a/b","tags":["1.0",2]}', error: /tags/ },
    { name: "tags as a string", body: '{"name":"a/b","tags":"1.0"}', error: /tags/ },
    { name: "a broken manifest map", body: '{"name":"a/b","tags":[],"manifest":{"sha256:aa":{"tag":"v1"}}}', error: /manifest/ }
  ]
  test.each(cases)("$name", ({ body, tags, error }) => {
    const read = readTagList(body)
    if (error !== undefined) expect(Either.getLeft(read).pipe(Option.getOrElse(() => ""))).toMatch(error)
    else expect(Either.getOrThrow(read).tags ?? []).toEqual(tags ?? [])
  })

  // GCR's map is a push time only from a GCR provider: any registry can write one, with any time.
  const gcrPage = '{"name":"p/i","tags":["v1"],"manifest":{"sha256:aa":{"tag":["v1"],"timeUploadedMs":"1700000000000"}}}'
  const mapCases: ReadonlyArray<{ provider: ProviderType; expected: ReadonlyArray<TagInfo> }> = [
    { provider: "GCR", expected: [{ tag: "v1", digest: "sha256:aa", created: new Date(1700000000000), pushed: new Date(1700000000000) }] },
    { provider: "OCI", expected: [{ tag: "v1" }] },
    { provider: "DOCKER_HUB", expected: [{ tag: "v1" }] },
    { provider: "ECR", expected: [{ tag: "v1" }] }
  ]
  test.each(mapCases)("GCR's manifest map read from a $provider provider", ({ provider, expected }) => {
    expect(tagInfos(Either.getOrThrow(readTagList(gcrPage)), provider)).toEqual(expected)
  })
})

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z")
  const cases = [
    { name: "absent", value: undefined, expected: Option.none() },
    { name: "seconds", value: "5", expected: Option.some(Duration.seconds(5)) },
    { name: "zero", value: "0", expected: Option.some(Duration.zero) },
    { name: "capped at 60s", value: "3600", expected: Option.some(Duration.seconds(60)) },
    { name: "HTTP date", value: "Thu, 01 Jan 2026 00:00:07 GMT", expected: Option.some(Duration.seconds(7)) },
    { name: "HTTP date in the past", value: "Wed, 31 Dec 2025 23:00:00 GMT", expected: Option.some(Duration.zero) },
    { name: "garbage", value: "soon", expected: Option.none() },
  ]
  test.each(cases)("$name", ({ value, expected }) => {
    expect(parseRetryAfter(value, now)).toEqual(expected)
  })
})

describe("safeUrl", () => {
  const cases = [
    { url: "http://127.0.0.1:5000/v2/a/tags/list?n=1000&last=x", expected: "http://127.0.0.1:5000/v2/a/tags/list?n=1000&last=x" },
    { url: "https://auth/token?service=s&scope=repository%3Aa%3Apull", expected: "https://auth/token?service=s&scope=repository%3Aa%3Apull" },
    { url: "https://auth/token?service=s&access_token=SECRET", expected: "https://auth/token?service=s&access_token=xxx" },
    { url: "https://user:SECRET@host/v2/", expected: "https://host/v2/" },
  ]
  test.each(cases)("$url", ({ url, expected }) => {
    expect(safeUrl(url)).toBe(expected)
  })
})
