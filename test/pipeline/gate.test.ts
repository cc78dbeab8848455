/**
 * The gate stage in process, on a virtual clock: minimum ages by each clock (the registry's push
 * time, the first sighting, an image's `created` only for the first listing and only below the
 * current tag), the larger minAge,
 * first sightings kept across a restart, and signature rules through the Signatures fake.
 */
import { describe, expect, test } from "bun:test"
import { rmSync } from "node:fs"
import { Duration, Effect, Either, TestClock, TestContext } from "effect"
import type { GateConfig } from "../../src/config/model.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { Signatures } from "../../src/gates/Signatures.ts"
import { formatReport, type PassReport } from "../../src/pipeline/report.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { providerConfig } from "../support/config.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const IMAGE = "gcr.io/org/app"
const NOW = Date.parse("2026-11-30T12:00:00Z")
const HOUR = 3_600_000

const gate = (over: Partial<GateConfig>): GateConfig => ({ images: ["gcr.io/org/**"], pinDigest: false, source: { file: "piped.yaml", line: 30 }, ...over })

/** The gates alone decide here: the target pins `^`, which follows new lines without waiting on release dates. */
const watcher = (extra = "") => `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: ${IMAGE}, provider: registry, filePath: app.yaml, field: image, policy: {version: "^"}${extra}}
`

type World = ReturnType<typeof fakeWorld>

interface WorldOptions {
  readonly extra?: string
  readonly signed?: ReadonlySet<string>
  readonly dataDir?: string
  /** The tag app.yaml holds; 1.0.0 unless given. */
  readonly current?: string
}

const world = (tags: ReadonlyArray<TagInfo>, options: WorldOptions = {}) => {
  const signed = options.signed
  const w = fakeWorld(
    undefined,
    signed === undefined ? undefined : Signatures.layerTest((_image, digest) => (signed.has(digest) ? Either.void : Either.left("no signature")))
  )
  w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:${options.current ?? "1.0.0"}\n`, ".pipe/w.yaml": watcher(options.extra) })
  w.images.set(IMAGE, tags)
  return options.dataDir === undefined ? w : { ...w, options: { ...w.options, dataDir: options.dataDir } }
}

/** One pass at virtual time `at`. */
const passAt = (w: World, gates: ReadonlyArray<GateConfig>, at: number, provider = providerConfig({ name: "registry" })): Promise<PassReport> =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* TestClock.setTime(at)
      return yield* runOnce([pipelineOf({ gates, providers: [provider] })], w.options)
    }).pipe(Effect.provide(w.layer), Effect.provide(TestContext.TestContext))
  )

const line = (report: PassReport) => formatReport(report).split("\n")[0] ?? ""
const file = (w: World) => w.remotes.readFile(REMOTE, "app.yaml")
const minAge = (hours: number) => Duration.hours(hours)

describe("minimum age", () => {
  test("a tag the registry pushed recently is held, by the registry's own clock", async () => {
    const w = world([{ tag: "1.0.0" }, { tag: "1.1.0", pushed: new Date(NOW - 3 * 60_000) }])
    const report = await passAt(w, [gate({ minAge: minAge(24) })], NOW)
    expect(line(report)).toBe(`config  app.yaml  image  ${IMAGE}  1.0.0  held back by the gates; held: 1.1.0 too new (pushed 3m ago, needs 24h)  [2 tags listed, 2 kept]`)
    expect(formatReport(report)).toContain("1 targets: 0 updated, 0 would update, 0 up to date, 0 failed, 1 held")
    expect(file(w)).toBe(`image: ${IMAGE}:1.0.0\n`)
  })

  test("the next best candidate that is old enough is taken, never one below the current tag", async () => {
    const w = world([{ tag: "1.0.0" }, { tag: "1.1.0", pushed: new Date(NOW - 48 * HOUR) }, { tag: "1.2.0", pushed: new Date(NOW - HOUR) }])
    const report = await passAt(w, [gate({ minAge: minAge(24) })], NOW)
    expect(line(report)).toContain("1.0.0 -> 1.1.0  updated")
    expect(line(report)).toContain("; held: 1.2.0 too new (pushed 1h ago, needs 24h)")
    expect(file(w)).toBe(`image: ${IMAGE}:1.1.0\n`)
  })

  test("a backdated created never dates a tag that appeared after the first listing", async () => {
    const dataDir = fakeWorld().options.dataDir
    const first = world([{ tag: "1.0.0" }], { dataDir })
    await passAt(first, [gate({ minAge: minAge(24) })], NOW)
    // Published now, claiming to have been built in 2019.
    const w = world([{ tag: "1.0.0" }, { tag: "1.1.0", created: new Date("2019-01-01T00:00:00Z") }], { dataDir })
    const report = await passAt(w, [gate({ minAge: minAge(24) })], NOW + HOUR)
    expect(line(report)).toContain("held: 1.1.0 too new (first seen 0s ago, needs 24h)")
    // A day after it was first seen, it goes.
    const later = await passAt(w, [gate({ minAge: minAge(24) })], NOW + 25 * HOUR)
    expect(line(later)).toContain("1.0.0 -> 1.1.0  updated")
  })

  test("in the first listing ever, a tag newer than the current one is not dated by its created: it waits from its first sighting", async () => {
    const w = world([{ tag: "1.0.0" }, { tag: "1.1.0", created: new Date(NOW - 30 * 24 * HOUR) }, { tag: "1.2.0", created: new Date(NOW - HOUR) }])
    const report = await passAt(w, [gate({ minAge: minAge(24) })], NOW)
    expect(line(report)).toContain("1.0.0  held back by the gates; held: 1.2.0 too new (first seen 0s ago, needs 24h); held: 1.1.0 too new (first seen 0s ago, needs 24h)")
    expect(file(w)).toBe(`image: ${IMAGE}:1.0.0\n`)
    const later = await passAt(w, [gate({ minAge: minAge(24) })], NOW + 25 * HOUR)
    expect(line(later)).toContain("1.0.0 -> 1.2.0  updated")
  })

  test("an emptied data dir does not let a backdated new tag through", async () => {
    // `^`: this is of the age gate alone; the default would also weigh the backdated date as a release date.
    const w = world([{ tag: "1.0.0" }])
    await passAt(w, [gate({ minAge: minAge(24) })], NOW)
    rmSync(w.options.dataDir, { recursive: true, force: true })
    // Published a minute after the data dir was lost, claiming to have been built in 2019.
    w.images.set(IMAGE, [{ tag: "1.0.0" }, { tag: "1.1.0", created: new Date("2019-01-01T00:00:00Z") }])
    const report = await passAt(w, [gate({ minAge: minAge(24) })], NOW + 60_000)
    expect(line(report)).toContain("held: 1.1.0 too new (first seen 0s ago, needs 24h)")
    expect(file(w)).toBe(`image: ${IMAGE}:1.0.0\n`)
  })

  test("in the first listing ever, a tag below the current one is history, dated by its image's created", async () => {
    // 1.2.0 is in git but no longer listed, and the target may move down.
    const tags = (created: number) => [{ tag: "1.0.0", created: new Date(NOW - 60 * 24 * HOUR) }, { tag: "1.1.0", created: new Date(created) }]
    const old = world(tags(NOW - 30 * 24 * HOUR), { current: "1.2.0", extra: ", allowDowngrade: true" })
    expect(line(await passAt(old, [gate({ minAge: minAge(24) })], NOW))).toContain("1.2.0 -> 1.1.0  updated")
    const fresh = world(tags(NOW - HOUR), { current: "1.2.0", extra: ", allowDowngrade: true" })
    const report = line(await passAt(fresh, [gate({ minAge: minAge(24) })], NOW))
    expect(report).toContain("1.2.0 -> 1.0.0  updated")
    expect(report).toContain("; held: 1.1.0 too new (created 1h ago, needs 24h)")
  })

  test("first sightings survive a restart", async () => {
    const dataDir = fakeWorld().options.dataDir
    await passAt(world([{ tag: "1.0.0" }], { dataDir }), [gate({ minAge: minAge(24) })], NOW)
    await passAt(world([{ tag: "1.0.0" }, { tag: "1.1.0" }], { dataDir }), [gate({ minAge: minAge(24) })], NOW + HOUR)
    // Another process, a day later: 1.1.0 was first seen 25 hours ago.
    const w = world([{ tag: "1.0.0" }, { tag: "1.1.0" }], { dataDir })
    const report = await passAt(w, [gate({ minAge: minAge(24) })], NOW + 26 * HOUR)
    expect(line(report)).toContain("1.0.0 -> 1.1.0  updated")
  })

  test("the larger of the gate's and the target's minAge applies", async () => {
    const tags = [{ tag: "1.0.0" }, { tag: "1.1.0", pushed: new Date(NOW - 2 * HOUR) }]
    const byGate = await passAt(world(tags, { extra: ", minAge: 1h" }), [gate({ minAge: minAge(3) })], NOW)
    expect(line(byGate)).toContain("needs 3h")
    const byTarget = await passAt(world(tags, { extra: ", minAge: 3h" }), [gate({ minAge: minAge(1) })], NOW)
    expect(line(byTarget)).toContain("needs 3h")
    const neither = await passAt(world(tags, { extra: ", minAge: 1h" }), [gate({ minAge: minAge(1) })], NOW)
    expect(line(neither)).toContain("1.0.0 -> 1.1.0  updated")
  })

  test("an image no gate matches is not held", async () => {
    const w = world([{ tag: "1.0.0" }, { tag: "1.1.0", pushed: new Date(NOW - 60_000) }])
    const report = await passAt(w, [gate({ images: ["ghcr.io/**"], minAge: minAge(24) })], NOW)
    expect(line(report)).toContain("1.0.0 -> 1.1.0  updated")
  })

  test("a tag store's registration time dates its tags", async () => {
    const w = world([{ tag: "1.0.0" }, { tag: "1.1.0", pushed: new Date(NOW - 5 * 60_000) }])
    const report = await passAt(w, [gate({ minAge: minAge(1) })], NOW, providerConfig({ name: "registry", type: "STORE" }))
    expect(line(report)).toContain("held: 1.1.0 too new (registered 5m ago, needs 1h)")
  })
})

describe("signatures", () => {
  const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`
  const tags = [{ tag: "1.0.0", digest: digest(1) }, { tag: "1.1.0", digest: digest(2) }, { tag: "1.2.0", digest: digest(3) }]
  const cosign = (over: Partial<GateConfig> = {}) => gate({ cosign: { publicKeyFile: "/etc/runner/cosign.pub" }, pinDigest: true, ...over })

  test("an unsigned candidate is skipped for the best signed one, written as tag@digest of what was verified", async () => {
    const w = world(tags, { signed: new Set([digest(2)]) })
    const report = await passAt(w, [cosign()], NOW)
    expect(line(report)).toContain("1.0.0 -> 1.1.0  updated")
    expect(line(report)).toContain("; skipped: 1.2.0 not signed by cosign.pub (no signature)")
    expect(file(w)).toBe(`image: ${IMAGE}:1.1.0@${digest(2)}\n`)
    expect(w.remotes.log(REMOTE)[0]?.subject).toBe(`Update ${IMAGE}:1.0.0 in app.yaml to 1.1.0@${digest(2)}`)
  })

  test("pinDigest: false writes the tag alone, and the report says the digest was not pinned", async () => {
    const w = world(tags, { signed: new Set([digest(3)]) })
    const report = await passAt(w, [cosign({ pinDigest: false })], NOW)
    expect(file(w)).toBe(`image: ${IMAGE}:1.2.0\n`)
    expect(line(report)).toMatch(/ 1\.0\.0 -> 1\.2\.0 {2}updated \([0-9a-f]{7}\) \(signed by cosign\.pub, digest not pinned\) {2}\[/)
  })

  test.each([
    ["unsigned: the field keeps the digest it pins", new Set<string>(), digest(1), "held back by the gates; skipped: 1.2.0 not signed by cosign.pub (no signature)"],
    ["signed: the verified digest is written", new Set([digest(9)]), digest(9), "updated"]
  ])("the field's own tag pushed again, %s", async (_name, signed, written, outcome) => {
    // 1.2.0 was pushed again, as digest 9; the field pins its old digest 1.
    const w = world([{ tag: "1.2.0", digest: digest(9) }], { signed, current: `1.2.0@${digest(1)}` })
    const report = await passAt(w, [cosign()], NOW)
    expect(file(w)).toBe(`image: ${IMAGE}:1.2.0@${written}\n`)
    expect(line(report)).toContain(`  ${outcome}`)
  })

  test("a pinned change names its signer alone", async () => {
    const w = world(tags, { signed: new Set([digest(3)]) })
    const report = await passAt(w, [cosign()], NOW)
    expect(file(w)).toBe(`image: ${IMAGE}:1.2.0@${digest(3)}\n`)
    expect(line(report)).toMatch(/updated \([0-9a-f]{7}\) \(signed by cosign\.pub\) {2}\[/)
  })

  describe("a field of the tag alone (format: tag)", () => {
    const tagWorld = (signed: ReadonlySet<string>) => {
      const w = fakeWorld(undefined, Signatures.layerTest((_image, d) => (signed.has(d) ? Either.void : Either.left("no signature"))))
      w.remotes.create(REMOTE, {
        "values.yaml": "tag: 1.0.0\n",
        "app.yaml": `image: ${IMAGE}:1.0.0\n`,
        ".pipe/w.yaml": `${watcher()}    - {image: ${IMAGE}, provider: registry, filePath: values.yaml, field: tag, format: tag}\n`
      })
      w.images.set(IMAGE, tags)
      return w
    }
    const lineOf = (report: PassReport, path: string) => formatReport(report).split("\n").find((l) => l.startsWith(`config  ${path}  `)) ?? ""

    test.each([
      ["pinDigest left to its default", {}],
      ["pinDigest: true", { pinDigest: true }]
    ])("under a cosign gate with %s fails clearly, and is not written unpinned", async (_name, over) => {
      const w = tagWorld(new Set([digest(3)]))
      const report = await passAt(w, [{ ...cosign(), ...over }], NOW)
      expect(lineOf(report, "values.yaml")).toContain(
        "failed: gate piped.yaml:30 verifies cosign signatures and pins the verified digest, but field tag of values.yaml holds the tag alone (format: tag), where no digest can be written: set pinDigest: false on the gate"
      )
      expect(w.remotes.readFile(REMOTE, "values.yaml")).toBe("tag: 1.0.0\n")
      // Its neighbour, whose field can carry the digest, still moves.
      expect(lineOf(report, "app.yaml")).toContain("1.0.0 -> 1.2.0  updated")
      expect(file(w)).toBe(`image: ${IMAGE}:1.2.0@${digest(3)}\n`)
    })

    test("under a cosign gate with pinDigest: false takes the verified tag, and says it is not pinned", async () => {
      const w = tagWorld(new Set([digest(2)]))
      const report = await passAt(w, [cosign({ pinDigest: false })], NOW)
      expect(w.remotes.readFile(REMOTE, "values.yaml")).toBe("tag: 1.1.0\n")
      expect(lineOf(report, "values.yaml")).toMatch(/1\.0\.0 -> 1\.1\.0 {2}updated \([0-9a-f]{7}\) \(signed by cosign\.pub, digest not pinned\); skipped: 1\.2\.0 not signed by cosign\.pub/)
    })

    test("a gate without cosign pins nothing, so asks nothing of the field", async () => {
      const w = tagWorld(new Set())
      const report = await passAt(w, [gate({ minAge: minAge(1), pinDigest: true })], NOW)
      expect(lineOf(report, "values.yaml")).toContain("1.0.0  held back by the gates; held: 1.2.0 too new")
      expect(lineOf(report, "values.yaml")).not.toContain("failed")
    })
  })

  test("nothing signed: the target is held where it is, and nothing fails", async () => {
    const w = world(tags, { signed: new Set() })
    const report = await passAt(w, [cosign()], NOW)
    expect(line(report)).toContain("1.0.0  held back by the gates; skipped: 1.2.0 not signed by cosign.pub (no signature); skipped: 1.1.0 not signed")
    expect(w.remotes.log(REMOTE).length).toBe(1)
  })

  test("a cosign gate on a tag store's image fails that target clearly", async () => {
    const w = world(tags, { signed: new Set([digest(3)]) })
    const report = await passAt(w, [cosign()], NOW, providerConfig({ name: "registry", type: "STORE" }))
    expect(line(report)).toContain("failed: gate piped.yaml:30 asks for cosign signatures, but provider registry is a tag store")
  })

  test("a keyless gate skips what its identity did not sign and names the identity", async () => {
    const identity = { issuer: "https://issuer", subjectPattern: "^https://github.com/org/.+$" }
    const asked: Array<string> = []
    const w = fakeWorld(
      undefined,
      Signatures.layerTest(
        () => Either.left("a key gate was asked"),
        (_image, d, g) => {
          asked.push(`${g.trustedRootFile} ${g.identity.issuer}`)
          return d === digest(2) ? Either.void : Either.left("no sigstore bundle")
        }
      )
    )
    w.remotes.create(REMOTE, { "app.yaml": `image: ${IMAGE}:1.0.0\n`, ".pipe/w.yaml": watcher() })
    w.images.set(IMAGE, tags)
    const keyless = gate({ cosign: { trustedRootFile: "/etc/runner/trusted_root.json", identity }, pinDigest: true })
    const report = await passAt(w, [keyless], NOW)
    expect(line(report)).toContain("1.0.0 -> 1.1.0  updated")
    expect(line(report)).toContain("; skipped: 1.2.0 not signed by https://issuer ^https://github.com/org/.+$ (no sigstore bundle)")
    expect(file(w)).toBe(`image: ${IMAGE}:1.1.0@${digest(2)}\n`)
    expect(asked[0]).toBe("/etc/runner/trusted_root.json https://issuer")
  })
})

describe("many candidates, none of which passes", () => {
  const CANDIDATES = 20_000
  const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`
  const many = [{ tag: "1.0.0", digest: digestOf(0) }, ...Array.from({ length: CANDIDATES }, (_, i) => ({ tag: `1.${i + 1}.0`, digest: digestOf(i + 1) }))]
  const cosign = gate({ cosign: { publicKeyFile: "/etc/runner/cosign.pub" }, pinDigest: true })

  test("20,000 unsigned tags are passed over in seconds, and the report line stays short", async () => {
    const w = world(many, { signed: new Set() })
    const started = performance.now()
    const report = await passAt(w, [cosign], NOW)
    const seconds = (performance.now() - started) / 1000
    const text = line(report)
    // Ten candidates are checked, the rest passed over unchecked; the first is told, the rest counted.
    expect(text).toBe(
      `config  app.yaml  image  ${IMAGE}  1.0.0  held back by the gates; skipped: 1.20000.0 not signed by cosign.pub (no signature); ` +
        `19,999 more: 9 not signed by cosign.pub, 19,990 not checked (10 newer tags failed first)  [${CANDIDATES + 1} tags listed, ${CANDIDATES + 1} kept]`
    )
    expect(text.length).toBeLessThan(300)
    expect(report.targets[0]?.outcome._tag).toBe("Held")
    expect(w.remotes.log(REMOTE).length).toBe(1)
    expect(seconds).toBeLessThan(10)
  }, 600_000)
})
