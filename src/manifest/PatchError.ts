import { Data } from "effect"

/** How a scalar is written in its file. */
export type ScalarStyle = "PLAIN" | "QUOTE_SINGLE" | "QUOTE_DOUBLE" | "BLOCK_LITERAL" | "BLOCK_FOLDED"

export class PatchError extends Data.TaggedError("PatchError")<{
  readonly reason: "YamlSyntax" | "NotScalar" | "Unrepresentable"
  readonly message: string
  readonly line?: number
}> {}
