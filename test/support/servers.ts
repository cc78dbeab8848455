/** The real servers of an end-to-end test file, started once before its tests and stopped after them. */
import { afterAll, beforeAll } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "./hooks.ts"
import { ensureBuilt } from "./runner.ts"

interface Stoppable {
  stop(): Promise<unknown>
}

/**
 * Builds the executable and starts the servers `start` names before the file's tests; `assign`
 * hands them to the file's own variables. After the tests every server that started is stopped,
 * also when another failed to start.
 */
export const useServers = <S extends Record<string, Stoppable>>(
  start: () => { readonly [K in keyof S]: Promise<S[K]> },
  assign: (servers: S) => void,
  timeoutMs = SERVER_HOOK_TIMEOUT
) => {
  let started: Array<Stoppable> = []
  beforeAll(async () => {
    ensureBuilt()
    const names = Object.entries(start()) as Array<[keyof S, Promise<Stoppable>]>
    const settled = await Promise.allSettled(names.map(([, server]) => server))
    started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []))
    const failed = settled.find((s) => s.status === "rejected")
    if (failed !== undefined) throw failed.reason
    assign(Object.fromEntries(names.map(([name], i) => [name, (settled[i] as PromiseFulfilledResult<Stoppable>).value])) as S)
  }, timeoutMs)
  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()))
  }, timeoutMs)
}
