import * as semver from "semver"
import { byteOrder, fixedLine, type TagPolicy } from "./TagPolicy.ts"

export interface SemverRank {
  readonly major: bigint
  readonly minor: bigint
  readonly patch: bigint
  readonly prerelease: ReadonlyArray<string>
  /** How many of MAJOR.MINOR.PATCH the tag spelled out: on equal versions the more precise wins. */
  readonly precision: number
  readonly tag: string
  /** `MAJOR.MINOR.PATCH[-pre]`, what the range is checked against. */
  readonly normalised: string
}

const versionRe =
  /^[vV]?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

/** Parses `v?MAJOR[.MINOR[.PATCH]][-pre][+build]`; missing parts are 0. */
const parseSemver = (value: string, tag: string): SemverRank | undefined => {
  const m = versionRe.exec(value)
  if (m === null) return undefined
  const [, major = "0", minor, patch, pre] = m
  const prerelease = pre === undefined ? [] : pre.split(".")
  const core = `${major}.${minor ?? "0"}.${patch ?? "0"}`
  return {
    major: BigInt(major),
    minor: BigInt(minor ?? "0"),
    patch: BigInt(patch ?? "0"),
    prerelease,
    precision: 1 + (minor === undefined ? 0 : 1) + (patch === undefined ? 0 : 1),
    tag,
    normalised: pre === undefined ? core : `${core}-${pre}`
  }
}

const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0)

const chunkRe = /\d+|\D+/g

/**
 * Compares pre-release identifiers. Numeric identifiers compare as numbers (SemVer 2.0), and so do
 * the digit runs inside alphanumeric ones, so `rc10` ranks above `rc9` as a person expects.
 */
const compareIdentifier = (a: string, b: string): number => {
  const ca = a.match(chunkRe) ?? []
  const cb = b.match(chunkRe) ?? []
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i] ?? ""
    const y = cb[i] ?? ""
    const xd = /^\d/.test(x)
    const yd = /^\d/.test(y)
    const c = xd && yd ? cmpBig(BigInt(x), BigInt(y)) : xd !== yd ? (xd ? -1 : 1) : byteOrder(x, y)
    if (c !== 0) return c
  }
  return ca.length - cb.length
}

const compareSemver = (a: SemverRank, b: SemverRank): number => {
  const core = cmpBig(a.major, b.major) || cmpBig(a.minor, b.minor) || cmpBig(a.patch, b.patch)
  if (core !== 0) return core
  // A release ranks above its pre-releases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    const c = (a.prerelease.length === 0 ? 1 : 0) - (b.prerelease.length === 0 ? 1 : 0)
    if (c !== 0) return c
  }
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const c = compareIdentifier(a.prerelease[i] ?? "", b.prerelease[i] ?? "")
    if (c !== 0) return c
  }
  return (
    a.prerelease.length - b.prerelease.length ||
    a.precision - b.precision ||
    // Same version, same precision (`v1.2.3` and `1.2.3`, or other build metadata): any stable order.
    byteOrder(b.tag, a.tag)
  )
}

/** Ranges that name a pre-release (`>=1.0.0-0`) opt in to pre-releases of every version. */
export const namesPrerelease = (range: string): boolean => /\d-[0-9A-Za-z]/.test(range)

/** Returns the normalised range, or undefined when the range is not valid. */
export const validSemverRange = (range: string): string | undefined => semver.validRange(range) ?? undefined

export const semverPolicy = (range: string): TagPolicy<SemverRank> => {
  const includePrerelease = namesPrerelease(range)
  const r = new semver.Range(range, { includePrerelease })
  // `*` takes every release, even versions too large for the range matcher's integers.
  const any = r.range === "" || r.range === "*"
  const line = fixedLine<SemverRank>(
    (rank) =>
      !includePrerelease && rank.prerelease.length > 0
        ? "a pre-release (the range names none)"
        : any || r.test(rank.normalised) ? undefined : `outside ${range}`,
    compareSemver
  )
  return {
    name: `semver ${range}`,
    usesCreated: false,
    floating: false,
    parse: (value, info) => parseSemver(value, info.tag),
    describe: (rank) => `semver ${rank.normalised}`,
    lineOf: () => line
  }
}
