/**
 * `decide` and `judge` as a table: a target's field, the gates, a listing and the facts `resolve`
 * gathered, and the one decision they make. Pure: no registry, no git, no Effect runtime.
 */
import { describe, expect, test } from "bun:test"
import { Duration } from "effect"
import { checkRow, DAY, gate, HOUR, HUB, IMAGE, KEY, MINUTE, type Row, sha, STORE, tag } from "../support/decision.ts"

const img = (t: string) => `image: ${IMAGE}:${t}\n`
const age = (hours: number) => gate({ minAge: Duration.hours(hours) })
const signedBy = gate({ cosign: KEY })
const pinning = gate({ cosign: KEY, pinDigest: true })
const hub = { provider: HUB, gates: [age(24)] }
// 1.1.0 and 1.2.0 listed, 1.0.0 the current tag: the walk checks 1.2.0 first.
const twoNew = [tag("1.0.0"), tag("1.1.0", { pushed: 2 * DAY }), tag("1.2.0", { pushed: HOUR })]
const thirteenNew = [tag("1.0.0"), ...Array.from({ length: 13 }, (_, i) => tag(`1.${i + 1}.0`, { pushed: HOUR }))]

const basics: ReadonlyArray<Row> = [
  { name: "a newer tag is written", text: img("1.0.0"), listing: [tag("1.0.0"), tag("1.1.0")], expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)` },
  { name: "a field without tag gets the best", text: `image: ${IMAGE}\n`, listing: [tag("1.0.0")], expect: `Update 1.0.0 (image: ${IMAGE}:1.0.0)` },
  { name: "up to date", text: img("1.1.0"), listing: [tag("1.0.0"), tag("1.1.0")], expect: "UpToDate 1.1.0" },
  { name: "ahead of every candidate", text: img("2.0.0"), listing: [tag("1.0.0"), tag("1.1.0")], expect: "Ahead 2.0.0 (best 1.1.0)" },
  { name: "ahead, downgrades allowed: moves down", text: img("2.0.0"), target: { allowDowngrade: true }, listing: [tag("1.1.0")], expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)` },
  {
    name: "floating tag under version: left alone",
    text: img("latest"),
    target: { policy: { _tag: "version", range: "^" } },
    listing: [tag("latest"), tag("1.1.0")],
    expect: "LeftAlone latest: floating tag: name a policy to manage it"
  },
  { name: "a tag semver cannot read: left alone", text: img("main"), listing: [tag("1.1.0")], expect: "LeftAlone main: not read by semver *: left alone (allowDowngrade: true replaces it)" },
  { name: "unranked, downgrades allowed: replaced", text: img("main"), target: { allowDowngrade: true }, listing: [tag("main"), tag("1.1.0")], expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)` },
  { name: "the listing failed", text: img("1.0.0"), listing: { error: "unauthorized" }, expect: "Failed RegistryFailure: provider reg: unauthorized" },
  {
    name: "the selector's reading failed (creation times)",
    text: img("a"),
    target: { policy: { _tag: "newest" } },
    listing: [tag("a"), tag("b")],
    reading: { error: "config blob unknown" },
    expect: "Failed RegistryFailure: provider reg: config blob unknown"
  },
  { name: "no reading for the target's selector", text: img("1.0.0"), listing: [tag("1.1.0")], reading: "none", expect: "Failed InternalFailure: internal error: no reading of gcr.io/x/app" },
  { name: "an alias floats", text: img("15"), target: { policy: { _tag: "version", range: "^" } }, listing: [tag("15"), tag("15.5"), tag("16")], expect: "LeftAlone 15: alias of 15.x: it follows that line by itself" },
  {
    name: "an alias pinned by digest follows its tag's new digest",
    text: img(`15@${sha("a")}`),
    target: { policy: { _tag: "version", range: "^" } },
    listing: [tag("15", { digest: sha("b") }), tag("15.5"), tag("16")],
    expect: `Update 15 (image: ${IMAGE}:15@${sha("b")})`
  },
  {
    name: "an alias pinned by digest, the digest unchanged",
    text: img(`15@${sha("b")}`),
    target: { policy: { _tag: "version", range: "^" } },
    listing: [tag("15", { digest: sha("b") }), tag("15.5"), tag("16")],
    expect: "LeftAlone 15: alias of 15.x: it follows that line by itself"
  },
  { name: "no candidate", text: img("1.0.0"), listing: [tag("latest")], expect: "Failed NoCandidateFailure: no tag out of 1 listed matches semver" },
  { name: "choices left to decide", text: img("1.0.0"), listing: [tag("1.0.0"), tag("1.1.0")], reading: "empty", expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)` },
  { name: "the field is missing", text: "other: 1\n", listing: [tag("1.1.0")], expect: "Failed ManifestFailure: field image not found in app.yaml" },
  { name: "the field holds another image", text: "image: gcr.io/x/other:1.0.0\n", listing: [tag("1.1.0")], expect: "Failed ManifestFailure: not the watched image gcr.io/x/app" },
  {
    name: "two occurrences on different lines of versions",
    text: `${img("1.0.0")}---\n${img("2.0.0")}`,
    target: { policy: { _tag: "version", range: "^" } },
    listing: [tag("1.0.0"), tag("1.1.0"), tag("2.0.0"), tag("2.1.0")],
    expect: `Update 2.1.0 (image: ${IMAGE}:1.1.0 / --- / image: ${IMAGE}:2.1.0)`,
    explain: true,
    explained: 2
  },
  { name: "explained even when it fails", text: img("1.0.0"), explain: true, listing: [tag("latest")], expect: "Failed NoCandidateFailure: no tag out of 1 listed", explained: 1 },
  {
    name: "a line break in the current tag: not committed",
    text: 'tag: "1.0.0\\nSigned-off-by: x"\n',
    target: { field: "tag", format: "tag", allowDowngrade: true },
    listing: [tag("1.1.0")],
    expect: 'Failed PatchFailure: {{old}} "1.0.0\\nSigned-off-by: x" holds a line break'
  },
  {
    name: "a line break in the file name: not committed",
    text: img("1.0.0"),
    target: { filePath: "app\n.yaml" },
    listing: [tag("1.1.0")],
    expect: 'Failed PatchFailure: {{file}} "app\\n.yaml" holds a line break'
  }
]

const digests: ReadonlyArray<Row> = [
  {
    name: "a pinned digest moves with its tag",
    text: img(`1.0.0@${sha("a")}`),
    listing: [tag("1.0.0", { digest: sha("a") }), tag("1.1.0", { digest: sha("b") })],
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0@${sha("b")})`
  },
  { name: "the same tag pushed again: its digest refreshed", text: img(`1.1.0@${sha("a")}`), listing: [tag("1.1.0", { digest: sha("b") })], expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0@${sha("b")})` },
  { name: "a pinned digest up to date", text: img(`1.1.0@${sha("a")}`), listing: [tag("1.1.0", { digest: sha("a") })], expect: "UpToDate 1.1.0" },
  {
    name: "a bare digest at the best tag's image",
    text: `digest: ${sha("c")}\n`,
    target: { field: "digest", format: "digest" },
    listing: [tag("1.0.0", { digest: sha("a") }), tag("1.2.0", { digest: sha("c") })],
    expect: "UpToDate 1.2.0"
  },
  {
    name: "a bare digest follows the best tag",
    text: `digest: ${sha("a")}\n`,
    target: { field: "digest", format: "digest" },
    listing: [tag("1.0.0", { digest: sha("a") }), tag("1.2.0", { digest: sha("c") })],
    expect: `Update 1.2.0 (digest: ${sha("c")})`
  },
  { name: "a digest not listed: asked for", text: img(`1.0.0@${sha("a")}`), listing: [tag("1.1.0")], expect: "Needs Digest 1.1.0" },
  { name: "a digest looked up", text: img(`1.0.0@${sha("a")}`), listing: [tag("1.1.0")], facts: { digests: { "1.1.0": sha("b") } }, expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0@${sha("b")})` },
  {
    name: "a digest lookup that failed",
    text: img(`1.0.0@${sha("a")}`),
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": { error: "manifest unknown" } } },
    expect: "Failed RegistryFailure: provider reg: manifest unknown"
  }
]

const ages: ReadonlyArray<Row> = [
  { name: "too new by the registry's push time", text: img("1.0.0"), gates: [age(24)], listing: [tag("1.0.0"), tag("1.1.0", { pushed: HOUR })], expect: "Held: held: 1.1.0 too new (pushed 1h ago, needs 24h)", tally: [0, 1, 0] },
  { name: "the next best old enough is taken", text: img("1.0.0"), gates: [age(24)], listing: twoNew, expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0); held: 1.2.0 too new (pushed 1h ago, needs 24h)`, tally: [1, 1, 0] },
  { name: "old enough", text: img("1.0.0"), gates: [age(24)], listing: [tag("1.1.0", { pushed: 2 * DAY })], expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)`, tally: [1, 0, 0] },
  { name: "a tag store dates by registration", text: img("1.0.0"), provider: STORE, gates: [age(24)], listing: [tag("1.1.0", { pushed: 2 * HOUR })], expect: "Held: held: 1.1.0 too new (registered 2h ago, needs 24h)" },
  { name: "held, a field without tag", text: `image: ${IMAGE}\n`, gates: [age(24)], listing: [tag("1.1.0", { pushed: HOUR })], expect: "Held: held: 1.1.0 too new (pushed 1h ago, needs 24h)" },
  { name: "held, the current tag not listed", text: img("0.9.0"), gates: [age(24)], listing: [tag("1.1.0", { pushed: HOUR })], expect: "Held: held: 1.1.0 too new (pushed 1h ago, needs 24h)" },
  {
    name: "held, a listed current tag's digest still followed",
    text: img(`1.0.0@${sha("a")}`),
    gates: [age(24)],
    listing: [tag("1.0.0", { digest: sha("z") }), tag("1.1.0", { pushed: HOUR })],
    expect: `Update 1.0.0 (image: ${IMAGE}:1.0.0@${sha("z")}); held: 1.1.0 too new (pushed 1h ago, needs 24h)`
  },
  { name: "no push time listed: Docker Hub's asked for", text: img("1.0.0"), ...hub, listing: [tag("1.1.0")], expect: "Needs PushTimes" },
  { name: "Docker Hub's push time", text: img("1.0.0"), ...hub, listing: [tag("1.1.0")], facts: { pushTimes: { "1.1.0": 3 * HOUR } }, expect: "Held: held: 1.1.0 too new (pushed 3h ago, needs 24h)" },
  {
    name: "no push times: the first sighting",
    text: img("1.0.0"),
    ...hub,
    listing: [tag("1.1.0")],
    facts: { pushTimes: "none", sightings: { "1.1.0": { ago: 30 * MINUTE, initial: false } } },
    expect: "Held: held: 1.1.0 too new (first seen 30m ago, needs 24h)"
  },
  { name: "first seen long ago", text: img("1.0.0"), ...hub, listing: [tag("1.1.0")], facts: { pushTimes: "none", sightings: { "1.1.0": { ago: 2 * DAY, initial: false } } }, expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)` },
  { name: "never sighted: seen now", text: img("1.0.0"), ...hub, listing: [tag("1.1.0")], facts: { pushTimes: "none" }, expect: "Held: held: 1.1.0 too new (first seen 0s ago, needs 24h)" },
  {
    name: "a history tag of the first listing: its created asked for",
    text: img("1.2.0"),
    ...hub,
    target: { allowDowngrade: true },
    listing: [tag("1.0.0"), tag("1.1.0")],
    facts: { pushTimes: "none", sightings: { "1.0.0": { ago: HOUR, initial: true }, "1.1.0": { ago: HOUR, initial: true } } },
    expect: "Needs Created 1.1.0"
  },
  {
    name: "a history tag dated by a created older than its sighting",
    text: img("1.2.0"),
    ...hub,
    target: { allowDowngrade: true },
    listing: [tag("1.0.0"), tag("1.1.0")],
    facts: { pushTimes: "none", sightings: { "1.0.0": { ago: HOUR, initial: true }, "1.1.0": { ago: HOUR, initial: true } }, created: { "1.1.0": 2 * HOUR, "1.0.0": 60 * DAY } },
    expect: `Update 1.0.0 (image: ${IMAGE}:1.0.0); held: 1.1.0 too new (created 2h ago, needs 24h)`
  },
  {
    name: "a created not older than the sighting: the sighting",
    text: img("1.2.0"),
    ...hub,
    target: { allowDowngrade: true },
    listing: [tag("1.0.0"), tag("1.1.0")],
    facts: { pushTimes: "none", sightings: { "1.0.0": { ago: HOUR, initial: true }, "1.1.0": { ago: HOUR, initial: true } }, created: { "1.1.0": 10 * MINUTE, "1.0.0": "unknown" } },
    expect: "Held: held: 1.1.0 too new (first seen 1h ago, needs 24h); held: 1.0.0 too new (first seen 1h ago, needs 24h)"
  },
  {
    name: "a created never dates a tag above the current one",
    text: img("1.0.0"),
    ...hub,
    listing: [tag("1.0.0"), tag("1.1.0")],
    facts: { pushTimes: "none", sightings: { "1.0.0": { ago: HOUR, initial: true }, "1.1.0": { ago: HOUR, initial: true } }, created: { "1.1.0": 30 * DAY } },
    expect: "Held: held: 1.1.0 too new (first seen 1h ago, needs 24h)"
  },
  {
    name: "a created never dates a tag that came after the first listing",
    text: img("1.2.0"),
    ...hub,
    target: { allowDowngrade: true },
    listing: [tag("1.1.0")],
    facts: { pushTimes: "none", sightings: { "1.1.0": { ago: HOUR, initial: false } }, created: { "1.1.0": 30 * DAY } },
    expect: "Held: held: 1.1.0 too new (first seen 1h ago, needs 24h)"
  },
  { name: "the target's minAge, larger", text: img("1.0.0"), target: { minAge: Duration.hours(3) }, gates: [age(1)], listing: [tag("1.1.0", { pushed: 2 * HOUR })], expect: "Held: held: 1.1.0 too new (pushed 2h ago, needs 3h)" },
  { name: "the gate's minAge, larger", text: img("1.0.0"), target: { minAge: Duration.hours(1) }, gates: [age(3)], listing: [tag("1.1.0", { pushed: 2 * HOUR })], expect: "Held: held: 1.1.0 too new (pushed 2h ago, needs 3h)" },
  { name: "the target's minAge without a gate", text: img("1.0.0"), target: { minAge: Duration.hours(3) }, listing: [tag("1.1.0", { pushed: 2 * HOUR })], expect: "Held: held: 1.1.0 too new (pushed 2h ago, needs 3h)" },
  { name: "a gate over other images", text: img("1.0.0"), gates: [gate({ images: ["ghcr.io/**"], minAge: Duration.hours(24) })], listing: [tag("1.1.0", { pushed: HOUR })], expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0)` },
  {
    name: "past ten failed candidates, the rest unchecked",
    text: img("1.0.0"),
    gates: [age(24)],
    listing: thirteenNew,
    expect: "Held: held: 1.13.0 too new (pushed 1h ago, needs 24h); 12 more: 9 too new (needs 24h), 3 not checked (10 newer tags failed first)",
    tally: [0, 13, 0]
  },
  {
    name: "two current tags: each line walked on its own",
    text: `${img("1.0.0")}---\n${img("2.0.0")}`,
    target: { policy: { _tag: "version", range: "^" } },
    gates: [age(24)],
    listing: [tag("1.0.0"), tag("1.1.0", { pushed: 2 * DAY }), tag("2.0.0"), tag("2.1.0", { pushed: HOUR })],
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0 / --- / image: ${IMAGE}:2.0.0); held: 2.1.0 too new (pushed 1h ago, needs 24h)`,
    tally: [1, 1, 0]
  }
]

const signatures: ReadonlyArray<Row> = [
  { name: "cosign: the digest asked for", text: img("1.0.0"), gates: [signedBy], listing: [tag("1.1.0")], expect: "Needs Digest 1.1.0" },
  { name: "cosign: the verdict asked for", text: img("1.0.0"), gates: [signedBy], listing: [tag("1.1.0", { digest: sha("b") })], facts: { digests: { "1.1.0": sha("b") } }, expect: `Needs Signature ${sha("b")} (gate piped.yaml:30)` },
  {
    name: "cosign: signed",
    text: img("1.0.0"),
    gates: [signedBy],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: "signed" }] },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0) [signed by cosign.pub, digest not pinned]`,
    tally: [1, 0, 0]
  },
  {
    name: "cosign: the unsigned candidate skipped for the next signed",
    text: img("1.0.0"),
    gates: [signedBy],
    listing: [tag("1.1.0"), tag("1.2.0")],
    facts: { digests: { "1.1.0": sha("b"), "1.2.0": sha("c") }, signatures: [{ digest: sha("b"), verdict: "signed" }, { digest: sha("c"), verdict: { unsigned: "no signature" } }] },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0) [signed by cosign.pub, digest not pinned]; skipped: 1.2.0 not signed by cosign.pub (no signature)`,
    tally: [1, 0, 1]
  },
  {
    name: "cosign: no digest to verify",
    text: img("1.0.0"),
    gates: [signedBy],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": { error: "manifest unknown" } } },
    expect: "Held: skipped: 1.1.0 has no digest to verify (manifest unknown)",
    tally: [0, 0, 1]
  },
  {
    name: "cosign: a key that cannot be used",
    text: img("1.0.0"),
    gates: [gate({ cosign: KEY, line: 42 })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: { unusable: "not a PEM public key" } }] },
    expect: "Failed ConfigFailure: gate piped.yaml:42: not a PEM public key"
  },
  {
    name: "two rules: the first fails, the second is never asked",
    text: img("1.0.0"),
    gates: [signedBy, gate({ cosign: { publicKeyFile: "/etc/runner/other.pub" }, line: 40 })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: { unsigned: "no signature" } }] },
    expect: "Held: skipped: 1.1.0 not signed by cosign.pub (no signature)"
  },
  {
    name: "two rules: the first passes, the second asked",
    text: img("1.0.0"),
    gates: [signedBy, gate({ cosign: { publicKeyFile: "/etc/runner/other.pub" }, line: 40 })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: "signed" }] },
    expect: `Needs Signature ${sha("b")} (gate piped.yaml:40)`
  },
  {
    name: "two rules: both pass",
    text: img("1.0.0"),
    gates: [signedBy, gate({ cosign: { publicKeyFile: "/etc/runner/other.pub" }, line: 40 })],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: "signed" }, { rule: 1, digest: sha("b"), verdict: "signed" }] },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0) [signed by cosign.pub and other.pub, digest not pinned]`
  },
  {
    name: "pinDigest writes tag@digest of what was verified",
    text: img("1.0.0"),
    gates: [pinning],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: "signed" }] },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0@${sha("b")}) [signed by cosign.pub]`
  },
  {
    name: "pinDigest on a field of the tag alone",
    text: "tag: 1.0.0\n",
    target: { field: "tag", format: "tag" },
    gates: [pinning],
    listing: [tag("1.1.0")],
    expect: "Failed ConfigFailure: gate piped.yaml:30 verifies cosign signatures and pins the verified digest, but field tag of app.yaml holds the tag alone"
  },
  {
    name: "a field of the tag alone, signed, not pinned",
    text: "tag: 1.0.0\n",
    target: { field: "tag", format: "tag" },
    gates: [signedBy],
    listing: [tag("1.1.0")],
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: "signed" }] },
    expect: "Update 1.1.0 (tag: 1.1.0) [signed by cosign.pub, digest not pinned]"
  },
  {
    name: "a pinned field's own tag pushed again: its new digest is asked for",
    text: img(`1.1.0@${sha("a")}`),
    gates: [pinning],
    listing: [tag("1.1.0")],
    expect: "Needs Digest 1.1.0"
  },
  {
    name: "a pinned field's own tag pushed again: the new digest's verdict is asked for",
    text: img(`1.1.0@${sha("a")}`),
    gates: [pinning],
    listing: [tag("1.1.0", { digest: sha("z") })],
    facts: { digests: { "1.1.0": sha("z") } },
    expect: `Needs Signature ${sha("z")} (gate piped.yaml:30)`
  },
  {
    name: "a pinned field's own tag pushed again, unsigned: the field keeps its digest",
    text: img(`1.1.0@${sha("a")}`),
    gates: [pinning],
    listing: [tag("1.1.0", { digest: sha("z") })],
    facts: { digests: { "1.1.0": sha("z") }, signatures: [{ digest: sha("z"), verdict: { unsigned: "no signature" } }] },
    expect: "Held: skipped: 1.1.0 not signed by cosign.pub (no signature)",
    tally: [0, 0, 1]
  },
  {
    name: "a pinned field's own tag pushed again, signed: the verified digest is written",
    text: img(`1.1.0@${sha("a")}`),
    gates: [pinning],
    listing: [tag("1.1.0", { digest: sha("z") })],
    facts: { digests: { "1.1.0": sha("z") }, signatures: [{ digest: sha("z"), verdict: "signed" }] },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0@${sha("z")}) [signed by cosign.pub]`,
    tally: [1, 0, 0]
  },
  {
    name: "newer candidates unsigned, the current tag pushed again unsigned: nothing is written",
    text: img(`1.0.0@${sha("a")}`),
    gates: [pinning],
    listing: [tag("1.0.0", { digest: sha("z") }), tag("1.1.0", { digest: sha("b") })],
    facts: {
      digests: { "1.0.0": sha("z"), "1.1.0": sha("b") },
      signatures: [{ digest: sha("b"), verdict: { unsigned: "no signature" } }, { digest: sha("z"), verdict: { unsigned: "no signature" } }]
    },
    expect: "Held: skipped: 1.1.0 not signed by cosign.pub (no signature); skipped: 1.0.0 not signed by cosign.pub (no signature)",
    tally: [0, 0, 2]
  },
  {
    name: "gated, choices left to decide: the gates still apply",
    text: img("1.0.0"),
    gates: [age(24)],
    listing: [tag("1.0.0"), tag("1.1.0", { pushed: HOUR })],
    reading: "empty",
    expect: "Held: held: 1.1.0 too new (pushed 1h ago, needs 24h)",
    tally: [0, 1, 0]
  },
  { name: "cosign on a tag store", text: img("1.0.0"), provider: STORE, gates: [signedBy], listing: [tag("1.1.0")], expect: "Failed ConfigFailure: gate piped.yaml:30 asks for cosign signatures, but provider store is a tag store" },
  {
    name: "age and signature: too new first, the older one verified",
    text: img("1.0.0"),
    gates: [age(24), signedBy],
    listing: twoNew,
    facts: { digests: { "1.1.0": sha("b") }, signatures: [{ digest: sha("b"), verdict: "signed" }] },
    expect: `Update 1.1.0 (image: ${IMAGE}:1.1.0) [signed by cosign.pub, digest not pinned]; held: 1.2.0 too new (pushed 1h ago, needs 24h)`,
    tally: [1, 1, 0]
  }
]

const rows: ReadonlyArray<Row> = [...basics, ...digests, ...ages, ...signatures]

describe("decide", () => {
  test("the table covers every decision and every need", () => {
    const heads = new Set(rows.map((r) => r.expect.split(/[ :]/)[0] + (r.expect.startsWith("Needs") ? ` ${r.expect.split(" ")[1]}` : "")))
    expect([...heads].sort()).toEqual(["Ahead", "Failed", "Held", "LeftAlone", "Needs Created", "Needs Digest", "Needs PushTimes", "Needs Signature", "Update", "UpToDate"].sort())
    expect(rows.length).toBeGreaterThanOrEqual(40)
  })

  test.each(rows.map((r) => [r.name, r] as const))("%s", (_name, row) => checkRow(row))
})
