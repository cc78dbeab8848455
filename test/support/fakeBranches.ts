/**
 * Where a fake code host keeps its idea of the repository's branches: by default a map of its own;
 * in a scenario over the real git server, that server's repository, so that a branch the runner
 * pushed exists for the host, and a branch the host deletes is gone from git.
 */
import { join } from "node:path"
import { git, type TestGitServer } from "./gitServer.ts"

export interface BranchStore {
  /** The branch's tip; undefined when there is no such branch. */
  readonly tip: (branch: string) => Promise<string | undefined>
  /** Deletes the branch; false when there was none. */
  readonly delete: (branch: string) => Promise<boolean>
}

/** The branches of the bare repository `name` on the git server. */
export const gitServerBranches = (server: TestGitServer, name: string): BranchStore => ({
  tip: (branch) => server.tip(name, branch),
  delete: async (branch) => {
    if ((await server.tip(name, branch)) === undefined) return false
    await git(["update-ref", "-d", `refs/heads/${branch}`], { cwd: join(server.root, `${name}.git`) })
    return true
  }
})
