/** The GitHub client against the loopback fake of GitHub, through the Forge contract. */
import { Redacted } from "effect"
import { githubForge } from "../../src/forge/github.ts"
import { startFakeGithub } from "../support/fakeGithub.ts"
import { forgeContract, type ForgeSubject } from "../support/forgeContract.ts"

const githubSubject = async (): Promise<ForgeSubject> => {
  const fake = await startFakeGithub()
  return {
    forge: (token) => githubForge({ apiURL: fake.url, repository: fake.repository, token: Redacted.make(token ?? fake.token) }),
    token: fake.token,
    addBranch: (branch) => {
      fake.addBranch(branch)
    },
    hasBranch: fake.hasBranch,
    openAsPerson: fake.openAsPerson,
    setState: fake.setState,
    inspect: (number) => {
      const pull = fake.pulls.find((p) => p.number === number)
      if (pull === undefined) throw new Error(`no pull #${number}`)
      return { state: pull.merged_at === null ? pull.state : "merged", labels: pull.labels, comments: pull.comments, autoMerge: pull.autoMerge }
    },
    rateLimitNext: (kind) => fake.failNext(kind === "429" ? "429" : "secondary-403"),
    hostileNext: (kind) => fake.failNext(kind),
    stop: fake.stop,
  }
}

forgeContract("github", githubSubject)
