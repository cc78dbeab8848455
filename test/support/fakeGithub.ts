/**
 * GitHub's REST pulls, labels, comments, refs and the GraphQL auto-merge mutation, over an
 * in-memory repository on loopback. Answers start from GitHub's own examples in its OpenAPI
 * description, with the fields the fake simulates written over them; fakeGithub.test.ts checks
 * every exchange against that description.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { BranchStore } from "./fakeBranches.ts"
import { gzipBomb } from "./gzipBomb.ts"
import { githubDescription } from "./openapiCheck.ts"
import { listenOnLoopback } from "./listen.ts"

export interface FakePull {
  readonly number: number
  readonly node_id: string
  state: "open" | "closed"
  merged_at: string | null
  title: string
  body: string | null
  readonly head: string
  readonly base: string
  readonly sha: string
  readonly labels: Array<string>
  readonly comments: Array<string>
  autoMerge: boolean
  /** Where its head branch lives: this repository, a fork of it, or a fork since deleted (`head.repo: null`). */
  readonly from: PullSource
}

export type PullSource = "repository" | "fork" | "deleted fork"

export interface Exchange {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly authorization: string | undefined
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: unknown
  readonly status: number
  readonly answer: unknown
  /** Answered by a forced failure or a refused token, not by the API's own logic. */
  readonly injected: boolean
  /** When it was answered, in epoch milliseconds. */
  readonly at: number
}

export type Trouble = "secondary-403" | "quota-403" | "429" | "forbidden-403" | "not-json" | "wrong-shape" | "huge" | "gzip-bomb"

const DOCS = "https://docs.github.com/rest"
const REPO_ID = 1296269
const FORK_ID = 1296270
const example = (name: string): unknown => {
  const found = githubDescription().components["examples"]?.[name] as { value?: unknown } | undefined
  return structuredClone(found?.value)
}
const record = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {})

/** `branches`: the repository's branches live there (a real repository) instead of in the fake's own map. */
export const startFakeGithub = async (options: { owner?: string; repo?: string; token?: string; branches?: BranchStore } = {}) => {
  const owner = options.owner ?? "org"
  const repo = options.repo ?? "config"
  let token = options.token ?? "ghp_fakeTokenFor0Tests1234"
  const pulls: Array<FakePull> = []
  const branches = new Map<string, string>()
  const exchanges: Array<Exchange> = []
  const troubles: Array<Trouble> = []
  let serial = 0
  let refuseAutoMerge = false
  const sha = () => (++serial).toString(16).padStart(40, "a")

  const labelObject = (name: string, i: number) => ({ ...record((example("label-items") as Array<unknown>)[0]), id: 1000 + i, name, node_id: `LA_${i}` })

  /** A pull in the shape of `pull-request` (full) or `pull-request-simple` (listings). */
  const shape = (pull: FakePull, full: boolean): Record<string, unknown> => {
    const template = full ? record(example("pull-request")) : record((example("pull-request-simple-items") as Array<unknown>)[0])
    const url = `https://api.github.com/repos/${owner}/${repo}/pulls/${pull.number}`
    const side = (ref: string, at: string) => ({ ...record(template["head"]), label: `${owner}:${ref}`, ref, sha: at })
    // A fork in the same organisation (GitHub allows one): its label is `owner:branch` like the repository's own.
    const repository = (id: number, name: string) => ({ ...record(record(template["base"])["repo"]), id, node_id: `R_${id}`, name, full_name: `${owner}/${name}` })
    const headRepo = pull.from === "repository" ? repository(REPO_ID, repo) : pull.from === "fork" ? repository(FORK_ID, `${repo}-fork`) : null
    const fields: Record<string, unknown> = {
      ...template,
      id: pull.number,
      node_id: pull.node_id,
      number: pull.number,
      url,
      html_url: `https://github.com/${owner}/${repo}/pull/${pull.number}`,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      merged_at: pull.merged_at,
      closed_at: pull.state === "closed" ? (pull.merged_at ?? "2026-12-01T00:00:00Z") : null,
      head: { ...side(pull.head, pull.sha), repo: headRepo },
      base: { ...record(template["base"]), label: `${owner}:${pull.base}`, ref: pull.base, repo: repository(REPO_ID, repo) },
      labels: pull.labels.map(labelObject),
      auto_merge: null,
      // Nobody is asked to review here (GitHub's own example lists a team without its required `type`).
      requested_reviewers: [],
      requested_teams: [],
    }
    return full ? { ...fields, merged: pull.merged_at !== null, mergeable: true, mergeable_state: "clean" } : fields
  }

  const find = (n: string | undefined) => pulls.find((p) => String(p.number) === n)
  const notFound = [404, { message: "Not Found", documentation_url: DOCS, status: "404" }] as const
  const invalid = (message: string, status = 422): [number, unknown] => [status, { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", message }], documentation_url: DOCS, status: String(status) }]

  /** Opens a pull of `input.branch`, whose tip is `tip` (undefined: no such branch). */
  const openPull = (input: { branch: string; base: string; title: string; body: string | null; from?: PullSource }, tip: string | undefined): [number, unknown] => {
    const from = input.from ?? "repository"
    if (from === "repository" && tip === undefined) return invalid(`No commits between ${input.base} and ${input.branch}`)
    if (pulls.some((p) => p.state === "open" && p.head === input.branch && p.base === input.base && p.from === from)) return invalid(`A pull request already exists for ${owner}:${input.branch}.`)
    const number = pulls.length + 1
    const at = from === "repository" ? (tip ?? sha()) : "f".repeat(40)
    const pull: FakePull = { number, node_id: `PR_kwDO${number}`, state: "open", merged_at: null, title: input.title, body: input.body, head: input.branch, base: input.base, sha: at, labels: [], comments: [], autoMerge: false, from }
    pulls.push(pull)
    return [201, shape(pull, true)]
  }

  const listPulls = (query: URLSearchParams, path: string, res: ServerResponse): [number, unknown] => {
    const state = query.get("state") ?? "open"
    const base = query.get("base")
    const head = query.get("head")
    const perPage = Math.min(100, Number(query.get("per_page") ?? "30"))
    const page = Number(query.get("page") ?? "1")
    const matching = [...pulls]
      .reverse()
      .filter((p) => (state === "all" || p.state === state) && (base === null || p.base === base) && (head === null || `${owner}:${p.head}` === head))
    if (page * perPage < matching.length) {
      const next = new URLSearchParams(query)
      next.set("page", String(page + 1))
      res.setHeader("link", `<http://${res.req.headers.host}${path}?${next}>; rel="next"`)
    }
    return [200, matching.slice((page - 1) * perPage, page * perPage).map((p) => shape(p, false))]
  }

  const graphql = (body: Record<string, unknown>): [number, unknown] => {
    const id = record(body["variables"])["pullRequestId"]
    const pull = pulls.find((p) => p.node_id === id)
    if (typeof body["query"] !== "string" || !body["query"].includes("enablePullRequestAutoMerge")) return [200, { errors: [{ message: "unsupported query" }] }]
    if (pull === undefined) return [200, { data: { enablePullRequestAutoMerge: null }, errors: [{ type: "NOT_FOUND", message: `Could not resolve to a node with the global id of '${String(id)}'` }] }]
    if (pull.state !== "open") return [200, { data: { enablePullRequestAutoMerge: null }, errors: [{ type: "UNPROCESSABLE", message: "Pull request is not in the correct state to enable auto-merge" }] }]
    const expected = record(body["variables"])["expectedHeadOid"]
    if (expected !== undefined && expected !== pull.sha) {
      return [200, { data: { enablePullRequestAutoMerge: null }, errors: [{ type: "UNPROCESSABLE", message: "Head sha didn't match expected head sha" }] }]
    }
    if (refuseAutoMerge) return [200, { data: { enablePullRequestAutoMerge: null }, errors: [{ type: "UNPROCESSABLE", message: "Pull request Protected branch rules not configured for this branch" }] }]
    pull.autoMerge = true
    return [200, { data: { enablePullRequestAutoMerge: { pullRequest: { number: pull.number } } } }]
  }

  /** The API itself: [status, JSON answer or undefined for none]. */
  const route = (method: string, path: string, query: URLSearchParams, body: Record<string, unknown>, res: ServerResponse): [number, unknown] | Promise<[number, unknown]> => {
    if (method === "POST" && path === "/graphql") return graphql(body)
    const prefix = `/repos/${owner}/${repo}`
    if (!path.startsWith(`${prefix}/`)) return [...notFound]
    const rest = path.slice(prefix.length)
    let m: RegExpExecArray | null
    if (rest === "/pulls" && method === "POST") {
      const input = { branch: String(body["head"]), base: String(body["base"]), title: String(body["title"]), body: String(body["body"] ?? "") }
      return options.branches === undefined ? openPull(input, branches.get(input.branch)) : options.branches.tip(input.branch).then((tip) => openPull(input, tip))
    }
    if (rest === "/pulls" && method === "GET") return listPulls(query, path, res)
    if ((m = /^\/pulls\/(\d+)$/.exec(rest)) !== null) {
      const pull = find(m[1])
      if (pull === undefined) return [...notFound]
      if (method === "PATCH" && (body["state"] === "closed" || body["state"] === "open")) pull.state = body["state"]
      return [200, shape(pull, true)]
    }
    if ((m = /^\/issues\/(\d+)\/(labels|comments)$/.exec(rest)) !== null && method === "POST") {
      const pull = find(m[1])
      if (pull === undefined) return [...notFound]
      if (m[2] === "comments") {
        pull.comments.push(String(body["body"]))
        return [201, { ...record(example("issue-comment")), body: String(body["body"]) }]
      }
      const labels = Array.isArray(body["labels"]) ? body["labels"].map(String) : []
      pull.labels.push(...labels.filter((l) => !pull.labels.includes(l)))
      return [200, pull.labels.map(labelObject)]
    }
    if ((m = /^\/git\/refs\/heads\/(.+)$/.exec(rest)) !== null && method === "DELETE") {
      const branch = m[1]?.split("/").map(decodeURIComponent).join("/") ?? ""
      const answer = (deleted: boolean): [number, unknown] => (deleted ? [204, undefined] : [422, { message: "Reference does not exist", documentation_url: DOCS, status: "422" }])
      return options.branches === undefined ? answer(branches.delete(branch)) : options.branches.delete(branch).then(answer)
    }
    return [...notFound]
  }

  /** A forced failure, or a refused token: [status, headers, raw body]. */
  const injected = (req: IncomingMessage): [number, Record<string, string>, string | Uint8Array] | undefined => {
    if (req.headers.authorization !== `Bearer ${token}`) return [401, {}, JSON.stringify({ message: "Bad credentials", documentation_url: DOCS, status: "401" })]
    const trouble = troubles.shift()
    const limited = JSON.stringify({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: DOCS })
    switch (trouble) {
      case undefined:
        return undefined
      case "secondary-403":
        return [403, { "retry-after": "1" }, limited]
      case "quota-403":
        return [403, { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3) }, limited]
      case "forbidden-403":
        return [403, {}, JSON.stringify({ message: "Resource not accessible by personal access token", documentation_url: DOCS, status: "403" })]
      case "429":
        return [429, { "retry-after": "1" }, limited]
      case "not-json":
        return [200, {}, "<html>Unicorn! This page is taking too long to load.</html>"]
      case "wrong-shape":
        return [200, {}, JSON.stringify([{ number: "one", head: "main" }])]
      case "huge":
        // Valid JSON (an empty list), only too big: past the client's cap, not merely unparsable.
        return [200, {}, `[${" ".repeat(17 * 1024 * 1024)}]`]
      case "gzip-bomb":
        return [200, { "content-encoding": "gzip" }, gzipBomb(80)]
    }
  }

  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake")
      const method = req.method ?? "GET"
      const text = Buffer.concat(chunks).toString("utf8")
      const body: unknown = text === "" ? undefined : JSON.parse(text)
      const base = { method, path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, headers: req.headers, body, at: Date.now() }
      const forced = injected(req)
      if (forced !== undefined) {
        const [status, headers, raw] = forced
        exchanges.push({ ...base, status, answer: raw, injected: true })
        res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
        res.end(raw)
        return
      }
      void Promise.resolve(route(method, url.pathname, url.searchParams, record(body), res)).then(([status, answer]) => {
        exchanges.push({ ...base, status, answer, injected: false })
        res.writeHead(status, answer === undefined ? {} : { "content-type": "application/json; charset=utf-8" })
        res.end(answer === undefined ? undefined : JSON.stringify(answer))
      })
    })
  })
  const listening = await listenOnLoopback(server)
  return {
    ...listening,
    owner,
    repo,
    repository: `${owner}/${repo}`,
    get token() {
      return token
    },
    /** From now on only `value` is accepted (401 otherwise). */
    requireToken: (value: string) => {
      token = value
    },
    exchanges,
    pulls,
    addBranch: (branch: string) => branches.set(branch, sha()),
    hasBranch: (branch: string) => branches.has(branch),
    /** A pull opened on the site by a person (GitHub keeps an empty body as null), from this repository unless `from` says a fork. */
    openAsPerson: (input: { branch: string; base: string; title: string; body: string | null; from?: PullSource }): number => {
      if ((input.from ?? "repository") === "repository" && !branches.has(input.branch)) branches.set(input.branch, sha())
      const [status, answer] = openPull(input, branches.get(input.branch))
      if (status !== 201) throw new Error(`cannot open: ${JSON.stringify(answer)}`)
      return Number(record(answer)["number"])
    },
    /** Merged or closed on the site, as a person would. */
    setState: (number: number, state: "merged" | "closed") => {
      const pull = find(String(number))
      if (pull === undefined) throw new Error(`no pull #${number}`)
      pull.state = "closed"
      pull.merged_at = state === "merged" ? "2026-12-02T10:00:00Z" : null
    },
    /** While true, auto-merge is refused as GitHub refuses it where it cannot merge (no protected branch rules). */
    refuseAutoMerge: (refuse: boolean) => {
      refuseAutoMerge = refuse
    },
    /** The next answers, one each, are these troubles. */
    failNext: (...next: ReadonlyArray<Trouble>) => troubles.push(...next),
  }
}

export type FakeGithub = Awaited<ReturnType<typeof startFakeGithub>>
