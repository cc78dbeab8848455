import type { TreeEntry } from "./repoTypes.ts"
import { SYMLINK_MODE } from "./plumbing.ts"

/**
 * What a tree entry of this mode is to a listing: a symbolic link, a file (executable or not), or
 * nothing (a directory, or a submodule's commit, which the clone does not have).
 */
export const kindOfMode = (mode: string): TreeEntry["kind"] | undefined =>
  mode === SYMLINK_MODE ? "symlink" : mode.startsWith("100") ? "file" : undefined

/** The entries sorted by path, bytewise as git compares names (not by UTF-16 code units). */
export const sortedByPath = (entries: ReadonlyArray<TreeEntry>): ReadonlyArray<TreeEntry> =>
  entries
    .map((entry) => ({ entry, key: Buffer.from(entry.path) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ entry }) => entry)

/**
 * The files and links of `git ls-tree -r -z` output: records "<mode> <type> <oid>\t<path>" ended
 * by NUL, so that a path may hold any byte but NUL, a newline or a tab included.
 */
export const parseTreeListing = (output: string): ReadonlyArray<TreeEntry> => {
  const entries: Array<TreeEntry> = []
  let at = 0
  while (at < output.length) {
    let end = output.indexOf("\0", at)
    if (end === -1) end = output.length
    const record = output.slice(at, end)
    at = end + 1
    const space = record.indexOf(" ")
    const tab = record.indexOf("\t")
    if (space === -1 || tab === -1) continue
    const kind = kindOfMode(record.slice(0, space))
    // "<type> <oid>": the oid is the last field before the tab.
    const oid = record.slice(record.lastIndexOf(" ", tab) + 1, tab)
    if (kind !== undefined && record.slice(space + 1, tab).startsWith("blob ")) entries.push({ path: record.slice(tab + 1), oid, kind })
  }
  return sortedByPath(entries)
}

/** A one-entry memo keyed by commit: a commit's tree never changes, so its listing is kept until head moves. */
export const perCommit = <A>() => {
  let kept: { readonly commit: string; readonly value: A } | undefined
  return {
    get: (commit: string): A | undefined => (kept?.commit === commit ? kept.value : undefined),
    set: (commit: string, value: A): A => {
      kept = { commit, value }
      return value
    }
  }
}
