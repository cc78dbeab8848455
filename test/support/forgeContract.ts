/**
 * What every Forge must do, run against a loopback fake of its host. A provider plugs in with
 * `forgeContract(name, start)`, where `start` starts its fake and gives a ForgeSubject: the client
 * made with a token, and the few things a person or the host does that the client cannot.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import type { Forge, ForgeError } from "../../src/forge/Forge.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"

export interface ForgeSubject {
  /** The client, with this token (the one the fake accepts unless told otherwise). */
  readonly forge: (token?: string) => Effect.Effect<Forge, ForgeError, RegistryHttp>
  readonly token: string
  /** A branch on the host, as a push leaves it. */
  readonly addBranch: (branch: string) => void
  readonly hasBranch: (branch: string) => boolean
  /** A request opened on the site by a person; its number. */
  readonly openAsPerson: (request: { branch: string; base: string; title: string; body: string }) => number
  /** Merged or closed on the site, as a person would. */
  readonly setState: (number: number, state: "merged" | "closed") => void
  /** What the host holds of a request. */
  readonly inspect: (number: number) => { state: string; labels: ReadonlyArray<string>; comments: ReadonlyArray<string>; autoMerge: boolean }
  /** The next answer is the host's rate limit (with a wait of about a second), `kind` as the host sends it. */
  readonly rateLimitNext: (kind: "throttled" | "429") => void
  /** The next answer is a 200 whose body is not JSON, or bigger than any answer of the host. */
  readonly hostileNext: (kind: "not-json" | "huge") => void
  readonly stop: () => Promise<void>
}

const MARKER = "<!-- runner:image-update -->"

/** The forge's effect run with a fresh RegistryHttp (a limiter slowed by one test does not slow the next). */
const run = <A>(subject: ForgeSubject, use: (forge: Forge) => Effect.Effect<A, ForgeError>, token?: string): Promise<Either.Either<A, ForgeError>> =>
  Effect.runPromise(Effect.either(Effect.flatMap(subject.forge(token), use)).pipe(Effect.provide(RegistryHttp.layer)))

const ok = async <A>(result: Promise<Either.Either<A, ForgeError>>): Promise<A> => {
  const either = await result
  if (Either.isLeft(either)) throw new Error(either.left.message)
  return either.right
}

const request = (branch: string, body = `${MARKER}\nbump`) => ({ branch, base: "main", title: `Update ${branch}`, body, labels: [] as ReadonlyArray<string> })

export const forgeContract = (name: string, start: () => Promise<ForgeSubject>) =>
  describe(`Forge contract: ${name}`, () => {
    let subject: ForgeSubject | undefined
    const started = async () => {
      subject = await start()
      return subject
    }
    afterEach(async () => {
      await subject?.stop()
      subject = undefined
    })

    test("open with labels: the host holds the request open, labelled, and the client reads it back", async () => {
      const s = await started()
      s.addBranch("image-updates/nginx-1.27.3")
      const opened = await ok(run(s, (f) => f.open({ ...request("image-updates/nginx-1.27.3"), labels: ["image-update", "automerge"] })))
      expect(opened).toMatchObject({ state: "open", branch: "image-updates/nginx-1.27.3", base: "main", title: "Update image-updates/nginx-1.27.3" })
      expect(opened.body).toContain(MARKER)
      expect(s.inspect(opened.number)).toMatchObject({ state: "open", labels: ["image-update", "automerge"] })
      const again = await run(s, (f) => f.open(request("image-updates/nginx-1.27.3")))
      expect(Either.isLeft(again) && again.left.reason).toBe("Refused")
    })

    test("openRequests: only open ones against the base with the marker, over more than one page", async () => {
      const s = await started()
      for (let i = 0; i < 105; i++) s.openAsPerson({ branch: `b${i}`, base: "main", title: `t${i}`, body: i % 2 === 0 ? `${MARKER} ${i}` : "a person's" })
      s.openAsPerson({ branch: "other-base", base: "release", title: "x", body: MARKER })
      const closed = s.openAsPerson({ branch: "closed", base: "main", title: "x", body: MARKER })
      s.setState(closed, "closed")
      const found = await ok(run(s, (f) => f.openRequests("main", MARKER)))
      expect(found.length).toBe(53)
      expect(new Set(found.map((r) => r.branch))).toEqual(new Set(Array.from({ length: 53 }, (_, i) => `b${i * 2}`)))
      expect(found.every((r) => r.state === "open" && r.base === "main")).toBe(true)
    })

    test("requestsFor: every request of the branch, newest first, open, closed and merged told apart", async () => {
      const s = await started()
      const first = s.openAsPerson({ branch: "image-updates/a", base: "main", title: "1", body: MARKER })
      s.setState(first, "closed")
      const second = s.openAsPerson({ branch: "image-updates/a", base: "main", title: "2", body: MARKER })
      s.setState(second, "merged")
      const third = s.openAsPerson({ branch: "image-updates/a", base: "main", title: "3", body: MARKER })
      s.openAsPerson({ branch: "image-updates/b", base: "main", title: "other", body: MARKER })
      const found = await ok(run(s, (f) => f.requestsFor("image-updates/a")))
      expect(found.map((r) => [r.number, r.state])).toEqual([[third, "open"], [second, "merged"], [first, "closed"]])
    })

    test("close leaves the comment, then closes", async () => {
      const s = await started()
      const number = s.openAsPerson({ branch: "image-updates/a", base: "main", title: "1", body: MARKER })
      await ok(run(s, (f) => f.close(number, "superseded by #13")))
      expect(s.inspect(number)).toMatchObject({ state: "closed", comments: ["superseded by #13"] })
    })

    test("autoMerge turns it on for an open request; a closed one is refused", async () => {
      const s = await started()
      s.addBranch("image-updates/a")
      const opened = await ok(run(s, (f) => f.open(request("image-updates/a"))))
      await ok(run(s, (f) => f.autoMerge(opened)))
      expect(s.inspect(opened.number).autoMerge).toBe(true)
      s.setState(opened.number, "closed")
      const refused = await run(s, (f) => f.autoMerge(opened))
      expect(Either.isLeft(refused) && refused.left.reason).toBe("Refused")
    })

    test("deleteBranch: an existing branch goes; one already gone is no failure", async () => {
      const s = await started()
      s.addBranch("image-updates/nginx-1.27.3")
      await ok(run(s, (f) => f.deleteBranch("image-updates/nginx-1.27.3")))
      expect(s.hasBranch("image-updates/nginx-1.27.3")).toBe(false)
      await ok(run(s, (f) => f.deleteBranch("image-updates/nginx-1.27.3")))
    })

    test("a refused token is an Auth error that says so, without the token", async () => {
      const s = await started()
      const wrong = "ghp_wrongTokenThatMustNotShow42"
      const failed = await run(s, (f) => f.openRequests("main", MARKER), wrong)
      if (Either.isRight(failed)) throw new Error("a wrong token was accepted")
      expect(failed.left.reason).toBe("Auth")
      expect(failed.left.message).toContain("token was refused")
      expect(failed.left.message).not.toContain(wrong)
      expect(JSON.stringify(failed.left)).not.toContain(wrong)
    })

    for (const kind of ["throttled", "429"] as const) {
      test(`rate limited (${kind}): waited for, then the request goes through`, async () => {
        const s = await started()
        s.openAsPerson({ branch: "b", base: "main", title: "t", body: MARKER })
        s.rateLimitNext(kind)
        const found = await ok(run(s, (f) => f.openRequests("main", MARKER)))
        expect(found.length).toBe(1)
      })
    }

    for (const kind of ["not-json", "huge"] as const) {
      test(`a hostile answer (${kind}) is a Protocol error`, async () => {
        const s = await started()
        s.hostileNext(kind)
        const failed = await run(s, (f) => f.requestsFor("b"))
        expect(Either.isLeft(failed) && failed.left.reason).toBe("Protocol")
      })
    }
  })
