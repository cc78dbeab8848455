import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { PullRequestSettings } from "../config/model.ts"
import type { RegistryHttp } from "../http/RegistryHttp.ts"
import { readTokenFile } from "../secretFile.ts"
import { type Forge, ForgeError } from "./Forge.ts"
import { githubForge } from "./github.ts"
import { makeGitlabForge } from "./gitlab.ts"

/**
 * The Forge a `pullRequest` setting names, with the token of its `tokenFile` (read at each call,
 * so a rotated token is used from the next pass on). An empty or unreadable file is a Config
 * failure that names the file, never what it holds.
 */
export const forgeOf = (settings: PullRequestSettings): Effect.Effect<Forge, ForgeError, RegistryHttp | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const token = yield* readTokenFile("tokenFile", settings.tokenFile).pipe(
      Effect.mapError((detail) =>
        new ForgeError({ reason: "Config", provider: settings.provider, repository: settings.repository, operation: "read the token", detail })
      )
    )
    const { apiURL, repository } = settings
    // Gitea and Forgejo serve GitHub's shape of API, under /api/v1.
    return yield* settings.provider === "gitlab" ? makeGitlabForge({ apiURL, repository, token }) : githubForge({ apiURL, repository, token })
  })
