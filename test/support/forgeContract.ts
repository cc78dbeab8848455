/**
 * What every Forge must do against its host, whichever host. A provider plugs in with
 * `forgeContract(name, start)`, where `start` starts a fake of its host and gives a ForgeHarness:
 * a way to run the client against it, and controls of the fake playing the people on the other
 * side (a person opening a request, from the repository or a fork; a merge; a refusal).
 */
import { afterEach, describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import type { Forge, ForgeError, RequestState } from "../../src/forge/Forge.ts"

/** Answers no host should give: not JSON, JSON of another shape, bigger than any answer, a gzip bomb. */
export type Hostile = "not-json" | "wrong-shape" | "huge" | "gzip-bomb"

export interface PersonRequest {
  readonly branch: string
  readonly base: string
  readonly title?: string
  readonly body?: string
  /** Opened from a fork of the repository (anyone may, on a public one), or from one since deleted. */
  readonly from?: "fork" | "deleted fork"
}

export interface ForgeHarness {
  /** Runs `use` with a client of the fake (a fresh HTTP stack each time), with `token` or the one the fake takes. */
  readonly run: <A>(use: (forge: Forge) => Effect.Effect<A, ForgeError>, token?: string) => Promise<Either.Either<A, ForgeError>>
  /** The token the fake takes: no message may contain it. */
  readonly token: string
  /** A branch on the host, as a push leaves it. */
  readonly addBranch: (branch: string) => void
  readonly hasBranch: (branch: string) => boolean
  /** A request opened on the site by a person; its number. */
  readonly openAsPerson: (request: PersonRequest) => number
  /** Merged or closed on the site, as a person would. */
  readonly setState: (number: number, state: "merged" | "closed") => void
  /** What the host holds of a request. */
  readonly inspect: (number: number) => { state: RequestState; labels: ReadonlyArray<string>; comments: ReadonlyArray<string>; autoMerge: boolean }
  /** The host's ways of saying "too many requests", each with a wait of about a second. */
  readonly rateLimits: ReadonlyArray<string>
  /** The next `times` answers are the rate limit `kind`. */
  readonly rateLimitNext: (kind: string, times: number) => void
  /** The next answer is this hostile one, with status 200. */
  readonly hostileNext: (kind: Hostile) => void
  /** While true, the host will not set a request to merge (it cannot merge it yet). */
  readonly refuseMerges: (refuse: boolean) => void
  /** Stops the fake, after any check the provider makes of what was exchanged. */
  readonly stop: () => Promise<void>
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

/** The provider-neutral cases under `describe("Forge contract: <name>")`, each with a fake of its own. */
export const forgeContract = (name: string, start: () => Promise<ForgeHarness>) =>
  describe(`Forge contract: ${name}`, () => {
    let current: ForgeHarness | undefined
    const started = async () => {
      current = await start()
      return current
    }
    afterEach(async () => {
      await current?.stop()
      current = undefined
    })

    test("open: a request with its labels; a second one for the same branch is refused", async () => {
      const h = await started()
      h.addBranch("image-updates/nginx-1.27.3")
      const opened = success(await h.run((forge) => forge.open(newRequest("image-updates/nginx-1.27.3"))))
      expect(opened).toMatchObject({ state: "open", branch: "image-updates/nginx-1.27.3", base: "main", title: "Update image-updates/nginx-1.27.3" })
      expect(opened.body).toContain(MARKER)
      expect(opened.headSha).not.toBe("")
      expect(opened.url).toContain(String(opened.number))
      expect(h.inspect(opened.number)).toMatchObject({ state: "open", labels: ["image-update", "automated"] })
      expect(failure(await h.run((forge) => forge.open(newRequest("image-updates/nginx-1.27.3")))).reason).toBe("Refused")
    })

    test("openRequests: the open ones against the base whose body has the marker, over more than one page", async () => {
      const h = await started()
      for (let i = 0; i < 105; i++) h.openAsPerson({ branch: `b${i}`, base: "main", body: i % 2 === 0 ? `${MARKER} ${i}` : "a person's" })
      h.addBranch("image-updates/by-runner")
      success(await h.run((forge) => forge.open(newRequest("image-updates/by-runner"))))
      h.openAsPerson({ branch: "other-base", base: "release", body: MARKER })
      h.setState(h.openAsPerson({ branch: "closed", base: "main", body: MARKER }), "closed")
      h.setState(h.openAsPerson({ branch: "merged", base: "main", body: MARKER }), "merged")
      const found = success(await h.run((forge) => forge.openRequests("main", MARKER)))
      const expected = [...Array.from({ length: 53 }, (_, i) => `b${i * 2}`), "image-updates/by-runner"]
      expect(found.map((r) => r.branch).toSorted()).toEqual(expected.toSorted())
      expect(found.every((r) => r.state === "open" && r.base === "main")).toBe(true)
    })

    test("requestsFor: every request of the branch, newest first, in the three states", async () => {
      const h = await started()
      const branch = "image-updates/redis-7.4.1"
      const first = h.openAsPerson({ branch, base: "main", body: MARKER })
      h.setState(first, "merged")
      const second = h.openAsPerson({ branch, base: "main", body: MARKER })
      h.setState(second, "closed")
      const third = h.openAsPerson({ branch, base: "main", body: MARKER })
      h.openAsPerson({ branch: `${branch}-other`, base: "main", body: MARKER })
      h.openAsPerson({ branch: "image-updates/b", base: "main", body: MARKER })
      const found = success(await h.run((forge) => forge.requestsFor(branch)))
      expect(found.map((r): [number, RequestState] => [r.number, r.state])).toEqual([
        [third, "open"],
        [second, "closed"],
        [first, "merged"],
      ])
      expect(success(await h.run((forge) => forge.requestsFor("image-updates/none")))).toEqual([])
    })

    test("requests opened from a fork, or from a fork since deleted, are not the runner's, even with its marker and its branch name", async () => {
      const h = await started()
      const branch = "image-updates/nginx-1.27.3"
      h.addBranch(branch)
      const own = success(await h.run((forge) => forge.open(newRequest(branch))))
      // Opened and closed unmerged, as if the tag had been declined; then one left open.
      h.setState(h.openAsPerson({ branch, base: "main", body: MARKER, from: "fork" }), "closed")
      h.openAsPerson({ branch, base: "main", body: MARKER, from: "fork" })
      h.openAsPerson({ branch, base: "main", body: MARKER, from: "deleted fork" })
      expect(success(await h.run((forge) => forge.openRequests("main", MARKER))).map((r) => r.number)).toEqual([own.number])
      expect(success(await h.run((forge) => forge.requestsFor(branch))).map((r) => r.number)).toEqual([own.number])
    })

    test("close: leaves the comment, then closes", async () => {
      const h = await started()
      h.addBranch("image-updates/old")
      const opened = success(await h.run((forge) => forge.open(newRequest("image-updates/old"))))
      success(await h.run((forge) => forge.close(opened.number, "Superseded by a newer tag.")))
      expect(h.inspect(opened.number)).toMatchObject({ state: "closed", comments: ["Superseded by a newer tag."] })
    })

    test("autoMerge: refused while the host cannot merge, then set; refused on a closed request", async () => {
      const h = await started()
      h.addBranch("image-updates/auto")
      const opened = success(await h.run((forge) => forge.open(newRequest("image-updates/auto"))))
      h.refuseMerges(true)
      expect(failure(await h.run((forge) => forge.autoMerge(opened))).reason).toBe("Refused")
      expect(h.inspect(opened.number).autoMerge).toBe(false)
      h.refuseMerges(false)
      success(await h.run((forge) => forge.autoMerge(opened)))
      expect(h.inspect(opened.number).autoMerge).toBe(true)
      h.setState(opened.number, "closed")
      expect(failure(await h.run((forge) => forge.autoMerge(opened))).reason).toBe("Refused")
    })

    test("autoMerge: pinned to the head it was given, refused once the branch moved", async () => {
      const h = await started()
      h.addBranch("image-updates/moved")
      const opened = success(await h.run((forge) => forge.open(newRequest("image-updates/moved"))))
      expect(failure(await h.run((forge) => forge.autoMerge({ ...opened, headSha: "0".repeat(40) }))).reason).toBe("Refused")
      expect(h.inspect(opened.number).autoMerge).toBe(false)
    })

    test("deleteBranch: deletes it; a branch already gone is not a failure", async () => {
      const h = await started()
      h.addBranch("image-updates/done")
      success(await h.run((forge) => forge.deleteBranch("image-updates/done")))
      expect(h.hasBranch("image-updates/done")).toBe(false)
      success(await h.run((forge) => forge.deleteBranch("image-updates/done")))
    })

    test("a refused token is an Auth failure that says so and never shows the token", async () => {
      const h = await started()
      const wrong = "glpat-WrongTokenXyz123456"
      const refused = failure(await h.run((forge) => forge.openRequests("main", MARKER), wrong))
      expect(refused.reason).toBe("Auth")
      expect(refused.status).toBe(401)
      expect(refused.message).toContain("the token was refused")
      expect(refused.message).not.toContain(wrong)
      expect(JSON.stringify(refused)).not.toContain(wrong)
      expect(refused.message).not.toContain(h.token)
    })

    test("rate limits: waited for, then the request goes through; four in a row fail as RateLimited", async () => {
      const h = await started()
      h.openAsPerson({ branch: "b", base: "main", body: MARKER })
      expect(h.rateLimits.length).toBeGreaterThan(0)
      for (const kind of h.rateLimits) {
        h.rateLimitNext(kind, 2)
        const before = performance.now()
        expect(success(await h.run((forge) => forge.openRequests("main", MARKER))).length).toBe(1)
        expect(performance.now() - before).toBeGreaterThanOrEqual(1900)
        h.rateLimitNext(kind, 4)
        expect(failure(await h.run((forge) => forge.openRequests("main", MARKER))).reason).toBe("RateLimited")
      }
    }, 40_000)

    for (const kind of ["not-json", "wrong-shape", "huge", "gzip-bomb"] as const) {
      test(`a hostile answer (${kind}) is a Protocol failure, told in a few words`, async () => {
        const h = await started()
        h.hostileNext(kind)
        const failed = failure(await h.run((forge) => forge.requestsFor("image-updates/x")))
        expect(failed.reason).toBe("Protocol")
        expect(failed.message.length).toBeLessThan(1000)
      }, 20_000)
    }
  })
