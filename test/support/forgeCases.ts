/**
 * What every Forge must do against its host, whichever host: the cases take a harness (a way to
 * run the client, and controls of a fake host playing the people on the other side), so that each
 * provider's test wires its client and fake to the same cases.
 */
import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import type { Forge, ForgeError, RequestState } from "../../src/forge/Forge.ts"

export interface ForgeHarness {
  /** Runs `use` with a client of the fake (a fresh HTTP stack each time), with `token` or the one the fake takes. */
  readonly run: <A>(use: (forge: Forge) => Effect.Effect<A, ForgeError>, token?: string) => Promise<Either.Either<A, ForgeError>>
  /** The token the fake takes: no message may contain it. */
  readonly token: string
  /** A request opened by a person; its number. */
  readonly openAsPerson: (request: { branch: string; base: string; description?: string }) => number
  readonly setState: (number: number, state: "merged" | "closed") => void
  readonly notesOn: (number: number) => ReadonlyArray<string>
  readonly stateOf: (number: number) => string | undefined
  readonly labelsOf: (number: number) => ReadonlyArray<string>
  readonly autoMergeSet: (number: number) => boolean
  readonly addBranch: (branch: string) => void
  readonly hasBranch: (branch: string) => boolean
  /** The next `n` answers are 429 with `Retry-After: 1`. */
  readonly refuseNext: (n: number) => void
  /** The next answer is this, whatever was asked. */
  readonly answerNext: (answer: { status: number; body: string | Uint8Array; headers?: Record<string, string> }) => void
  /** Merges asked for are refused as the host does when it cannot merge yet; undefined: accepted again. */
  readonly refuseMerges: (refuse: boolean) => void
  /** A body that inflates past any cap. */
  readonly hugeBody: () => { body: Uint8Array; headers: Record<string, string> }
  readonly reset: () => void
}

const MARKER = "<!-- image-updates:config -->"

const newRequest = (branch: string, base = "main") => ({
  branch,
  base,
  title: `Update ${branch}`,
  body: `Bumps nginx.\n\n${MARKER}`,
  labels: ["image-update", "automated"],
})

const failure = <A>(result: Either.Either<A, ForgeError>): ForgeError => {
  if (Either.isRight(result)) throw new Error(`expected a failure, got ${JSON.stringify(result.right)}`)
  return result.left
}

const success = <A>(result: Either.Either<A, ForgeError>): A => {
  if (Either.isLeft(result)) throw new Error(`expected success, got ${result.left.message}`)
  return result.right
}

/** The provider-neutral cases, under `describe(name)`; `harness` is read when the tests run (after beforeAll). */
export const forgeCases = (name: string, harness: () => ForgeHarness) =>
  describe(name, () => {
    test("open: a request with its labels; a second one for the same branch is refused", async () => {
      const h = harness()
      h.reset()
      const opened = success(await h.run((forge) => forge.open(newRequest("image-updates/nginx-1.27.3"))))
      expect(opened).toMatchObject({ state: "open", branch: "image-updates/nginx-1.27.3", base: "main", title: "Update image-updates/nginx-1.27.3" })
      expect(opened.body).toContain(MARKER)
      expect(opened.headSha).not.toBe("")
      expect(opened.url).toContain(String(opened.number))
      expect(h.labelsOf(opened.number)).toEqual(["image-update", "automated"])
      const again = failure(await h.run((forge) => forge.open(newRequest("image-updates/nginx-1.27.3"))))
      expect(again.reason).toBe("Refused")
    })

    test("openRequests: the open ones against the base whose body has the marker, over more than one page", async () => {
      const h = harness()
      h.reset()
      const opened = success(await h.run((forge) => Effect.forEach(Array.from({ length: 105 }, (_, i) => newRequest(`image-updates/app-${i}`)), forge.open)))
      h.setState(opened[0]?.number ?? 0, "merged")
      h.setState(opened[1]?.number ?? 0, "closed")
      success(await h.run((forge) => forge.open(newRequest("image-updates/other-base", "release"))))
      h.openAsPerson({ branch: "feature/by-hand", base: "main", description: "no marker here" })
      const found = success(await h.run((forge) => forge.openRequests("main", MARKER)))
      expect(found.map((r) => r.branch).toSorted()).toEqual(opened.slice(2).map((r) => r.branch).toSorted())
      expect(found.every((r) => r.state === "open" && r.base === "main")).toBe(true)
    })

    test("requestsFor: every request of the branch, newest first, in the three states", async () => {
      const h = harness()
      h.reset()
      const branch = "image-updates/redis-7.4.1"
      const first = h.openAsPerson({ branch, base: "main" })
      h.setState(first, "merged")
      const second = h.openAsPerson({ branch, base: "main" })
      h.setState(second, "closed")
      const third = h.openAsPerson({ branch, base: "main" })
      h.openAsPerson({ branch: `${branch}-other`, base: "main" })
      const found = success(await h.run((forge) => forge.requestsFor(branch)))
      expect(found.map((r): [number, RequestState] => [r.number, r.state])).toEqual([
        [third, "open"],
        [second, "closed"],
        [first, "merged"],
      ])
      expect(success(await h.run((forge) => forge.requestsFor("image-updates/none")))).toEqual([])
    })

    test("close: leaves the comment, then closes", async () => {
      const h = harness()
      h.reset()
      const opened = success(await h.run((forge) => forge.open(newRequest("image-updates/old"))))
      success(await h.run((forge) => forge.close(opened.number, "Superseded by a newer tag.")))
      expect(h.notesOn(opened.number)).toEqual(["Superseded by a newer tag."])
      expect(h.stateOf(opened.number)).toBe("closed")
    })

    test("autoMerge: set on the request; refused while the host cannot merge, and when the branch moved", async () => {
      const h = harness()
      h.reset()
      const opened = success(await h.run((forge) => forge.open(newRequest("image-updates/auto"))))
      h.refuseMerges(true)
      expect(failure(await h.run((forge) => forge.autoMerge(opened))).reason).toBe("Refused")
      expect(h.autoMergeSet(opened.number)).toBe(false)
      h.refuseMerges(false)
      expect(failure(await h.run((forge) => forge.autoMerge({ ...opened, headSha: "0".repeat(40) }))).reason).toBe("Refused")
      success(await h.run((forge) => forge.autoMerge(opened)))
      expect(h.autoMergeSet(opened.number)).toBe(true)
    })

    test("deleteBranch: deletes it; a branch already gone is not a failure", async () => {
      const h = harness()
      h.reset()
      h.addBranch("image-updates/done")
      success(await h.run((forge) => forge.deleteBranch("image-updates/done")))
      expect(h.hasBranch("image-updates/done")).toBe(false)
      success(await h.run((forge) => forge.deleteBranch("image-updates/done")))
    })

    test("a refused token is an Auth failure that says so and never shows the token", async () => {
      const h = harness()
      h.reset()
      const wrong = "glpat-WrongTokenXyz123456"
      const refused = failure(await h.run((forge) => forge.openRequests("main", MARKER), wrong))
      expect(refused.reason).toBe("Auth")
      expect(refused.status).toBe(401)
      expect(refused.message).toContain("refused the token")
      expect(refused.message).not.toContain(wrong)
      expect(refused.message).not.toContain(h.token)
    })

    test("429 with Retry-After is waited for, then the request goes through; four in a row fail as RateLimited", async () => {
      const h = harness()
      h.reset()
      h.refuseNext(2)
      const started = performance.now()
      expect(success(await h.run((forge) => forge.openRequests("main", MARKER)))).toEqual([])
      expect(performance.now() - started).toBeGreaterThanOrEqual(1900)
      h.refuseNext(4)
      expect(failure(await h.run((forge) => forge.openRequests("main", MARKER))).reason).toBe("RateLimited")
    }, 20_000)

    test("an answer that is not JSON, or too big to read, is a Protocol failure", async () => {
      const h = harness()
      h.reset()
      h.answerNext({ status: 200, body: "<html>sign in</html>" })
      const garbled = failure(await h.run((forge) => forge.requestsFor("image-updates/x")))
      expect(garbled.reason).toBe("Protocol")
      h.answerNext({ status: 200, body: JSON.stringify([{ iid: "one" }]) })
      expect(failure(await h.run((forge) => forge.requestsFor("image-updates/x"))).reason).toBe("Protocol")
      h.answerNext({ status: 200, ...h.hugeBody() })
      const huge = failure(await h.run((forge) => forge.requestsFor("image-updates/x")))
      expect(huge.reason).toBe("Protocol")
      expect(huge.message.length).toBeLessThan(1000)
    }, 20_000)
  })
