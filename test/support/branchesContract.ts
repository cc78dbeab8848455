import { describe, expect, test } from "bun:test"
import { Effect, Option } from "effect"
import type { Checkout } from "../../src/git/GitRepo.ts"
import { AUTHOR, type ContractSubject, exec, FILES, specOf } from "./gitContract.ts"

const REQUEST = "image-updates/foo-1.1.0"

const DEPLOYMENT = "apps/foo/deployment.yaml"

const deployment = (tag: string) => FILES[DEPLOYMENT].replace("1.0.0", tag)

/** The deployment moved to `tag` on top of `parent`, as a request's commit; returns the commit. */
const bumpOnto = async (checkout: Checkout, parent: string, tag: string) => {
  const oids = await exec(checkout.branches.commitOnto(parent, [{ files: [{ path: DEPLOYMENT, content: deployment(tag) }], message: `Bump foo to ${tag}`, author: AUTHOR }]))
  expect(oids).toHaveLength(1)
  return oids[0] ?? ""
}

interface Ctx extends ContractSubject {
  readonly name: string
  /** A checkout of `main`, opened before any scenario writes. */
  readonly checkout: Checkout
  /** `main`'s tip when the repository was created: the checkout's head. */
  readonly main: string
  readonly remote: string
}

/** Moves `main` on by `n` commits as another writer, each to a file of its own; returns the new tip. */
const moveMain = async ({ name, remotes }: Ctx, n: number) => {
  let tip = ""
  for (let i = 1; i <= n; i++) tip = await remotes.commitAs(name, { [`apps/moved-${i}.yaml`]: `n: ${i}\n` }, `Main moves on, ${i}`)
  return tip
}

const scenarios: ReadonlyArray<{ readonly scenario: string; readonly run: (ctx: Ctx) => Promise<void> }> = [
  {
    scenario: "fetch of a branch the remote does not have is None; a name git refuses is a config error",
    run: async ({ checkout }) => {
      expect(await exec(checkout.branches.fetch(REQUEST))).toEqual(Option.none())
      for (const bad of ["-f", "a..b", "a b", "refs/../x", "x.lock", "a:b", ""]) {
        const error = await exec(Effect.flip(checkout.branches.fetch(bad)))
        expect([error.operation, error.kind]).toEqual(["fetch", "config"])
      }
    }
  },
  {
    scenario: "commitOnto an older base and push create the branch; main and head do not move; fetch gives its tip",
    run: async (ctx) => {
      const { checkout, main, name, onDisk, remotes } = ctx
      const moved = await moveMain(ctx, 1)
      const commit = await bumpOnto(checkout, main, "1.1.0")
      expect(await exec(checkout.head)).toBe(main)
      expect(await exec(checkout.branches.push(REQUEST, commit))).toEqual({ _tag: "Pushed" })
      expect(await remotes.tip(name, REQUEST)).toBe(commit)
      expect(await remotes.tip(name, "main")).toBe(moved)
      expect(await remotes.parents(name, commit)).toEqual([main])
      expect(await remotes.readFileAt(name, REQUEST, DEPLOYMENT)).toBe(deployment("1.1.0"))
      expect(await exec(checkout.branches.fetch(REQUEST))).toEqual(Option.some(commit))
      expect(await exec(checkout.head)).toBe(main)
      expect(await exec(checkout.branches.authorOf(commit))).toEqual(AUTHOR)
      expect(await exec(checkout.branches.authorOf(main))).toEqual(remotes.otherWriter)
      await onDisk?.fsck(name)
    }
  },
  {
    scenario: "a push of a commit that does not descend from the branch's tip is Rejected and the branch stays",
    run: async ({ checkout, main, name, remotes }) => {
      const first = await bumpOnto(checkout, main, "1.1.0")
      expect(await exec(checkout.branches.push(REQUEST, first))).toEqual({ _tag: "Pushed" })
      const sibling = await bumpOnto(checkout, main, "1.2.0")
      expect((await exec(checkout.branches.push(REQUEST, sibling)))._tag).toBe("Rejected")
      expect(await remotes.tip(name, REQUEST)).toBe(first)
      // On top of the tip it goes.
      const next = await bumpOnto(checkout, first, "1.2.0")
      expect(await exec(checkout.branches.push(REQUEST, next))).toEqual({ _tag: "Pushed" })
      expect(await remotes.tip(name, REQUEST)).toBe(next)
    }
  },
  {
    scenario: "fetch tells the truth after another writer forces the branch elsewhere or deletes it",
    run: async ({ checkout, main, name, remotes }) => {
      const commit = await bumpOnto(checkout, main, "1.1.0")
      await exec(checkout.branches.push(REQUEST, commit))
      await remotes.setBranch(name, REQUEST, main)
      expect(await exec(checkout.branches.fetch(REQUEST))).toEqual(Option.some(main))
      await remotes.setBranch(name, REQUEST, undefined)
      expect(await exec(checkout.branches.fetch(REQUEST))).toEqual(Option.none())
      expect(await remotes.tip(name, REQUEST)).toBeUndefined()
    }
  },
  {
    scenario: "merging a base the branch already holds is UpToDate",
    run: async ({ checkout, main }) => {
      const commit = await bumpOnto(checkout, main, "1.1.0")
      expect(await exec(checkout.branches.merge(commit, main, "Merge main", AUTHOR))).toEqual({ _tag: "UpToDate" })
      expect(await exec(checkout.branches.merge(commit, commit, "Merge main", AUTHOR))).toEqual({ _tag: "UpToDate" })
    }
  },
  {
    scenario: "base moved by 5 commits since the request branch was made: a new clone deepens, merges cleanly and pushes",
    run: async (ctx) => {
      const { checkout, main, name, newDir, onDisk, open, remote, remotes } = ctx
      const commit = await bumpOnto(checkout, main, "1.1.0")
      await exec(checkout.branches.push(REQUEST, commit))
      const moved = await moveMain(ctx, 5)
      // A later pass: a new shallow clone at main's new tip, the request branch fetched beside it.
      const fresh = await open(specOf(remote), newDir())
      expect(await exec(fresh.head)).toBe(moved)
      expect(await exec(fresh.branches.fetch(REQUEST))).toEqual(Option.some(commit))
      const merged = await exec(fresh.branches.merge(commit, moved, "Merge main into the request", AUTHOR))
      if (merged._tag !== "Merged") throw new Error(`expected a merge, got ${JSON.stringify(merged)}`)
      expect(await exec(fresh.head)).toBe(moved)
      expect(await exec(fresh.branches.push(REQUEST, merged.oid))).toEqual({ _tag: "Pushed" })
      expect(await remotes.tip(name, REQUEST)).toBe(merged.oid)
      expect(await remotes.tip(name, "main")).toBe(moved)
      expect(await remotes.parents(name, merged.oid)).toEqual([commit, moved])
      expect(await remotes.readFileAt(name, REQUEST, DEPLOYMENT)).toBe(deployment("1.1.0"))
      expect(await remotes.readFileAt(name, REQUEST, "apps/moved-5.yaml")).toBe("n: 5\n")
      expect(await exec(fresh.branches.authorOf(merged.oid))).toEqual(AUTHOR)
      // Merged again, nothing is left to do.
      expect(await exec(fresh.branches.merge(merged.oid, moved, "Merge main into the request", AUTHOR))).toEqual({ _tag: "UpToDate" })
      await onDisk?.fsck(name)
    }
  },
  {
    scenario: "the same line changed on both sides is a Conflict naming the file; nothing is written",
    run: async ({ checkout, main, name, newDir, open, remote, remotes }) => {
      const commit = await bumpOnto(checkout, main, "1.1.0")
      await exec(checkout.branches.push(REQUEST, commit))
      const moved = await remotes.commitAs(name, { [DEPLOYMENT]: deployment("2.0.0"), "README.md": "# config, moved on\n" }, "Main moves foo on")
      const fresh = await open(specOf(remote), newDir())
      await exec(fresh.branches.fetch(REQUEST))
      expect(await exec(fresh.branches.merge(commit, moved, "Merge main", AUTHOR))).toEqual({ _tag: "Conflict", paths: [DEPLOYMENT] })
      expect(await exec(fresh.head)).toBe(moved)
      expect(await remotes.tip(name, REQUEST)).toBe(commit)
    }
  }
]

let counter = 0

/**
 * The other-branches part of the Checkout contract (`Checkout.branches`): a request's branch made
 * from an older tip of `main`, pushed plainly, fetched back, and kept current by merging `main`
 * into it. Each scenario on a new repository holding FILES.
 */
export const branchesContract = (name: string, subject: ContractSubject): void => {
  describe(`${name}, other branches`, () => {
    test.each(scenarios.map((s) => [s.scenario, s] as const))("%s", async (_, { run }) => {
      const repo = `branches/repo-${++counter}`
      const remote = await subject.remotes.create(repo, FILES)
      const checkout = await subject.open(specOf(remote), subject.newDir())
      const main = await exec(checkout.head)
      await run({ ...subject, name: repo, checkout, main, remote })
    }, 60_000)
  })
}
