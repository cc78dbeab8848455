import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { type AddressProblem, parseRegistryAddress } from "../../src/domain/address.ts"

describe("parseRegistryAddress", () => {
  const cases: ReadonlyArray<{ address: string; expected: Either.Either<string, AddressProblem> }> = [
    { address: "http://127.0.0.1:5000/", expected: Either.right("http://127.0.0.1:5000") },
    { address: "https://mirror.example/registry//", expected: Either.right("https://mirror.example/registry") },
    { address: "registry.example", expected: Either.left("NotUrl") },
    { address: "ftp://example.com", expected: Either.left("NotHttp") },
    { address: "https://bob:hunter2@example.com", expected: Either.left("Credentials") },
    // Credentials are named first: the other messages show the address.
    { address: "ftp://bob:hunter2@example.com", expected: Either.left("Credentials") },
    { address: "https://example.com/?x=1", expected: Either.left("QueryOrFragment") },
    { address: "https://example.com/#top", expected: Either.left("QueryOrFragment") },
  ]
  test.each(cases)("$address", ({ address, expected }) => {
    expect(parseRegistryAddress(address)).toEqual(expected)
  })
})
