/** What the runner sends a registry that wants Bearer tokens and pages its tag lists. */
import { join } from "node:path"
import type { TestGitServer } from "../test/support/gitServer.ts"
import { startPagingProxy, startRegistry } from "../test/support/registry.ts"
import { startCountingProxy } from "./countingProxy.ts"
import { inParallel, pad, PUSH_CONCURRENCY } from "./fixtures.ts"
import { CURRENT, PAGE_SIZE, TAGS, TARGETS_PER_IMAGE } from "./options.ts"
import { runPass, watchedRepo } from "./passes.ts"

export interface RequestCounts {
  readonly images: number
  readonly targets: number
  readonly pagesPerImage: number
  readonly passes: ReadonlyArray<{
    readonly pass: string
    readonly tagListRequestsPerImage: number
    readonly challengedPerImage: number
    readonly manifestRequests: number
    readonly tokenRequests: number
    readonly tokenScopes: number
    readonly otherRequests: number
  }>
}

/** The runner talks to a paging proxy, which talks to a counting proxy in front of the real registry. */
export const requestCounts = async (server: TestGitServer, work: string): Promise<RequestCounts> => {
  const registry = await startRegistry({ tokenAuth: {} })
  const counting = await startCountingProxy(registry.url)
  const paging = await startPagingProxy({ ...registry, url: counting.url }, PAGE_SIZE)
  try {
    const images = Array.from({ length: 40 }, (_, i) => `count/img-${pad(i, 2)}`)
    await inParallel(images, PUSH_CONCURRENCY, async (r) => {
      for (const tag of TAGS) await registry.pushImage(r, tag)
    })
    const w = await watchedRepo(registry, server, work, "counted", images, {
      targetsPerImage: TARGETS_PER_IMAGE,
      files: 20,
      extraFiles: 0,
      tag: CURRENT,
      address: paging.url
    })
    const dataDir = join(work, "counted-data")
    const passes: Array<RequestCounts["passes"][number]> = []
    for (const pass of ["cold", "warm"]) {
      const [exchangesBefore, tokensBefore] = [counting.exchanges.length, registry.tokenRequests.length]
      await runPass(w.config, dataDir, { updated: 0, upToDate: w.targets })
      const exchanges = counting.exchanges.slice(exchangesBefore)
      const tokens = registry.tokenRequests.slice(tokensBefore)
      const tagLists = exchanges.filter((e) => /\/tags\/list/.test(e.path))
      passes.push({
        pass,
        tagListRequestsPerImage: tagLists.length / images.length,
        challengedPerImage: tagLists.filter((e) => e.status === 401).length / images.length,
        manifestRequests: exchanges.filter((e) => /\/manifests\//.test(e.path)).length,
        tokenRequests: tokens.length,
        tokenScopes: new Set(tokens.map((t) => new URL(t, "http://token.invalid").searchParams.get("scope"))).size,
        otherRequests: exchanges.length - tagLists.length - exchanges.filter((e) => /\/manifests\//.test(e.path)).length
      })
    }
    return { images: images.length, targets: w.targets, pagesPerImage: Math.ceil(TAGS.length / PAGE_SIZE), passes }
  } finally {
    await Promise.all([paging.stop(), counting.stop()])
    await registry.stop()
  }
}

export const requestLines = (requests: RequestCounts) => [
  `requests per pass, ${requests.images} images (${requests.targets} targets), Bearer tokens, ${requests.pagesPerImage} tag-list pages per image:`,
  ...requests.passes.map(
    (p) =>
      `  ${p.pass}: ${p.tagListRequestsPerImage} tag-list requests per image (${p.challengedPerImage} answered 401), ` +
      `${p.manifestRequests} manifest requests, ${p.tokenRequests} token requests for ${p.tokenScopes} scopes, ${p.otherRequests} other`
  )
]
