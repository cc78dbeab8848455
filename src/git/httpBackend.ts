import { Either, Option } from "effect"

/** The backend for http(s) remotes: isomorphic-git (built in) or the system `git`. */
export type HttpBackend = "builtin" | "system"

/** The oldest system git used over http(s): credentials go through `GIT_CONFIG_COUNT` (2.31). */
export const MINIMUM_GIT: readonly [number, number] = [2, 31]

/** Major and minor of `git --version` output ("git version 2.39.5"). */
export const parseGitVersion = (output: string): Option.Option<readonly [number, number]> => {
  const match = /^git version (\d+)\.(\d+)/.exec(output.trim())
  return match?.[1] === undefined || match[2] === undefined
    ? Option.none()
    : Option.some([Number(match[1]), Number(match[2])] as const)
}

/**
 * System git when it is recent enough (it clones, fetches and writes commits several times faster),
 * else the built-in client, which the compiled binary always has. `wanted` is `RUNNER_GIT_BACKEND`.
 */
export const chooseHttpBackend = (
  wanted: Option.Option<HttpBackend>,
  version: Option.Option<readonly [number, number]>
): Either.Either<HttpBackend, string> => {
  const usable = Option.exists(
    version,
    ([major, minor]) => major > MINIMUM_GIT[0] || (major === MINIMUM_GIT[0] && minor >= MINIMUM_GIT[1])
  )
  if (Option.isSome(wanted) && wanted.value === "builtin") return Either.right("builtin")
  if (usable) return Either.right("system")
  if (Option.isNone(wanted)) return Either.right("builtin")
  const found = Option.match(version, { onNone: () => "none was found", onSome: ([a, b]) => `found ${a}.${b}` })
  return Either.left(`RUNNER_GIT_BACKEND=system needs git ${MINIMUM_GIT.join(".")} or newer on PATH; ${found}`)
}
