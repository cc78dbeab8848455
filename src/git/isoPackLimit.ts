import { FileSystem } from "@effect/platform"
import { Effect, Option } from "effect"
import type { GitHttpRequest, GitHttpResponse, HttpClient } from "isomorphic-git"
import http from "isomorphic-git/http/web"

/**
 * The most bytes isomorphic-git may receive in one answer (a fetch's pack) or find in one pack of
 * the clone. It holds a whole pack in memory as it fetches it, again as it indexes it (a large
 * blob inflated besides), and once more whenever it reads an object of that pack: a pack of 64 MiB
 * took it to about 500 MB of RSS where system git stayed near 110 MB. A shallow clone's pack is
 * the branch tip's files, compressed; a configuration repository's is a few MiB.
 */
export const DEFAULT_MAX_PACK_BYTES = 32 * 2 ** 20

const mib = (bytes: number) => Math.ceil(bytes / 2 ** 20)

/** Thrown inside isomorphic-git's fetch when the remote's answer outgrows the limit. */
export class PackTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the remote sends more than ${mib(limit)} MiB`)
  }
}

async function* counted(body: AsyncIterableIterator<Uint8Array>, limit: number): AsyncIterableIterator<Uint8Array> {
  let received = 0
  for await (const chunk of body) {
    received += chunk.length
    if (received > limit) throw new PackTooLarge(limit)
    yield chunk
  }
}

/** isomorphic-git's web client, its answers cut off past `limit` bytes, before they are held whole. */
export const boundedHttp = (limit: number): HttpClient => ({
  request: async (request: GitHttpRequest): Promise<GitHttpResponse> => {
    const response = await http.request(request)
    return response.body === undefined ? response : { ...response, body: counted(response.body, limit) }
  }
})

/** What to tell the operator of a repository too large for the built-in client. */
export const tooLargeMessage = (repoId: string, what: string): string =>
  `repository ${repoId} ${what}; the built-in git client would hold it in memory: use the system git backend (RUNNER_GIT_BACKEND=system, git 2.31 or newer)`

/** The first pack of the clone in `dir` larger than `limit` (left by system git, or fetched under a higher limit). */
export const largePack = (dir: string, limit: number): Effect.Effect<Option.Option<{ readonly file: string; readonly bytes: number }>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const names = yield* fs.readDirectory(`${dir}/objects/pack`).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    for (const name of names.filter((n) => n.endsWith(".pack"))) {
      const info = yield* fs.stat(`${dir}/objects/pack/${name}`).pipe(Effect.option)
      const bytes = Option.isSome(info) ? Number(info.value.size) : 0
      if (bytes > limit) return Option.some({ file: name, bytes })
    }
    return Option.none()
  })

/** How `largePack`'s find reads in `tooLargeMessage`. */
export const largePackText = (found: { readonly file: string; readonly bytes: number }, limit: number): string =>
  `holds a pack of ${mib(found.bytes)} MiB (${found.file}), more than the ${mib(limit)} MiB the built-in git client takes`

/** How a `PackTooLarge` reads in `tooLargeMessage`. */
export const tooLargeText = (error: PackTooLarge): string =>
  `sends more than ${mib(error.limit)} MiB in one fetch (a large file at the branch tip, most likely)`
