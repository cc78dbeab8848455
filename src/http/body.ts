/**
 * Reading an answer's body ourselves instead of letting the runtime inflate it: Bun's own
 * decompression writes "Decompression error" lines to stderr past our logger, and inflates a
 * gzip bomb without limit. Here a body is inflated as it streams and counted, and one that grows
 * past its cap is abandoned at the cap.
 */

/**
 * The most an answer may hold, after inflating. Tag list pages are a few hundred kilobytes at
 * most (1000 tags a page), manifests and config blobs far less; 64 MiB leaves room for a
 * registry that ignores paging and still keeps a bomb from taking the process's memory.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024

/** What we accept, sent ourselves: with decompression off the runtime offers nothing. */
export const ACCEPT_ENCODING = "gzip, deflate"

/** An answer we will not read: bigger than its cap, or not in the encoding it claims. Never worth a retry. */
export class UnreadableBody extends Error {
  override readonly name = "UnreadableBody"
}

const formats: Readonly<Record<string, CompressionFormat>> = { gzip: "gzip", "x-gzip": "gzip", deflate: "deflate" }

const mebibytes = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`

/** The bytes of `response`'s body, inflated as its Content-Encoding says, failing with UnreadableBody past `cap`. */
export const readBody = async (response: Response, cap: number = MAX_BODY_BYTES): Promise<Uint8Array<ArrayBuffer>> => {
  const declared = (response.headers.get("content-encoding") ?? "").trim().toLowerCase()
  const encoding = declared === "" ? "identity" : declared
  if (response.body === null) return new Uint8Array(0)
  let stream: ReadableStream<Uint8Array> = response.body
  if (encoding !== "identity") {
    const format = formats[encoding]
    if (format === undefined) {
      await response.body.cancel()
      throw new UnreadableBody(`the body has an encoding we did not ask for (${JSON.stringify(encoding.slice(0, 32))})`)
    }
    stream = response.body.pipeThrough(new DecompressionStream(format))
  }
  const reader = stream.getReader()
  const chunks: Array<Uint8Array> = []
  let total = 0
  for (;;) {
    let next: Awaited<ReturnType<typeof reader.read>>
    try {
      next = await reader.read()
    } catch (error) {
      // A body cut off by the deadline or the connection is the transport's failure, not the encoding's.
      if (encoding === "identity" || !(error instanceof TypeError)) throw error
      throw new UnreadableBody(`the body is not valid ${encoding}`)
    }
    if (next.done) break
    total += next.value.byteLength
    if (total > cap) {
      await reader.cancel().catch(() => undefined)
      throw new UnreadableBody(`the body is larger than ${mebibytes(cap)}${encoding === "identity" ? "" : ` once inflated (${encoding})`}`)
    }
    chunks.push(next.value)
  }
  const body = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}
