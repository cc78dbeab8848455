import { Context } from "effect"
import type { GitRepoService } from "./repoTypes.ts"

/**
 * The key of the `GitRepo` service, in a module below the backends so that their layers can provide
 * it while GitRepo.ts, which routes between them, imports them: `GitRepo` extends it with that layer.
 */
export class GitRepoTag extends Context.Tag("GitRepo")<GitRepoTag, GitRepoService>() {}
