import { describe, expect, test } from "bun:test"
import { Option } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { Checkout, RepoSpec } from "../../src/git/GitRepo.ts"
import { AUTHOR, commitOne, type ContractRemotes, type ContractSubject, exec, FILES, readAtHead, specOf } from "./gitContract.ts"

const PUSH_BRANCH = "image-updates"

const DEPLOYMENT = "apps/foo/deployment.yaml"

const deployment = (tag: string) => FILES[DEPLOYMENT].replace("1.0.0", tag)

/** One commit on head moving the deployment to `tag`, as a pass would write it. */
const bump = (checkout: Checkout, tag: string) =>
  exec(commitOne(checkout, { files: [{ path: DEPLOYMENT, content: deployment(tag) }], message: `Bump foo to ${tag}`, author: AUTHOR }))

interface Ctx extends ContractSubject {
  readonly name: string
  readonly dir: string
  /** The repository's spec, pushing to PUSH_BRANCH. */
  readonly spec: RepoSpec
  /** `main`'s tip when the repository was created. */
  readonly main: string
  /** Pushes head and checks that it landed on the push branch, and that `main` is still `main`. */
  readonly pushed: (checkout: Checkout, main: string) => Promise<string>
}

/** Each tip the push branch had, in order, is an ancestor of the next: it only ever moved forward. */
const expectForwardOnly = async (remotes: ContractRemotes, name: string, tips: ReadonlyArray<string>) => {
  for (const [i, tip] of tips.entries()) {
    const previous = tips[i - 1]
    if (previous !== undefined) expect(await remotes.isAncestor(name, previous, tip)).toBe(true)
  }
}

const scenarios: ReadonlyArray<{ readonly scenario: string; readonly run: (ctx: Ctx) => Promise<void> }> = [
  {
    scenario: "created from the branch's tip, then it accumulates on its own tip while the branch moves on",
    run: async ({ dir, main, name, newDir, onDisk, open, pushed, remotes, spec }) => {
      const checkout = await open(spec, dir)
      expect(await exec(checkout.head)).toBe(main)
      expect(await remotes.tip(name, PUSH_BRANCH)).toBeUndefined()
      const first = await bump(checkout, "1.1.0")
      expect(await pushed(checkout, main)).toBe(first)
      expect(await remotes.parents(name, first)).toEqual([main])

      const theirs = await remotes.commitAs(name, { "README.md": "# config, moved on\n" }, "Main moves on")
      expect(await exec(checkout.sync)).toBe(first)
      expect(await exec(readAtHead(checkout, DEPLOYMENT))).toEqual(Option.some(deployment("1.1.0")))
      expect(await exec(readAtHead(checkout, "README.md"))).toEqual(Option.some(FILES["README.md"]))
      const second = await bump(checkout, "1.2.0")
      expect(await pushed(checkout, theirs)).toBe(second)
      expect(await remotes.parents(name, second)).toEqual([first])
      await expectForwardOnly(remotes, name, [first, second])

      // A new clone (first fetch shallow) tells the push branch is not merged, and works on its tip.
      const fresh = await open(spec, newDir())
      expect(await exec(fresh.head)).toBe(second)
      await onDisk?.fsck(name)
    }
  },
  {
    scenario: "after the push branch is merged with a merge commit, the next sync starts again from the branch's tip",
    run: async ({ dir, main, name, onDisk, open, pushed, remotes, spec }) => {
      const checkout = await open(spec, dir)
      const first = await bump(checkout, "1.1.0")
      await pushed(checkout, main)
      const merged = await remotes.merge(name, PUSH_BRANCH, "main", "merge commit")
      expect(await remotes.parents(name, merged)).toEqual([main, first])

      expect(await exec(checkout.sync)).toBe(merged)
      expect(await exec(checkout.head)).toBe(merged)
      const second = await bump(checkout, "1.2.0")
      expect(await pushed(checkout, merged)).toBe(second)
      expect(await remotes.parents(name, second)).toEqual([merged])
      await expectForwardOnly(remotes, name, [first, second])
      await onDisk?.fsck(name)
    }
  },
  {
    scenario: "after a fast-forward merge of the push branch, the next sync starts from the branch's tip",
    run: async ({ dir, main, name, open, pushed, remotes, spec }) => {
      const checkout = await open(spec, dir)
      const first = await bump(checkout, "1.1.0")
      await pushed(checkout, main)
      expect(await remotes.merge(name, PUSH_BRANCH, "main", "fast-forward")).toBe(first)
      const theirs = await remotes.commitAs(name, { "README.md": "# config, after the merge\n" }, "After the merge")

      expect(await exec(checkout.sync)).toBe(theirs)
      const second = await bump(checkout, "1.2.0")
      expect(await pushed(checkout, theirs)).toBe(second)
      expect(await remotes.parents(name, second)).toEqual([theirs])
      await expectForwardOnly(remotes, name, [first, second])
    }
  },
  {
    scenario: "a push rejected because the push branch moved is Rejected; after sync the new commit sits on the moved tip",
    run: async ({ dir, main, name, open, pushed, remotes, spec }) => {
      const checkout = await open(spec, dir)
      const first = await bump(checkout, "1.1.0")
      await pushed(checkout, main)
      await bump(checkout, "1.2.0")
      const moved = await remotes.commitAs(name, { "apps/other.yaml": "x: 1\n" }, "Theirs, on the push branch", PUSH_BRANCH)
      expect((await exec(checkout.push))._tag).toBe("Rejected")
      expect(await remotes.tip(name, PUSH_BRANCH)).toBe(moved)

      expect(await exec(checkout.sync)).toBe(moved)
      expect(await exec(readAtHead(checkout, "apps/other.yaml"))).toEqual(Option.some("x: 1\n"))
      const again = await bump(checkout, "1.2.0")
      expect(await pushed(checkout, main)).toBe(again)
      expect(await remotes.parents(name, again)).toEqual([moved])
      await expectForwardOnly(remotes, name, [first, moved, again])
    }
  },
  {
    scenario: "a new clone deepens its shallow history to find a merge five commits below the branch's tip",
    run: async ({ dir, main, name, newDir, onDisk, open, pushed, remotes, spec }) => {
      const checkout = await open(spec, dir)
      const first = await bump(checkout, "1.1.0")
      await pushed(checkout, main)
      await remotes.merge(name, PUSH_BRANCH, "main", "merge commit")
      let tip = ""
      for (const n of [1, 2, 3, 4, 5]) tip = await remotes.commitAs(name, { [`apps/n${n}.yaml`]: `n: ${n}\n` }, `Main, ${n} after the merge`)

      const freshDir = newDir()
      const fresh = await open(spec, freshDir)
      expect(await exec(fresh.head)).toBe(tip)
      expect(await exec(readAtHead(fresh, "apps/n5.yaml"))).toEqual(Option.some("n: 5\n"))
      const second = await bump(fresh, "1.2.0")
      expect(await pushed(fresh, tip)).toBe(second)
      expect(await remotes.parents(name, second)).toEqual([tip])
      await expectForwardOnly(remotes, name, [first, second])
      await onDisk?.fsck(name)

      // Deepened down to the root, the clone holds the whole history; a later sync keeps it whole.
      expect(await exec(fresh.sync)).toBe(second)
      if (onDisk !== undefined) expect(existsSync(join(freshDir, "shallow"))).toBe(false)
    }
  }
]

let counter = 0

/**
 * The push-branch part of the Checkout contract: `RepoSpec.pushBranch` through its life (created,
 * accumulating, merged, started again), the branch itself never written, every push a
 * fast-forward. Each scenario on a new repository holding FILES.
 */
export const pushBranchContract = (name: string, subject: ContractSubject): void => {
  describe(`${name}, pushing to a push branch`, () => {
    test.each(scenarios.map((s) => [s.scenario, s] as const))("%s", async (_, { run }) => {
      const repo = `push-branch/repo-${++counter}`
      const remote = await subject.remotes.create(repo, FILES)
      const main = (await subject.remotes.tip(repo, "main")) ?? "no main"
      const pushed = async (checkout: Checkout, mainNow: string) => {
        expect(await exec(checkout.push)).toEqual({ _tag: "Pushed" })
        const head = await exec(checkout.head)
        expect(await subject.remotes.tip(repo, PUSH_BRANCH)).toBe(head)
        expect(await subject.remotes.tip(repo, "main")).toBe(mainNow)
        return head
      }
      const spec = specOf(remote, { pushBranch: PUSH_BRANCH })
      await run({ ...subject, name: repo, dir: subject.newDir(), spec, main, pushed })
    }, 60_000)
  })
}
