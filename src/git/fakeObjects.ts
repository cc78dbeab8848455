import { createHash } from "node:crypto"
import type { Author } from "./repoTypes.ts"
import { identPart } from "./commitBatch.ts"

/** A commit of a fake repository, with its whole tree. Its oid is the one git would give it. */
export interface Commit {
  readonly oid: string
  /** The first parent first, as git lists them; none for a root commit. */
  readonly parents: ReadonlyArray<string>
  /** Every file, by path from the root (a symbolic link's content is its target). */
  readonly tree: ReadonlyMap<string, string>
  /** The paths of `tree` that are symbolic links. */
  readonly links: ReadonlySet<string>
  /** As git keeps it: ending with a line break. */
  readonly message: string
  /** The first paragraph of the message on one line, as `git log --format=%s` shows it. */
  readonly subject: string
  /** Author and committer both, as the backends write them. */
  readonly author: Author
  /** Author and committer time, in seconds since the epoch (UTC). */
  readonly seconds: number
}

const sha1 = (...parts: ReadonlyArray<Uint8Array | string>) => {
  const hash = createHash("sha1")
  for (const part of parts) hash.update(part)
  return hash.digest("hex")
}

/** git's id of a blob: the sha1 of `blob <bytes>\0<content>`. */
export const blobOid = (content: string): string => {
  const bytes = Buffer.from(content, "utf8")
  return sha1(`blob ${bytes.length}\0`, bytes)
}

/** git's id of the tree of these files (mode 100644, or 120000 for the links), entries in git's order. */
const treeOid = (files: ReadonlyMap<string, string>, links: ReadonlySet<string>, prefix = ""): string => {
  const blobs = new Map<string, string>()
  const dirs = new Map<string, Map<string, string>>()
  for (const [path, content] of files) {
    const slash = path.indexOf("/")
    if (slash === -1) blobs.set(path, blobOid(content))
    else {
      const name = path.slice(0, slash)
      const sub = dirs.get(name) ?? new Map<string, string>()
      sub.set(path.slice(slash + 1), content)
      dirs.set(name, sub)
    }
  }
  // git orders a directory as if its name ended with "/".
  const entries = [
    ...[...blobs].map(([name, oid]) => ({ name, key: name, mode: links.has(`${prefix}${name}`) ? "120000" : "100644", oid })),
    ...[...dirs].map(([name, sub]) => ({ name, key: `${name}/`, mode: "40000", oid: treeOid(sub, links, `${prefix}${name}/`) }))
  ].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
  const body = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, "hex")]))
  return sha1(`tree ${body.length}\0`, body)
}

/** The commit git would write: same tree, parents, identity, time and message, same oid. `links` may name paths no longer in `tree`. */
export const makeCommit = (options: {
  readonly parents: ReadonlyArray<string>
  readonly tree: ReadonlyMap<string, string>
  readonly links?: ReadonlySet<string> | undefined
  readonly message: string
  readonly author: Author
  readonly seconds: number
}): Commit => {
  const message = options.message.endsWith("\n") ? options.message : `${options.message}\n`
  const author = { name: identPart(options.author.name), email: identPart(options.author.email) }
  const ident = `${author.name} <${author.email}> ${options.seconds} +0000`
  const links = new Set([...(options.links ?? [])].filter((path) => options.tree.has(path)))
  const text = [
    `tree ${treeOid(options.tree, links)}\n`,
    ...options.parents.map((oid) => `parent ${oid}\n`),
    `author ${ident}\ncommitter ${ident}\n\n${message}`
  ].join("")
  const bytes = Buffer.from(text, "utf8")
  const subject = (message.split(/\n\s*\n/)[0] ?? "").split("\n").join(" ").trim()
  return { oid: sha1(`commit ${bytes.length}\0`, bytes), parents: options.parents, tree: options.tree, links, message, subject, author, seconds: options.seconds }
}

/** The tree with `content` at `path`, in place of a file or a directory there or above it. */
export const withFile = (tree: ReadonlyMap<string, string>, path: string, content: string): ReadonlyMap<string, string> => {
  const next = new Map([...tree].filter(([key]) => !key.startsWith(`${path}/`)))
  const parts = path.split("/")
  for (let i = 1; i < parts.length; i++) next.delete(parts.slice(0, i).join("/"))
  next.set(path, content)
  return next
}

/**
 * The tree of merging `theirs` into `ours`: `ours`, with each file `theirs` changed since `base`
 * as `theirs` has it (a file-level three-way merge; the fake has no conflicts).
 */
export const mergedTree = (
  base: ReadonlyMap<string, string>,
  ours: ReadonlyMap<string, string>,
  theirs: ReadonlyMap<string, string>
): ReadonlyMap<string, string> => {
  const merged = new Map(ours)
  for (const path of new Set([...base.keys(), ...theirs.keys()])) {
    const content = theirs.get(path)
    if (content === base.get(path)) continue
    if (content === undefined) merged.delete(path)
    else merged.set(path, content)
  }
  return merged
}

/**
 * The tree of merging `theirs` into `ours`, file by file: a path changed on one side only takes
 * that side; changed on both to different contents (or removed on one), it conflicts. The paths
 * that conflict, when any do.
 */
export const mergeTrees = (
  base: ReadonlyMap<string, string>,
  ours: ReadonlyMap<string, string>,
  theirs: ReadonlyMap<string, string>
): { readonly tree: ReadonlyMap<string, string>; readonly conflicts: ReadonlyArray<string> } => {
  const merged = new Map(ours)
  const conflicts: Array<string> = []
  for (const path of new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])) {
    const [b, o, t] = [base.get(path), ours.get(path), theirs.get(path)]
    if (o === t || t === b) continue
    if (o !== b) conflicts.push(path)
    else if (t === undefined) merged.delete(path)
    else merged.set(path, t)
  }
  return { tree: merged, conflicts: conflicts.sort() }
}
