import { gzipSync } from "node:zlib"

/** A body of `megabytes` zeros once inflated, a few kilobytes on the wire. */
export const gzipBomb = (megabytes: number): Uint8Array => gzipSync(Buffer.alloc(megabytes * 1024 * 1024))
