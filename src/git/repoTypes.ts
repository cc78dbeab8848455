import type { Effect, Option, Redacted } from "effect"
import type { GitError } from "./GitError.ts"
import type { SshSettings } from "./sshConfig.ts"

/** The values of the GitRepo service, below every module of src/git, so that none of them imports the service to name them. */

export type SigningFormat = "ssh" | "openpgp"

/**
 * Signs commits with a key read once, in this process: the key never reaches a command line, an
 * environment or a file, and the signer holds it only inside its closure, so printing one shows
 * no key.
 */
export interface Signer {
  readonly format: SigningFormat
  /** The armored detached signature of `payload` (a commit object without its signature). */
  readonly sign: (payload: Uint8Array) => Promise<string>
}

export interface RepoSpec {
  readonly repoId: string
  /** https://host/org/repo.git (maybe with user:token@), git@host:org/repo.git, ssh://..., file:///path, /abs/path */
  readonly remote: string
  /** The branch watched: read, and written unless `pushBranch` is given. */
  readonly branch: string
  /**
   * Commits go to this branch instead, never to `branch`: it starts at `branch`'s tip when it does
   * not exist or is already contained in `branch` (merged), and otherwise at its own tip.
   */
  readonly pushBranch?: string | undefined
  /** https token/password (spec.git.passwordFile, or Piped's spec.git.password) */
  readonly password: Option.Option<Redacted.Redacted<string>>
  /** Who the password is for when the remote URL names nobody ("git" if unset). */
  readonly username: Option.Option<string>
  /** ssh private key (spec.git.sshKeyFile) */
  readonly sshKeyFile: Option.Option<string>
  /** How ssh trusts hosts: the pipeline's ssh config and known-hosts file (without it, the key alone). */
  readonly ssh?: SshSettings
  /** Signs every commit `commitAll` writes (spec.git.signingKeyFile); unsigned when absent. */
  readonly signer?: Signer
}

export interface Author {
  readonly name: string
  readonly email: string
}

export type PushResult = { readonly _tag: "Pushed" } | { readonly _tag: "Rejected"; readonly reason: string }

/** A file directly under a directory, by name, with its blob id. */
export interface Listed {
  readonly name: string
  readonly oid: string
}

/** A file anywhere in the tree at head: its path from the root, its blob id, and whether it is a regular file (executable or not) or a symbolic link. */
export interface TreeEntry {
  readonly path: string
  readonly oid: string
  readonly kind: "file" | "symlink"
}

/** What a path at head holds: a regular file of UTF-8 text, a regular file of other bytes, or a symbolic link. */
export type BlobKind = "text" | "binary" | "symlink"

/** A file's content as UTF-8 text, with the id of its blob (which changes exactly when the content does). */
export interface Blob {
  readonly oid: string
  /** The content, a byte-order mark kept, so that writing it back gives the same bytes; "" unless `kind` is "text". */
  readonly text: string
  readonly kind: BlobKind
  /** The size in bytes. */
  readonly size: number
}

export interface FileChange {
  readonly path: string
  readonly content: string
}

export interface CommitInput {
  readonly files: ReadonlyArray<FileChange>
  readonly message: string
  readonly author: Author
}

export type MergeResult =
  /** `theirs` is already an ancestor of (or is) `ours`: nothing to do. */
  | { readonly _tag: "UpToDate" }
  /** A new merge commit, parents [ours, theirs], written in the clone, not pushed. */
  | { readonly _tag: "Merged"; readonly oid: string }
  /** The same lines changed on both sides: nothing written. */
  | { readonly _tag: "Conflict"; readonly paths: ReadonlyArray<string> }

/** Branches of the remote beside the watched one (a request's branch), each written from a commit the clone has and pushed plainly. */
export interface OtherBranches {
  /** Fetches refs/heads/<name> from the remote into the clone: its tip, None when the remote has no such branch. */
  readonly fetch: (name: string) => Effect.Effect<Option.Option<string>, GitError>
  /** The commits one on top of the other from `parent` (a commit the clone has), signed as commitAll signs; head does not move. Their oids in order. */
  readonly commitOnto: (parent: string, inputs: ReadonlyArray<CommitInput>) => Effect.Effect<ReadonlyArray<string>, GitError>
  /**
   * Merges `theirs` into `ours` (both fetched): a merge commit with `message` by `author`, signed as
   * commitAll signs. A shallow clone is deepened to find their merge base, within the bound
   * `pushBranch.ts` sets; past it the merge fails.
   */
  readonly merge: (ours: string, theirs: string, message: string, author: Author) => Effect.Effect<MergeResult, GitError>
  /** Pushes `oid` to refs/heads/<name> on the remote, creating it when missing. Never forced: when the remote's tip is not an ancestor of `oid`, the answer is Rejected (not an error). */
  readonly push: (name: string, oid: string) => Effect.Effect<PushResult, GitError>
  /** Who wrote a commit the clone has: its author (name, email). */
  readonly authorOf: (oid: string) => Effect.Effect<Author, GitError>
}

/** A local clone of one branch (and of the branch it pushes to, when that is another), kept in a directory between passes. */
export interface Checkout {
  readonly repoId: string
  /**
   * Fetches the remote branch and resets head to its tip, dropping local commits that were never
   * pushed; returns head. With a push branch, head is the push branch's tip instead, unless it does
   * not exist remotely or its tip is contained in the branch.
   */
  readonly sync: Effect.Effect<string, GitError>
  /** The commit the checkout is at now (the base after sync, then each new commit). */
  readonly head: Effect.Effect<string>
  /** Each file at head, in the order asked; None where there is no such file. */
  readonly readFiles: (paths: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Option.Option<Blob>>, GitError>
  /** The files directly under `dir` at head, with their blob ids; [] if there is no such directory. */
  readonly listFiles: (dir: string) => Effect.Effect<ReadonlyArray<Listed>, GitError>
  /** Every regular file and symbolic link at head, recursively, with its blob id and kind; sorted by path (bytewise, as git sorts). Submodules are left out. */
  readonly listTree: Effect.Effect<ReadonlyArray<TreeEntry>, GitError>
  /**
   * The commits one on top of the other, from head; head advances to the last. Returns their oids
   * in order. On failure head stays where it was.
   */
  readonly commitAll: (inputs: ReadonlyArray<CommitInput>) => Effect.Effect<ReadonlyArray<string>, GitError>
  /**
   * Pushes head to the remote branch, or to the push branch (created when missing). Never forced: a
   * non-fast-forward is `Rejected`, not an error.
   */
  readonly push: Effect.Effect<PushResult, GitError>
  /** Other branches of the remote, for requests: none of them moves head or the branch pushed above. */
  readonly branches: OtherBranches
}

export interface GitRepoService {
  /**
   * Clones into `dir` (or reuses the clone already there, fetching), then syncs. The caller holds
   * the clone's lock (`holdCloneLock`), so git lock files found in `dir` are a crash's and are removed.
   */
  readonly open: (spec: RepoSpec, dir: string) => Effect.Effect<Checkout, GitError>
}

