import git, { type TreeEntry } from "isomorphic-git"
import * as fs from "node:fs"
import type { Staged } from "./commitBatch.ts"
import { identPart } from "./commitBatch.ts"
import type { Author, Signer } from "./repoTypes.ts"
import { signedCommit } from "./signing.ts"

/** Writes commit objects into an isomorphic-git clone: no ref moves here, the caller moves what it means to. */
export interface IsoCommitWriter {
  /** The batch, one commit on another from `parent`; their oids in order. */
  readonly writeBatch: (parent: string, batch: ReadonlyArray<Staged>, seconds: number) => Promise<ReadonlyArray<string>>
  /** One commit of `tree` on `parents`, signed when the clone's spec signs. */
  readonly writeCommit: (fields: { readonly tree: string; readonly parents: ReadonlyArray<string>; readonly author: Author; readonly seconds: number; readonly message: string }) => Promise<string>
}

export const isoCommitWriter = (options: { readonly dir: string; readonly cache: object; readonly signer: Signer | undefined }): IsoCommitWriter => {
  const { cache, dir, signer } = options
  /** Trees by oid, as read or written: a batch of commits rewrites the same few trees again and again. */
  const trees = new Map<string, ReadonlyArray<TreeEntry>>()

  const treeEntries = async (oid: string): Promise<ReadonlyArray<TreeEntry>> => {
    const known = trees.get(oid)
    if (known !== undefined) return known
    const { tree } = await git.readTree({ fs, cache, gitdir: dir, oid })
    trees.set(oid, tree)
    return tree
  }

  /** Writes the trees from `parts` up to the root with `blob` at the end; returns the new root tree. */
  const withBlob = async (treeOid: string | undefined, parts: ReadonlyArray<string>, blob: string): Promise<string> => {
    const [name, ...rest] = parts
    if (name === undefined) throw new Error("empty path")
    const entries = treeOid === undefined ? [] : [...(await treeEntries(treeOid))]
    const index = entries.findIndex((entry) => entry.path === name)
    const existing = index === -1 ? undefined : entries[index]
    let entry: TreeEntry
    if (rest.length === 0) {
      const mode = existing?.type === "blob" ? existing.mode : "100644"
      entry = { mode, path: name, oid: blob, type: "blob" }
    } else {
      const subtree = existing?.type === "tree" ? existing.oid : undefined
      entry = { mode: "040000", path: name, oid: await withBlob(subtree, rest, blob), type: "tree" }
    }
    if (index === -1) entries.push(entry)
    else entries[index] = entry
    const oid = await git.writeTree({ fs, gitdir: dir, tree: entries })
    trees.set(oid, entries)
    return oid
  }

  const writeCommit: IsoCommitWriter["writeCommit"] = async (fields) => {
    const signature = { name: identPart(fields.author.name), email: identPart(fields.author.email), timestamp: fields.seconds, timezoneOffset: 0 }
    // Signed objects are made by the code system git's signing uses too: one format for both backends.
    return signer === undefined
      ? git.writeCommit({
        fs,
        gitdir: dir,
        commit: { message: fields.message, tree: fields.tree, parent: [...fields.parents], author: signature, committer: signature }
      })
      : git.writeObject({ fs, gitdir: dir, type: "commit", format: "content", object: (await signedCommit(signer, fields)).bytes })
  }

  const writeBatch: IsoCommitWriter["writeBatch"] = async (parent, batch, seconds) => {
    const { commit: parentCommit } = await git.readCommit({ fs, cache, gitdir: dir, oid: parent })
    let tree = parentCommit.tree
    let tip = parent
    const made: Array<string> = []
    for (const { changes, input } of batch) {
      for (const { content, path } of changes) {
        const blob = await git.writeBlob({ fs, gitdir: dir, blob: new TextEncoder().encode(content) })
        tree = await withBlob(tree, path.split("/"), blob)
      }
      tip = await writeCommit({ tree, parents: [tip], author: input.author, seconds, message: input.message })
      made.push(tip)
    }
    return made
  }

  return { writeBatch, writeCommit }
}
