/**
 * Files larger than this are not parsed, manifests and watcher files alike. Parsing and checking a
 * splice cost about 200 times the file's size in memory and 2 s per MiB (8 MiB of small documents:
 * 17.6 s, +1.5 GB RSS), so this keeps a pass within 500 MB and a few seconds for any file it accepts.
 */
export const MAX_MANIFEST_MIB = 1.5
export const MAX_MANIFEST_BYTES = MAX_MANIFEST_MIB * 1024 * 1024

const megabytes = (bytes: number) => `${Math.round(bytes / 1e5) / 10} MB`

/** Why a file of `size` bytes is not parsed, if it is too large: `what` names the files the limit is for. */
export const oversize = (path: string, size: number, what: "manifests" | "watcher files"): string | undefined =>
  size > MAX_MANIFEST_BYTES ? `${path} is ${megabytes(size)}; ${what} over ${MAX_MANIFEST_MIB} MiB are left alone` : undefined
