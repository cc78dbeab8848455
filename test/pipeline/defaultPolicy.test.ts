/** Default policies in a pass, in process: a watcher file's and a pipeline's, under a target's own. */
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import type { PolicySpec } from "../../src/domain/PolicySpec.ts"
import { runOnce } from "../../src/pipeline/run.ts"
import { fakeWorld, pipelineOf, REMOTE } from "../support/inProcess.ts"

const FREE = "gcr.io/org/free"
const OWN = "gcr.io/org/own"
const TAGS = ["1.0.0", "1.1.0", "2.0.0"].map((tag) => ({ tag }))

/** Two targets from 1.0.0 with 1.1.0 and 2.0.0 listed: `free` names no policy, `own` keeps its major. */
const watcher = (defaultPolicy: string | undefined) => `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
${defaultPolicy === undefined ? "" : `  defaultPolicy: ${defaultPolicy}\n`}  targets:
    - {image: ${FREE}, provider: registry, filePath: free.yaml, field: image}
    - {image: ${OWN}, provider: registry, filePath: own.yaml, field: image, policy: {version: "^"}}
`

/** The tags the two fields hold after one pass. */
const passWith = async (fileDefault: string | undefined, pipelineDefault: PolicySpec | undefined) => {
  const w = fakeWorld()
  w.remotes.create(REMOTE, {
    "free.yaml": `image: ${FREE}:1.0.0\n`,
    "own.yaml": `image: ${OWN}:1.0.0\n`,
    ".pipe/w.yaml": watcher(fileDefault)
  })
  w.images.set(FREE, TAGS)
  w.images.set(OWN, TAGS)
  const pipeline = { ...pipelineOf(), ...(pipelineDefault === undefined ? {} : { defaultPolicy: pipelineDefault }) }
  await Effect.runPromise(runOnce([pipeline], w.options).pipe(Effect.provide(w.layer)))
  return [w.remotes.readFile(REMOTE, "free.yaml"), w.remotes.readFile(REMOTE, "own.yaml")]
}

describe("default policies in a pass", () => {
  test("a watcher file's defaultPolicy {semver: \"*\"} moves a target without a policy across a major; a target's own policy keeps it", async () => {
    expect(await passWith(`{semver: "*"}`, undefined)).toEqual([`image: ${FREE}:2.0.0\n`, `image: ${OWN}:1.1.0\n`])
  })

  test("the pipeline's defaultPolicy does the same, and a watcher file's default overrides it", async () => {
    const anything: PolicySpec = { _tag: "semver", range: "*" }
    expect(await passWith(undefined, anything)).toEqual([`image: ${FREE}:2.0.0\n`, `image: ${OWN}:1.1.0\n`])
    expect(await passWith(`{version: "^"}`, anything)).toEqual([`image: ${FREE}:1.1.0\n`, `image: ${OWN}:1.1.0\n`])
  })

  test("without any default, the built-in one keeps the major", async () => {
    expect(await passWith(undefined, undefined)).toEqual([`image: ${FREE}:1.1.0\n`, `image: ${OWN}:1.1.0\n`])
  })
})
