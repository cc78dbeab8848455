import { Option } from "effect"
import type { Blob } from "./repoTypes.ts"
import { identPart, type Staged } from "./commitBatch.ts"

const utf8 = new TextDecoder()

// Fatal: a file that is not UTF-8 must not come back with its bytes replaced, to be written so.
// ignoreBOM keeps a byte-order mark in the text, so that it is written back too.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** The mode git gives a symbolic link. */
export const SYMLINK_MODE = "120000"

/** A blob read at a path with this tree-entry mode: its text when it is a regular file of UTF-8. */
export const blobOf = (oid: string, bytes: Uint8Array, mode: string | undefined): Blob => {
  if (mode === SYMLINK_MODE) return { oid, text: "", kind: "symlink", size: bytes.length }
  try {
    return { oid, text: strictUtf8.decode(bytes), kind: "text", size: bytes.length }
  } catch {
    return { oid, text: "", kind: "binary", size: bytes.length }
  }
}

/** One `ls-tree -z` record: "<mode> <type> <oid>\t<path>". */
export const parseLsTree = (output: string) =>
  output
    .split("\0")
    .filter((record) => record.length > 0)
    .flatMap((record) => {
      const match = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(record)
      return match?.[1] !== undefined && match[2] !== undefined && match[3] !== undefined && match[4] !== undefined
        ? [{ mode: match[1], type: match[2], oid: match[3], path: match[4] }]
        : []
    })

/**
 * The answers of `git cat-file --batch` to `count` requests, in order: a blob, or None for a
 * missing path or one that names a tree. `modeOf` gives the tree-entry mode of the i-th request's
 * path (cat-file does not say it). Undefined if the output is cut short.
 */
export const parseCatFileBatch = (
  out: Uint8Array,
  count: number,
  modeOf: (index: number) => string | undefined = () => undefined
): ReadonlyArray<Option.Option<Blob>> | undefined => {
  const answers: Array<Option.Option<Blob>> = []
  let at = 0
  while (answers.length < count) {
    const eol = out.indexOf(10, at)
    if (eol === -1) return undefined
    const header = /^([0-9a-f]+) (\w+) (\d+)$/.exec(utf8.decode(out.subarray(at, eol)))
    if (header === null) {
      // "<request> missing" or "<request> ambiguous": no such file.
      answers.push(Option.none())
      at = eol + 1
      continue
    }
    const end = eol + 1 + Number(header[3])
    if (end > out.length) return undefined
    const oid = header[1] ?? ""
    const index = answers.length
    answers.push(header[2] === "blob" ? Option.some(blobOf(oid, out.subarray(eol + 1, end), modeOf(index))) : Option.none())
    // Each object is followed by a newline.
    at = end + 1
  }
  return answers
}

/** A path as fast-import reads it: C-quoted, so that spaces, quotes and newlines survive. */
const fastImportPath = (path: string) => `"${path.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`

const byteLength = (text: string) => new TextEncoder().encode(text).length

const fastImportData = (text: string) => `data ${byteLength(text)}\n${text}\n`

/**
 * The `git fast-import` input that writes `batch` on `branchRef`, one commit on another from
 * `parent`, and then prints their oids in order. `modes` keeps the mode of a file it rewrites.
 * With `treesOnly`, it prints each commit's root tree instead (`parseRootTrees`) and leaves
 * `branchRef` at `parent`: the caller writes the commits again, signed.
 */
export const fastImportScript = (options: {
  readonly branchRef: string
  readonly parent: string
  readonly seconds: number
  readonly batch: ReadonlyArray<Staged>
  readonly modes: ReadonlyMap<string, string>
  readonly treesOnly?: boolean
}): string => {
  const { batch, branchRef, modes, parent, seconds, treesOnly = false } = options
  const commits = batch.map(({ changes, input }, i) => {
    const ident = `${identPart(input.author.name)} <${identPart(input.author.email)}> ${seconds} +0000`
    const message = input.message.endsWith("\n") ? input.message : `${input.message}\n`
    return [
      `commit ${branchRef}\nmark :${i + 1}\nauthor ${ident}\ncommitter ${ident}\n${fastImportData(message)}`,
      i === 0 ? `from ${parent}\n` : "",
      ...changes.map(({ content, path }) =>
        `M ${modes.get(path) ?? "100644"} inline ${fastImportPath(path)}\n${fastImportData(content)}`
      ),
      // Inside a commit, `ls` of the empty path prints the root tree the commit has so far.
      treesOnly ? `ls ""\n` : "",
      "\n"
    ].join("")
  })
  const end = treesOnly ? [`reset ${branchRef}\nfrom ${parent}\n\n`] : batch.map((_, i) => `get-mark :${i + 1}\n`)
  return [...commits, ...end, "done\n"].join("")
}

/** The root trees a `treesOnly` script printed, in order: lines "040000 tree <oid>\t". */
export const parseRootTrees = (output: string): ReadonlyArray<string> =>
  output.split("\n").flatMap((line) => /^040000 tree ([0-9a-f]{40,64})\t$/.exec(line)?.[1] ?? [])
