/**
 * Image platforms as a gate names them (`linux/amd64`, `linux/arm/v7`) and as an index or an
 * image config states them (`os`, `architecture`, `variant`). Pure.
 */

/** `os/arch[/variant]`, lowercase, as Docker and the OCI image spec write a platform. */
const PLATFORM = /^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/

/** Why a gate's platform entry cannot be read, or undefined when it can. */
export const platformProblem = (text: string): string | undefined =>
  PLATFORM.test(text) ? undefined : `expected a platform as os/arch or os/arch/variant in lowercase (e.g. linux/arm64), got "${text}"`

/**
 * A platform in its canonical spelling: arm64's variant v8 is its default, so `linux/arm64/v8`
 * and `linux/arm64` are one platform; every other variant stays (`linux/arm/v7` is not `linux/arm`).
 */
export const canonicalPlatform = (text: string): string => (text.endsWith("/arm64/v8") ? text.slice(0, -3) : text)

/** A platform as an index entry or image config states it; undefined when os or architecture is missing. */
export const statedPlatform = (stated: { readonly os?: string | undefined; readonly architecture?: string | undefined; readonly variant?: string | undefined }): string | undefined => {
  if (stated.os === undefined || stated.os === "" || stated.architecture === undefined || stated.architecture === "") return undefined
  const variant = stated.variant === undefined || stated.variant === "" ? "" : `/${stated.variant}`
  return canonicalPlatform(`${stated.os}/${stated.architecture}${variant}`.toLowerCase())
}

/** The required platforms an image's set (canonical spellings) lacks, in the order required. */
export const missingPlatforms = (required: ReadonlyArray<string>, offered: ReadonlySet<string>): ReadonlyArray<string> =>
  required.filter((platform) => !offered.has(canonicalPlatform(platform)))
