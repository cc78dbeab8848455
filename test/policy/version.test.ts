/** The default policy, `version`: how tags are read, and what each realistic tag scheme moves to. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { readFileSync } from "node:fs"
import type { PolicySpec } from "../../src/domain/PolicySpec.ts"
import { formatExplanation } from "../../src/policy/explain.ts"
import { compareVersions, describeVersion, parseVersion } from "../../src/policy/version.ts"
import { decideRow, selectorFor } from "../support/defaultPolicy.ts"

describe("reading a tag", () => {
  test.each([
    // numbers, prefix, zero padding
    ["1.25.3", "version 1.25.3"],
    ["v2.11.0", "version 2.11.0"],
    ["V1", "version 1"],
    ["1.2.3.4", "version 1.2.3.4"],
    ["2023.12.01", "version 2023.12.01, calendar"],
    ["20231219", "version 20231219, calendar"],
    ["2023", "version 2023"],
    ["20231341", "version 20231341"],
    ["007", "version 007"],
    // variants
    ["1.25.3-alpine", "version 1.25.3, variant alpine"],
    ["1.25.3-alpine3.18-perl", "version 1.25.3, variant alpine3.18-perl"],
    ["20.10.0-bookworm-slim", "version 20.10.0, variant bookworm-slim"],
    ["8.0.1-windowsservercore-ltsc2022", "version 8.0.1, variant windowsservercore-ltsc2022"],
    ["2.426.1-lts-jdk17", "version 2.426.1, variant lts-jdk17"],
    ["16.7.0-ce.0", "version 16.7.0, variant ce.0"],
    ["20-alpine3.19", "version 20, variant alpine3.19"],
    // builds and revisions
    ["17.0.9_9-jre", "version 17.0.9, build 9, variant jre"],
    ["17.0.10_7-jre-jammy", "version 17.0.10, build 7, variant jre-jammy"],
    ["16.1.0-debian-11-r20", "version 16.1.0, build 20, variant debian-11"],
    ["3.12.1-r0", "version 3.12.1, build 0"],
    ["1.25.3-2", "version 1.25.3, build 2"],
    ["1.2.3+5", "version 1.2.3, build 5"],
    // pre-releases, as words and glued
    ["3.0.0-rc.10", "version 3.0.0, pre-release rc.10"],
    ["3.0.0-RC1", "version 3.0.0, pre-release rc.1"],
    ["2.0.0-beta.2.1", "version 2.0.0, pre-release beta.2.1"],
    ["1.0.0-SNAPSHOT", "version 1.0.0, pre-release snapshot"],
    ["9.0.0-preview.1-bookworm-slim", "version 9.0.0, pre-release preview.1, variant bookworm-slim"],
    ["7.0.0-rc1-alpine", "version 7.0.0, pre-release rc.1, variant alpine"],
    ["2024.1.0b3", "version 2024.1.0, pre-release b.3, calendar"],
    ["3.13.0rc1", "version 3.13.0, pre-release rc.1"],
    ["3.7.0a4-slim", "version 3.7.0, pre-release a.4, variant slim"],
    ["22.0.0-nightly20240101", "version 22.0.0, pre-release nightly.20240101"],
    // a word prefix before a version of at least two numbers
    ["distroless-v1.28.0", "prefix distroless-, version 1.28.0"],
    ["distroless-1.28.0", "prefix distroless-, version 1.28.0"],
    ["my-app-v2.3.1", "prefix my-app-, version 2.3.1"],
    ["release-2.10.0.1", "prefix release-, version 2.10.0.1"],
    ["x86_64-v16.10.0", "prefix x86_64-, version 16.10.0"],
    ["alpine3.19-x86_64-v16.10.0", "prefix alpine3.19-x86_64-, version 16.10.0"],
    ["alpine-3.19", "prefix alpine-, version 3.19"],
    ["ubuntu-22.04", "prefix ubuntu-, version 22.04"],
    ["lts-7.2-ubuntu-22.04", "prefix lts-, version 7.2, variant ubuntu-22.04"],
    ["distroless-v1.28.0-rc.1-debug", "prefix distroless-, version 1.28.0, pre-release rc.1, variant debug"],
    ["nightly-2024.01.05", "prefix nightly-, version 2024.01.05, calendar"],
    ["app-1.2.3_4-r5", "prefix app-, version 1.2.3, build 4, variant r5"],
    // not versions: left alone as floating tags
    ["latest", "not a version"],
    ["stable", "not a version"],
    ["stable-alpine", "not a version"],
    ["sha-1a2b3c4", "not a version"],
    ["3f2a1bc", "not a version"],
    ["build-42", "not a version"],
    ["sha-1234567", "not a version"],
    ["pr-1234", "not a version"],
    ["debian-11", "not a version"],
    ["debian-11-r20", "not a version"],
    ["nanoserver-1809", "not a version"],
    ["windowsservercore-ltsc2022", "not a version"],
    ["nightly-20240101", "not a version"],
    ["app-v2", "not a version"],
    ["distroless--1.28.0", "not a version"],
    ["distroless-1.28.0alpine", "not a version"],
    ["2x-1.2.3", "not a version"],
    ["1.2.3.4.5", "not a version"],
    ["1.2.", "not a version"],
    ["1..2", "not a version"],
    ["1.2.3--alpine", "not a version"],
    ["1.2.3-", "not a version"],
    ["1.2.3alpine", "not a version"],
    ["", "not a version"]
  ])("%s", (tag, reading) => {
    const r = parseVersion(tag)
    expect(r === undefined ? "not a version" : describeVersion(r)).toBe(reading)
  })
})

describe("ranking versions", () => {
  const cmp = (a: string, b: string) => {
    const x = parseVersion(a)
    const y = parseVersion(b)
    if (x === undefined || y === undefined) throw new Error("not a version")
    return Math.sign(compareVersions(x, y))
  }
  test.each([
    ["1.10", "1.9", 1],
    ["1.2.10", "1.2.9", 1],
    ["2024.01.05", "2023.12.01", 1],
    ["2023.12.01", "2023.12.1", 0],
    ["01.2", "1.2", 0],
    ["3.0.0-rc.10", "3.0.0-rc.9", 1],
    ["3.0.0-rc10", "3.0.0-rc9", 1],
    ["3.0.0", "3.0.0-rc.10", 1],
    ["3.0.0-rc.1", "3.0.0-beta.9", 1],
    ["3.0.0-beta.1", "3.0.0-alpha.9", 1],
    ["3.0.0-alpha", "3.0.0-dev", 1],
    ["3.0.0-rc.1", "3.0.0-rc", 1],
    ["2024.1.0b4", "2024.1.0b3", 1],
    ["2024.1.0", "2024.1.0b4", 1],
    ["17.0.10_7-jre", "17.0.9_9-jre", 1],
    ["17.0.10_13-jre", "17.0.10_7-jre", 1],
    ["16.1.0-debian-11-r21", "16.1.0-debian-11-r9", 1],
    ["16.2.0-debian-11-r0", "16.1.0-debian-11-r21", 1],
    ["1.2.3_1", "1.2.3", 1],
    ["1.2.3.5", "1.2.3.4", 1],
    ["1.3.0.0", "1.2.99.99", 1],
    ["99999999999999999999.0", "99999999999999999998.9", 1],
    ["v2.11.0", "2.11.0", 0],
    ["distroless-v1.28.0", "distroless-1.28.0", 0],
    ["distroless-v1.28.10", "distroless-v1.28.9", 1]
  ])("%s against %s", (a, b, sign) => {
    expect(cmp(a, b)).toBe(sign)
  })
})

interface Case {
  readonly name: string
  readonly tags: ReadonlyArray<string>
  readonly current?: string
  readonly policy?: PolicySpec
  readonly allowDowngrade?: boolean
  readonly filterTags?: { pattern: string; extract: string }
  /** `update X`, `uptodate X`, `ahead X`, `unranked X`, or `none: <message part>`. */
  readonly expect: string
}

const version = (range: string): PolicySpec => ({ _tag: "version", range })

const nginx = [
  "1.24.0", "1.24.0-alpine", "1.24.0-perl", "1.24.0-alpine-perl", "1.24.0-bullseye",
  "1.25.3", "1.25.3-alpine", "1.25.3-alpine3.18", "1.25.3-perl", "1.25.3-alpine-perl", "1.25.3-bookworm", "1.25", "1.25-alpine",
  "1.26.2", "1.26.2-alpine", "1.26", "1.26-alpine",
  "1.27.3", "1.27.3-alpine", "1.27.3-alpine3.20", "1.27.3-perl", "1.27.3-alpine-perl", "1.27.3-bookworm", "1.27", "1.27-alpine",
  "1", "1-alpine", "stable", "stable-alpine", "mainline", "mainline-alpine", "alpine", "perl", "latest"
]
const node = [
  "18.19.0", "18.19.0-bookworm-slim", "18.20.4-bookworm-slim", "18-bookworm-slim",
  "20.10.0", "20.10.0-bookworm-slim", "20.11.1", "20.11.1-bookworm-slim", "20.11.1-alpine3.19", "20.11.0-alpine3.19", "20-alpine3.19", "20-bookworm-slim", "20",
  "21.6.0", "21.6.0-bookworm-slim", "21.6.0-alpine3.19", "21-bookworm-slim", "21-alpine3.19",
  "lts-bookworm-slim", "current-alpine", "lts", "latest", "bookworm-slim"
]
const dotnet = [
  "8.0.0", "8.0.1", "8.0.2", "8.0", "8.0.1-windowsservercore-ltsc2022", "8.0.2-windowsservercore-ltsc2022",
  "8.0.2-nanoserver-1809", "8.0.2-nanoserver-ltsc2022", "8.0-windowsservercore-ltsc2022", "8.0.2-bookworm-slim",
  "8.0.2-jammy", "8.0.2-alpine3.19", "9.0.0-preview.1-bookworm-slim", "9.0.0-preview.1", "9.0.0-preview.1-windowsservercore-ltsc2022", "latest"
]
const temurin = [
  "17.0.9_9-jre", "17.0.9_9-jdk", "17.0.10_7-jre", "17.0.10_7-jdk", "17.0.10_7-jre-jammy", "17-jre", "17-jdk", "17",
  "21.0.2_13-jre", "21.0.2_13-jdk", "21-jre", "21", "latest", "jre"
]
const bitnami = [
  "16.1.0-debian-11-r9", "16.1.0-debian-11-r20", "16.1.0-debian-11-r21", "16.2.0-debian-11-r0", "16.2.0-debian-12-r1",
  "16.1.0", "16.2.0", "16", "16.2", "15.5.0-debian-11-r30", "17.0.0-debian-12-r0", "latest"
]
const traefik = [
  "v2.10.7", "2.10.7", "v2.11.0", "2.11.0", "v2.11", "2.11", "v2.11.0-rc1", "v3.0.0", "3.0.0", "v3.0", "3.0",
  "v2.11.0-windowsservercore-1809", "2.11.0-windowsservercore-1809", "latest", "v2"
]
const calver = ["2023.09.30", "2023.10.15", "2023.12.01", "2024.01.05", "2024.1.5", "2024.02.20-alpine", "latest"]
const homeAssistant = ["2023.12.4", "2024.1.0b3", "2024.1.0b4", "2024.1.0", "2024.1.1", "2024.2.0b0", "stable", "beta", "dev", "latest"]
const distroless = [
  "v1.27.0", "v1.28.0", "v1.29.0", "distroless-v1.27.0", "distroless-v1.28.0", "distroless-v1.28.2", "distroless-v2.0.0",
  "debug-v1.29.1", "distroless-latest", "latest"
]
const runnerHelper = ["x86_64-v16.10.0", "x86_64-v16.11.1", "arm64-v16.11.2", "alpine3.19-x86_64-v16.11.2", "x86_64-latest", "x86_64-bleeding"]
const rcTrack = ["2.9.0", "3.0.0-rc.1", "3.0.0-rc.2", "3.0.0-rc.9", "3.0.0-rc.10", "3.1.0-rc.1"]

const cases: ReadonlyArray<Case> = [
  // nginx: variants, aliases, precision
  { name: "nginx: alpine stays alpine", tags: nginx, current: "1.25.3-alpine", expect: "update 1.27.3-alpine" },
  { name: "nginx: alpine-perl stays alpine-perl", tags: nginx, current: "1.25.3-alpine-perl", expect: "update 1.27.3-alpine-perl" },
  { name: "nginx: Debian stays Debian", tags: nginx, current: "1.25.3", expect: "update 1.27.3" },
  { name: "nginx: two parts are an alias of their line, left alone", tags: nginx, current: "1.25", expect: "floats 1.25" },
  { name: "nginx: two parts and a variant, an alias too", tags: nginx, current: "1.25-alpine", expect: "floats 1.25-alpine" },
  { name: "nginx: the only alpine3.18 tag has nothing to compare with", tags: nginx, current: "1.25.3-alpine3.18", expect: "floats 1.25.3-alpine3.18" },
  { name: "nginx: the only bullseye tag has nothing to compare with", tags: nginx, current: "1.24.0-bullseye", expect: "floats 1.24.0-bullseye" },
  { name: "nginx: the major alias floats", tags: nginx, current: "1", expect: "floats 1" },
  { name: "nginx: stable is a floating tag", tags: nginx, current: "stable", expect: "unranked stable" },
  { name: "nginx: stable-alpine is a floating tag", tags: nginx, current: "stable-alpine", expect: "unranked stable-alpine" },
  { name: "nginx: latest is a floating tag", tags: nginx, current: "latest", expect: "unranked latest" },
  { name: "nginx: a floating tag moves only when downgrades are allowed", tags: nginx, current: "mainline", allowDowngrade: true, expect: "update 1.27.3" },
  // node: variant and LTS line
  { name: "node: bookworm-slim stays on 20", tags: node, current: "20.10.0-bookworm-slim", expect: "update 20.11.1-bookworm-slim" },
  { name: "node: alpine3.19 stays on alpine3.19", tags: node, current: "20.11.0-alpine3.19", expect: "update 20.11.1-alpine3.19" },
  { name: "node: 18 stays on 18", tags: node, current: "18.19.0-bookworm-slim", expect: "update 18.20.4-bookworm-slim" },
  { name: "node: a major alias stays on its major", tags: node, current: "20-bookworm-slim", expect: "floats 20-bookworm-slim" },
  { name: "node: lts-bookworm-slim is floating", tags: node, current: "lts-bookworm-slim", expect: "unranked lts-bookworm-slim" },
  { name: "node: across majors with *", tags: node, current: "20.10.0-bookworm-slim", policy: version("*"), expect: "update 21.6.0-bookworm-slim" },
  // .NET: Windows stays Windows
  { name: ".NET: Windows Server Core stays on it", tags: dotnet, current: "8.0.1-windowsservercore-ltsc2022", expect: "update 8.0.2-windowsservercore-ltsc2022" },
  { name: ".NET: Linux stays Linux, no preview", tags: dotnet, current: "8.0.1", expect: "update 8.0.2" },
  { name: ".NET: the only nanoserver-1809 tag has nothing to compare with", tags: dotnet, current: "8.0.2-nanoserver-1809", expect: "floats 8.0.2-nanoserver-1809" },
  { name: ".NET: a preview track is followed", tags: [...dotnet, "9.0.0-preview.2-bookworm-slim"], current: "9.0.0-preview.1-bookworm-slim", expect: "update 9.0.0-preview.2-bookworm-slim" },
  // eclipse-temurin: build numbers, JRE stays JRE
  { name: "temurin: build numbers, JRE stays JRE, 17 stays 17", tags: temurin, current: "17.0.9_9-jre", expect: "update 17.0.10_7-jre" },
  { name: "temurin: JDK stays JDK", tags: temurin, current: "17.0.9_9-jdk", expect: "update 17.0.10_7-jdk" },
  { name: "temurin: builds rank as numbers", tags: ["17.0.10_7-jre", "17.0.10_13-jre", "17.0.10_9-jre"], current: "17.0.10_7-jre", expect: "update 17.0.10_13-jre" },
  { name: "temurin: jre is floating", tags: temurin, current: "jre", expect: "unranked jre" },
  // Bitnami: revisions after the variant
  { name: "Bitnami: revision and version, debian-11 stays debian-11", tags: bitnami, current: "16.1.0-debian-11-r20", expect: "update 16.2.0-debian-11-r0" },
  { name: "Bitnami: r21 above r9", tags: ["16.1.0-debian-11-r9", "16.1.0-debian-11-r21", "16.1.0-debian-11-r20"], current: "16.1.0-debian-11-r9", expect: "update 16.1.0-debian-11-r21" },
  { name: "Bitnami: debian-12 is another variant", tags: bitnami, current: "16.2.0-debian-12-r1", expect: "uptodate 16.2.0-debian-12-r1" },
  { name: "Bitnami: plain version", tags: bitnami, current: "16.1.0", expect: "update 16.2.0" },
  // traefik: v-prefixed and bare twins
  { name: "traefik: v spelling kept", tags: traefik, current: "v2.10.7", expect: "update v2.11.0" },
  { name: "traefik: bare spelling kept", tags: traefik, current: "2.10.7", expect: "update 2.11.0" },
  { name: "traefik: v and two parts, an alias", tags: traefik, current: "v2.10", expect: "floats v2.10" },
  { name: "traefik: only the other spelling is newer", tags: ["v2.10.7", "2.11.0"], current: "v2.10.7", expect: "update 2.11.0" },
  { name: "traefik: the same version in another spelling is up to date", tags: ["v2.11.0"], current: "2.11.0", expect: "uptodate 2.11.0" },
  { name: "traefik: windowsservercore stays", tags: traefik, current: "v2.11.0-windowsservercore-1809", expect: "uptodate v2.11.0-windowsservercore-1809" },
  // calendar versions, zero padded
  { name: "calver: zero-padded, moves to the next year", tags: calver, current: "2023.12.01", expect: "update 2024.01.05" },
  { name: "calver: zero-padded spelling kept on ties", tags: calver, current: "2023.10.15", expect: "update 2024.01.05" },
  { name: "calver: unpadded spelling kept on ties", tags: ["2023.9.30", "2024.01.05", "2024.1.5"], current: "2023.9.30", expect: "update 2024.1.5" },
  { name: "calver: never downgraded", tags: ["2023.10.15", "2023.09.30"], current: "2023.12.01", expect: "ahead 2023.12.01" },
  { name: "calver: 8-digit dates", tags: ["20231219", "20240105", "edge", "3.19.0", "3.19"], current: "20231219", expect: "update 20240105" },
  { name: "calver: variant kept", tags: calver, current: "2024.01.05-alpine", expect: "update 2024.02.20-alpine" },
  // Home Assistant: betas glued to the number
  { name: "Home Assistant: a beta moves to its release and past it", tags: homeAssistant, current: "2024.1.0b3", expect: "update 2024.1.1" },
  { name: "Home Assistant: the beta track is followed", tags: ["2024.1.0b3", "2024.1.0b4", "2024.2.0b0"], current: "2024.1.0b3", expect: "update 2024.1.0b4" },
  { name: "Home Assistant: a release never moves to a beta", tags: homeAssistant, current: "2023.12.4", expect: "update 2024.1.1" },
  { name: "Home Assistant: stable is floating", tags: homeAssistant, current: "stable", expect: "unranked stable" },
  // release-candidate tracks
  { name: "rc: rc.2 moves to rc.10", tags: rcTrack, current: "3.0.0-rc.2", expect: "update 3.0.0-rc.10" },
  { name: "rc: then to the release", tags: [...rcTrack, "3.0.0"], current: "3.0.0-rc.10", expect: "update 3.0.0" },
  { name: "rc: then to later releases of the major", tags: [...rcTrack, "3.0.0", "3.0.1"], current: "3.0.0-rc.2", expect: "update 3.0.1" },
  { name: "rc: a release ignores release candidates", tags: rcTrack, current: "2.9.0", expect: "uptodate 2.9.0" },
  { name: "rc: rc9 moves to rc10 glued", tags: ["3.0.0-rc9", "3.0.0-rc10"], current: "3.0.0-rc9", expect: "update 3.0.0-rc10" },
  { name: "rc: a range that names pre-releases opts in", tags: rcTrack, current: "2.9.0", policy: version(">=2.9.0-0"), expect: "update 3.1.0-rc.1" },
  { name: "rc: a pre-release with a variant stays on it", tags: ["7.0.0-rc1-alpine", "7.0.0-rc2-alpine", "7.0.0-rc2", "7.0.0"], current: "7.0.0-rc1-alpine", expect: "update 7.0.0-rc2-alpine" },
  // a word prefix is a line of its own: kept exactly, never gained nor lost
  { name: "word prefix: a prefixed tag moves among its prefix", tags: distroless, current: "distroless-v1.27.0", expect: "update distroless-v1.28.2" },
  { name: "word prefix: a prefixed tag never moves to an unprefixed one", tags: ["distroless-v1.28.0", "v1.29.0"], current: "distroless-v1.28.0", expect: "uptodate distroless-v1.28.0" },
  { name: "word prefix: an unprefixed tag never moves to a prefixed one", tags: distroless, current: "v1.27.0", expect: "update v1.29.0" },
  { name: "word prefix: an unprefixed tag with only prefixed tags above", tags: ["1.0.0", "app-1.1.0"], current: "1.0.0", expect: "uptodate 1.0.0" },
  { name: "word prefix: another word is another line", tags: distroless, current: "debug-v1.29.1", expect: "uptodate debug-v1.29.1" },
  { name: "word prefix: no current tag takes no prefix", tags: ["1.0.0", "app-2.0.0"], expect: "update 1.0.0" },
  { name: "word prefix: several words", tags: ["my-app-v2.3.1", "my-app-v2.4.0", "app-v2.9.0", "my-app-v3.0.0"], current: "my-app-v2.3.1", expect: "update my-app-v2.4.0" },
  { name: "word prefix: architecture words", tags: runnerHelper, current: "x86_64-v16.10.0", expect: "update x86_64-v16.11.1" },
  { name: "word prefix: v spelling after the word kept", tags: ["distroless-1.28.0", "distroless-v1.28.2", "distroless-1.28.2"], current: "distroless-1.28.0", expect: "update distroless-1.28.2" },
  { name: "word prefix: the base image's own line", tags: ["alpine-3.17", "alpine-3.18", "alpine-3.19", "glibc-2.34", "latest"], current: "alpine-3.18", expect: "update alpine-3.19" },
  { name: "word prefix: the scope says it", tags: ["v1.29.0"], current: "distroless-v1.28.0", expect: "none: no tag out of 1 listed matches version auto for distroless-v1.28.0 (prefix distroless-, no variant, 3 numbers, major 1, releases)" },
  // floating and unreadable tags are left alone, never failed
  { name: "sha- tags are floating", tags: ["sha-1a2b3c4", "sha-9f8e7d6", "1.0.0"], current: "sha-1a2b3c4", expect: "unranked sha-1a2b3c4" },
  { name: "build-N tags are floating", tags: ["build-41", "build-42", "1.0.0"], current: "build-41", expect: "unranked build-41" },
  { name: "sha- tags of digits are floating", tags: ["sha-1234567", "sha-7654321", "1.0.0"], current: "sha-1234567", expect: "unranked sha-1234567" },
  { name: "floating tag with nothing else listed", tags: ["main"], current: "main", expect: "unranked main" },
  // aliases float, under every range; a single number with nothing under it is a counter
  { name: "postgres: 15 with 15.5 listed is an alias", tags: ["15", "15.5", "16", "16.1"], current: "15", expect: "floats 15" },
  { name: "mysql: 8.0 with 8.0.36 listed is an alias", tags: ["8.0", "8.0.36", "8.3", "8.3.0"], current: "8.0", expect: "floats 8.0" },
  { name: "node: 16-bookworm with 16.1-bookworm listed is an alias", tags: ["16-bookworm", "16.1-bookworm", "17-bookworm"], current: "16-bookworm", expect: "floats 16-bookworm" },
  { name: "a longer version under another word prefix makes no alias", tags: ["1.28", "1.29", "distroless-v1.28.0"], current: "1.28", expect: "update 1.29" },
  { name: "an alias floats under *", tags: ["15", "15.5", "16", "16.1"], current: "15", policy: version("*"), expect: "floats 15" },
  { name: "an alias of another variant is no alias", tags: ["15-alpine", "15.5-alpine", "16-alpine", "15", "16"], current: "15", expect: "update 16" },
  { name: "only a pre-release under it: a counter", tags: ["15", "15.1-rc1", "16"], current: "15", expect: "update 16" },
  { name: "a variant no other tag shares", tags: ["2022-CU10-ubuntu-22.04", "2022-CU11-ubuntu-22.04", "2019-latest"], current: "2022-CU10-ubuntu-22.04", expect: "floats 2022-CU10-ubuntu-22.04" },
  { name: "linuxserver builds: each its own variant", tags: ["4.0.0.748-ls218", "4.0.1.800-ls219"], current: "4.0.0.748-ls218", expect: "floats 4.0.0.748-ls218" },
  // ~: the current release line, always
  { name: "~ stays on the line", tags: ["8.0.35", "8.0.36", "8.3.0"], current: "8.0.35", policy: version("~"), expect: "update 8.0.36" },
  { name: "~ on a two-number version: its own line", tags: ["22.04", "22.10", "24.04"], current: "22.04", policy: version("~"), expect: "uptodate 22.04" },
  { name: "~ past the line's end: ahead of nothing, up to date", tags: ["8.0.35", "8.3.0"], current: "8.0.35", policy: version("~"), expect: "uptodate 8.0.35" },
  // 4-part versions
  { name: "4-part versions", tags: ["1.2.3.4", "1.2.3.5", "1.2.4.0", "1.3.0.0", "2.0.0.0", "1.2.4"], current: "1.2.3.4", expect: "update 1.3.0.0" },
  // numbers
  { name: "1.9 < 1.10", tags: ["1.8", "1.9", "1.10"], current: "1.9", expect: "update 1.10" },
  { name: "single numbers move to the highest", tags: ["1", "2", "9", "10"], current: "2", expect: "update 10" },
  { name: "huge numbers", tags: ["1.9007199254740993.0", "1.9007199254740992.0"], current: "1.0.0", expect: "update 1.9007199254740993.0" },
  { name: "leading zeros compare as numbers", tags: ["1.08.0", "1.10.0", "1.9.0"], current: "1.08.0", expect: "update 1.10.0" },
  // the guard and the failures
  { name: "no downgrade", tags: ["1.0.0", "1.1.0"], current: "1.2.0", expect: "ahead 1.2.0" },
  { name: "no downgrade from a major the registry does not list", tags: ["1.0.0", "1.1.0"], current: "2.0.0", expect: "ahead 2.0.0" },
  { name: "no downgrade from outside the range", tags: ["1.26.0", "1.26.1"], current: "1.28.0", policy: version("~1.26"), expect: "ahead 1.28.0" },
  { name: "a lower major only is no candidate", tags: ["1.0.0", "3.0.0"], current: "2.0.0", expect: "none: no tag out of 2 listed matches version auto for 2.0.0 (no variant, 3 numbers, major 2, releases)" },
  { name: "downgrade when allowed", tags: ["1.0.0", "1.1.0"], current: "1.2.0", allowDowngrade: true, expect: "update 1.1.0" },
  { name: "no candidate in the line is a failure", tags: ["1.27.3", "1.27.3-perl"], current: "1.25.3-alpine", expect: "none: no tag out of 2 listed matches version auto for 1.25.3-alpine (variant alpine, 3 numbers, major 1, releases)" },
  { name: "no current tag: the highest release without variant", tags: nginx, expect: "update 1.27.3" },
  { name: "a semver range bounds the line", tags: nginx, current: "1.24.0-alpine", policy: version("~1.26"), expect: "update 1.26.2-alpine" },
  { name: "* crosses majors but keeps the variant", tags: ["1.27.3-alpine", "2.0.0-alpine", "2.1.0"], current: "1.25.3-alpine", policy: version("*"), expect: "update 2.0.0-alpine" },
  { name: "filter and extract feed the reader", tags: ["app-1.9.0", "app-1.10.0", "other-9.0.0"], current: "app-1.9.0", filterTags: { pattern: "^app-(.*)$", extract: "$1" }, expect: "update app-1.10.0" },
  { name: "signatures are never candidates", tags: ["1.0.0", "1.1.0.sig", `sha256-${"a".repeat(64)}`], current: "1.0.0", expect: "uptodate 1.0.0" }
]

const run = (c: Case): string => {
  const result = selectorFor(c).select(c.tags.map((tag) => ({ tag })), c.current)
  return Either.match(result, { onLeft: (e) => `none: ${e.message}`, onRight: (s) => `${s._tag.toLowerCase()} ${s.tag}` })
}

describe("the default policy on realistic tag lists", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(run(c)).toBe(c.expect)
  })
})

describe("bad input", () => {
  test("tags of 128 characters", () => {
    const long = (n: string) => `1.${n.padStart(124, "0")}`
    const tags = [long("7"), long("12"), `1.2.3-${"x".repeat(122)}`, "a".repeat(128)]
    expect(tags.every((t) => t.length <= 128)).toBe(true)
    expect(run({ name: "", tags, current: long("7"), expect: "" })).toBe(`update ${long("12")}`)
    expect(run({ name: "", tags, current: "a".repeat(128), expect: "" })).toBe(`unranked ${"a".repeat(128)}`)
  })

  test("tags of digits and dots only", () => {
    const tags = ["1.2.3.4.5", "1.2.3.4.5.6.7.8", "0.0.0", "000.000.001", "9", "1.2.3"]
    // `^` keeps major 0: 1.2.3 is another major.
    expect(run({ name: "", tags, current: "0.0.0", expect: "" })).toBe("update 000.000.001")
    expect(run({ name: "", tags, current: "9", expect: "" })).toBe("uptodate 9")
    expect(run({ name: "", tags, current: "1.2.3.4.5", expect: "" })).toBe("unranked 1.2.3.4.5")
  })

  test("100,000 tags: one answer, every target of the listing served from one ranking", () => {
    const tags = Array.from({ length: 100_000 }, (_, i) => ({ tag: i % 2 === 0 ? `1.${i}.0-alpine` : `1.${i}.0` }))
    const selector = selectorFor({})
    const started = performance.now()
    expect(selector.select(tags, "1.0.0-alpine")).toEqual(Either.right({ _tag: "Update", tag: "1.99998.0-alpine", listed: 100_000, kept: 50_000 }))
    const first = performance.now() - started
    for (let i = 0; i < 1_000; i++) selector.select(tags, "1.2.0-alpine")
    // A thousand more targets of the same line cost less than the first ranking: they share it.
    expect(performance.now() - started - first).toBeLessThan(first * 5)
    const shown = formatExplanation("heading", selector.explain(tags, "1.0.0-alpine"))
    expect(shown.split("\n").length).toBeLessThan(60)
  })
})

describe("explain", () => {
  test("how each tag was read, what was passed over and why", () => {
    const tags = ["1.25.3-alpine", "1.27.3-alpine", "1.27.3", "1.27", "2.0.0-alpine", "stable", "1.28.0-rc.1-alpine", "x.sig"]
    const text = formatExplanation("nginx in config/app.yaml image", selectorFor({}).explain(tags.map((tag) => ({ tag })), "1.25.3-alpine"))
    expect(text).toBe(
      [
        "nginx in config/app.yaml image",
        "  policy: version auto",
        "  current: 1.25.3-alpine (version 1.25.3, variant alpine)",
        "  candidates must have: variant alpine, 3 numbers, major 1, releases",
        "  8 tags listed, 2 candidates, best first:",
        "    1.27.3-alpine  version 1.27.3, variant alpine  <- chosen",
        "    1.25.3-alpine  version 1.25.3, variant alpine  <- current",
        "  passed over, another variant (2):",
        "    1.27.3  version 1.27.3",
        "    1.27    version 1.27",
        "  passed over, another major version (auto keeps 1) (1):",
        "    2.0.0-alpine  version 2.0.0, variant alpine",
        "  passed over, not read by version auto (1):",
        "    stable",
        "  passed over, a pre-release of another line (1):",
        "    1.28.0-rc.1-alpine  version 1.28.0, pre-release rc.1, variant alpine",
        "  passed over, excluded by ^.*\\.sig$ (1):",
        "    x.sig",
        "  result: 1.25.3-alpine -> 1.27.3-alpine: the highest candidate",
        ""
      ].join("\n")
    )
  })

  test("tags outside filterTags and invalid tags are named as such", () => {
    const selector = selectorFor({ filterTags: { pattern: "^app-(.*)$", extract: "$1" } })
    const text = formatExplanation("h", selector.explain(["app-1.0.0", "app-1.1.0", "other-2.0.0", "-bad"].map((tag) => ({ tag })), "app-1.0.0"))
    expect(text).toContain("  current: app-1.0.0 (version 1.0.0)\n")
    expect(text).toContain("  passed over, not matched by filterTags ^app-(.*)$ (1):\n    other-2.0.0\n")
    expect(text).toContain("  passed over, not a valid tag (1):\n    -bad\n")
    expect(text).toContain("  result: app-1.0.0 -> app-1.1.0: the highest candidate\n")
  })

  test("a word prefix is read, kept and named", () => {
    const tags = ["distroless-v1.27.0", "distroless-v1.28.0", "v1.29.0", "debug-v1.29.1", "build-42"]
    const text = formatExplanation("h", selectorFor({}).explain(tags.map((tag) => ({ tag })), "distroless-v1.27.0"))
    expect(text).toBe(
      [
        "h",
        "  policy: version auto",
        "  current: distroless-v1.27.0 (prefix distroless-, version 1.27.0)",
        "  candidates must have: prefix distroless-, no variant, 3 numbers, major 1, releases",
        "  5 tags listed, 2 candidates, best first:",
        "    distroless-v1.28.0  prefix distroless-, version 1.28.0  <- chosen",
        "    distroless-v1.27.0  prefix distroless-, version 1.27.0  <- current",
        "  passed over, another prefix (2):",
        "    debug-v1.29.1  prefix debug-, version 1.29.1",
        "    v1.29.0        version 1.29.0",
        "  passed over, not read by version auto (1):",
        "    build-42",
        "  result: distroless-v1.27.0 -> distroless-v1.28.0: the highest candidate",
        ""
      ].join("\n")
    )
  })

  // Lines the explanation shows, in this order.
  const shownRows: ReadonlyArray<{ readonly name: string; readonly tags: ReadonlyArray<string>; readonly current: string; readonly shows: ReadonlyArray<string> }> = [
    { name: "one tag, one candidate: no plural", tags: ["1.0.0"], current: "1.0.0", shows: ["  1 tag listed, 1 candidate, best first:", "    1.0.0  version 1.0.0  <- chosen"] },
    { name: "no candidate", tags: ["latest"], current: "1.0.0", shows: ["  1 tag listed, 0 candidates"] },
    {
      name: "passed over: best first where ranked, as listed where not",
      tags: ["1.2.0-alpine", "1.10.0-alpine", "stable", "1.9.0-alpine", "edge", "2.0.0", "1.0.0"],
      current: "1.0.0",
      shows: [
        "  passed over, another variant (3):",
        "    1.10.0-alpine  version 1.10.0, variant alpine",
        "    1.9.0-alpine   version 1.9.0, variant alpine",
        "    1.2.0-alpine   version 1.2.0, variant alpine",
        "  passed over, not read by version auto (2):",
        "    stable",
        "    edge"
      ]
    },
    {
      name: "an alias floats, and the result says so",
      tags: ["15", "15.5", "16.1"],
      current: "15",
      shows: ["    15  version 15  <- current", "  result: 15 stays: alias of 15.x: it follows that line by itself"]
    },
    {
      name: "a lone variant floats, and the result says so",
      tags: ["1.0.0", "1.1.0", "1.0.0-special"],
      current: "1.0.0-special",
      shows: ["    1.0.0-special  version 1.0.0, variant special  <- current", "  result: 1.0.0-special stays: the only tag of variant special: nothing to compare (filterTags/extract can rank a counter)"]
    }
  ]
  test.each(shownRows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
    const lines = formatExplanation("h", selectorFor({}).explain(row.tags.map((tag) => ({ tag })), row.current)).split("\n")
    const at = row.shows.map((l) => lines.indexOf(l))
    expect(row.shows.filter((_l, i) => at[i] === -1), lines.join("\n")).toEqual([])
    expect(at).toEqual([...at].sort((a, b) => a - b))
  })

  test("a floating tag says why it stays", () => {
    const text = formatExplanation("h", selectorFor({}).explain([{ tag: "1.0.0" }, { tag: "latest" }], "latest"))
    expect(text).toContain("current: latest (not read by version auto)")
    expect(text).toContain("result: latest stays: floating tag: name a policy to manage it")
  })
})

describe("the README's table of tag schemes is what the default does", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
  const lines = readme.slice(readme.indexOf("| image | tags listed |")).split("\n").slice(2)
  const end = lines.findIndex((line) => !line.startsWith("| "))
  const rows = lines.slice(0, end).map((line) => line.split(" | "))
  const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "")
  let previous: ReadonlyArray<string> = []
  const cases = rows.map(([image = "", listed = "", current = "", outcome = ""]) => {
    const tags = listed === "same" ? previous : ticked(listed)
    previous = tags
    const [now = ""] = ticked(current)
    const [next] = ticked(outcome)
    const floats = outcome.startsWith("stays: alias") || outcome.startsWith("stays: the only")
    const expected = outcome.startsWith("stays: floating") ? `unranked ${now}` : floats ? `floats ${now}` : outcome.startsWith("stays") ? `uptodate ${now}` : `update ${next}`
    return [`${image.replace(/^\| /, "")}: ${now}`, tags, now, expected] as const
  })

  test("it has a row per scheme", () => {
    expect(cases.length).toBeGreaterThanOrEqual(22)
  })

  test.each(cases)("%s", (_name, tags, current, expected) => {
    expect(decideRow(tags, current)).toBe(expected)
  })
})
