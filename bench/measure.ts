/**
 * Timing and memory of child processes (`/usr/bin/time -v` for peak RSS), medians over repeated
 * runs, and the lower bounds: the registry requests a pass must send, and what system git takes.
 */
import { existsSync } from "node:fs"
import { git } from "../test/support/gitServer.ts"
import { exec, type RunResult } from "../test/support/runner.ts"
import { inParallel } from "./fixtures.ts"

export const TIME_BIN = "/usr/bin/time"

/** Without GNU time there is no peak RSS; the bench says how to get it instead of guessing. */
export const requireGnuTime = () => {
  if (!existsSync(TIME_BIN)) {
    throw new Error(`${TIME_BIN} is missing: install the Debian "time" package (apt-get install time) for peak RSS figures`)
  }
}

export interface Sample extends RunResult {
  readonly ms: number
  /** Peak resident set size, in MiB. */
  readonly rssMb: number
}

/** Runs a command to completion under GNU time; fails on a non-zero exit unless `allowFailure`. */
export const measure = async (command: string, args: ReadonlyArray<string>, options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<Sample> => {
  const started = performance.now()
  const result = await exec(TIME_BIN, ["-v", command, ...args], { timeoutMs: options.timeoutMs ?? 600_000 })
  const ms = performance.now() - started
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1]
  if (rss === undefined) throw new Error(`no GNU time report for ${command}: ${result.stderr.slice(-2000)}`)
  if (result.code !== 0 && options.allowFailure !== true) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-4000)}`)
  }
  return { ...result, ms, rssMb: Number(rss) / 1024 }
}

/** Times an async block in this process. */
export const elapsed = async (work: () => Promise<unknown>): Promise<number> => {
  const started = performance.now()
  await work()
  return performance.now() - started
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** The lower bound's registry side: every image's tag list, fetched directly, 8 at a time. */
export const TAG_LIST_CONCURRENCY = 8

export const listTagsDirectly = (registryUrl: string, repositories: ReadonlyArray<string>) =>
  inParallel(repositories, TAG_LIST_CONCURRENCY, async (repository) => {
    const res = await fetch(`${registryUrl}/v2/${repository}/tags/list?n=1000`)
    const body: unknown = await res.json()
    if (res.status !== 200) throw new Error(`tag list of ${repository}: ${res.status} ${JSON.stringify(body)}`)
  })

/**
 * `git clone --depth 1 --single-branch`, the lower bound for a first pass, without the
 * checkout: the runner reads files from git objects and never writes a working tree, so writing
 * one would flatter the runner on large repositories.
 */
export const shallowClone = (remote: string, dir: string) =>
  git(["clone", "--quiet", "--depth", "1", "--single-branch", "--no-checkout", "--branch", "main", remote, dir])

export const fetchIn = (dir: string) => git(["fetch", "--quiet", "origin"], { cwd: dir })
