/**
 * A GitLab on loopback: the merge request endpoints of REST v4 over in-memory state, in GitLab's
 * documented shapes, with controls a test uses to play the people on the other side (open a
 * request, merge or close it), to make GitLab refuse (429, a merge it cannot do), or to make it
 * answer what no GitLab would.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { BranchStore } from "./fakeBranches.ts"
import { listenOnLoopback } from "./listen.ts"

export interface FakeMergeRequest {
  id: number
  iid: number
  project_id: number
  source_project_id: number | null
  state: "opened" | "closed" | "merged" | "locked"
  source_branch: string
  target_branch: string
  sha: string
  title: string
  description: string
  labels: Array<string>
  web_url: string
  merge_when_pipeline_succeeds: boolean
  created_at: string
  /** Not GitLab's field: the notes left on it, in order. */
  notes: Array<string>
}

export interface RecordedRequest {
  readonly method: string
  /** Path and query as sent. */
  readonly url: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: string
}

/** An answer the fake gives once, whatever was asked: a hostile or broken GitLab. */
export interface CannedAnswer {
  readonly status: number
  readonly body: string | Uint8Array
  readonly headers?: Readonly<Record<string, string>>
}

export interface PersonRequest {
  readonly branch: string
  readonly base: string
  readonly title?: string
  readonly description?: string
  /** Opened from a fork of the project (as anyone may on a public one), or from one since deleted (no source project). */
  readonly from?: "fork" | "deleted fork"
}

const PROJECT_ID = 7
const FORK_ID = 99

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(value))
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const parsed = (body: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

const text = (value: unknown): string => (typeof value === "string" ? value : "")

/**
 * Starts a fake GitLab holding the project `path`, which only `token` may use. With `branches`, the
 * project's branches live there (a real repository) instead of in the fake's own map.
 */
export const startFakeGitlab = async (options: { readonly path?: string; readonly token: string; readonly branches?: BranchStore }) => {
  const path = options.path ?? "group/sub/project"
  const mrs: Array<FakeMergeRequest> = []
  const branches = new Map<string, string>()
  const requests: Array<RecordedRequest> = []
  const canned: Array<CannedAnswer> = []
  let tooMany = 0
  let mergeRefusal: number | undefined
  let nextId = 1000
  let shas = 0
  let base = ""
  const webBase = () => `${base}/${path}/-/merge_requests`
  const shaOf = (branch: string) => {
    const known = branches.get(branch)
    if (known !== undefined) return known
    shas += 1
    const sha = shas.toString(16).padStart(40, "c")
    branches.set(branch, sha)
    return sha
  }

  const create = (fields: { branch: string; base: string; title: string; description: string; labels: Array<string>; from: "project" | "fork" | "deleted fork"; sha?: string }) => {
    const iid = mrs.reduce((max, mr) => Math.max(max, mr.iid), 0) + 1
    const mr: FakeMergeRequest = {
      id: nextId++,
      iid,
      project_id: PROJECT_ID,
      source_project_id: fields.from === "project" ? PROJECT_ID : fields.from === "fork" ? FORK_ID : null,
      state: "opened",
      source_branch: fields.branch,
      target_branch: fields.base,
      sha: fields.from === "project" ? (fields.sha ?? shaOf(fields.branch)) : "f".repeat(40),
      title: fields.title,
      description: fields.description,
      labels: fields.labels,
      web_url: `${webBase()}/${iid}`,
      merge_when_pipeline_succeeds: false,
      created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, iid)).toISOString(),
      notes: [],
    }
    mrs.push(mr)
    return mr
  }

  /** GitLab's answer shape: the fields it documents, without the fake's own. */
  const shown = ({ notes: _notes, ...mr }: FakeMergeRequest) => ({ ...mr, description: mr.description === "" ? null : mr.description })

  const list = (res: ServerResponse, query: URLSearchParams) => {
    const state = query.get("state") ?? "all"
    const matching = mrs
      .filter((mr) => state === "all" || mr.state === state)
      .filter((mr) => query.get("target_branch") === null || mr.target_branch === query.get("target_branch"))
      .filter((mr) => query.get("source_branch") === null || mr.source_branch === query.get("source_branch"))
      .toSorted((a, b) => (query.get("sort") === "asc" ? a.iid - b.iid : b.iid - a.iid))
    const perPage = Math.min(100, Number(query.get("per_page") ?? "20") || 20)
    const page = Math.max(1, Number(query.get("page") ?? "1") || 1)
    const pages = Math.max(1, Math.ceil(matching.length / perPage))
    const next = page < pages ? String(page + 1) : ""
    json(res, 200, matching.slice((page - 1) * perPage, page * perPage).map(shown), {
      "x-page": String(page),
      "x-per-page": String(perPage),
      "x-total": String(matching.length),
      "x-total-pages": String(pages),
      "x-next-page": next,
    })
  }

  const merge = (res: ServerResponse, mr: FakeMergeRequest, body: Record<string, unknown>) => {
    if (mergeRefusal !== undefined) return json(res, mergeRefusal, { message: `${mergeRefusal} Method Not Allowed` })
    if (mr.state !== "opened") return json(res, 422, { message: "Merge request is not open" })
    if (body["sha"] !== undefined && body["sha"] !== mr.sha) return json(res, 409, { message: "SHA does not match HEAD of source branch" })
    if (body["merge_when_pipeline_succeeds"] !== true && body["auto_merge"] !== true) {
      mr.state = "merged"
      return json(res, 200, shown(mr))
    }
    mr.merge_when_pipeline_succeeds = true
    json(res, 200, shown(mr))
  }

  const onMergeRequest = (req: IncomingMessage, res: ServerResponse, rest: string, body: Record<string, unknown>) => {
    const [iidText = "", action] = rest.split("/")
    const mr = mrs.find((m) => m.iid === Number(iidText))
    if (mr === undefined) return json(res, 404, { message: "404 Not found" })
    if (action === "notes" && req.method === "POST") {
      mr.notes.push(text(body["body"]))
      return json(res, 201, { id: nextId++, body: text(body["body"]), noteable_iid: mr.iid })
    }
    if (action === "merge" && req.method === "PUT") return merge(res, mr, body)
    if (action === undefined && req.method === "PUT") {
      if (body["state_event"] === "close" && mr.state === "opened") mr.state = "closed"
      if (body["state_event"] === "reopen" && mr.state === "closed") mr.state = "opened"
      return json(res, 200, shown(mr))
    }
    json(res, 405, { message: "405 Method Not Allowed" })
  }

  const onProject = (req: IncomingMessage, res: ServerResponse, rest: string, url: URL, body: Record<string, unknown>) => {
    if (rest === "/merge_requests" && req.method === "GET") return list(res, url.searchParams)
    if (rest === "/merge_requests" && req.method === "POST") {
      const branch = text(body["source_branch"])
      const open = mrs.find((mr) => mr.state === "opened" && mr.source_branch === branch && mr.source_project_id === PROJECT_ID)
      if (open !== undefined) return json(res, 409, { message: [`Another open merge request already exists for this source branch: !${open.iid}`] })
      const labels = text(body["labels"]).split(",").filter((label) => label !== "")
      const fields = { branch, base: text(body["target_branch"]), title: text(body["title"]), description: text(body["description"]), labels, from: "project" } as const
      if (options.branches === undefined) return json(res, 201, shown(create(fields)))
      return void options.branches.tip(branch).then((sha) =>
        sha === undefined ? json(res, 422, { message: ["Source branch does not exist"] }) : json(res, 201, shown(create({ ...fields, sha })))
      )
    }
    if (rest.startsWith("/merge_requests/")) return onMergeRequest(req, res, rest.slice("/merge_requests/".length), body)
    if (rest.startsWith("/repository/branches/") && req.method === "DELETE") {
      const branch = decodeURIComponent(rest.slice("/repository/branches/".length))
      const answer = (deleted: boolean) => {
        if (!deleted) return json(res, 404, { message: "404 Branch Not Found" })
        res.writeHead(204)
        res.end()
      }
      return options.branches === undefined ? answer(branches.delete(branch)) : void options.branches.delete(branch).then(answer)
    }
    json(res, 404, { error: "404 Not Found" })
  }

  const answer = (req: IncomingMessage, res: ServerResponse, bodyText: string) => {
    const cannedAnswer = canned.shift()
    if (cannedAnswer !== undefined) {
      res.writeHead(cannedAnswer.status, { "content-type": "application/json", ...cannedAnswer.headers })
      return res.end(cannedAnswer.body)
    }
    if (tooMany > 0) {
      tooMany -= 1
      const reset = String(Math.ceil(Date.now() / 1000) + 1)
      return json(res, 429, { message: "Retry later" }, { "retry-after": "1", "ratelimit-reset": reset, "ratelimit-remaining": "0", "ratelimit-limit": "600" })
    }
    const bearer = /^Bearer (.*)$/.exec(req.headers.authorization ?? "")?.[1]
    const sent = bearer ?? req.headers["private-token"]
    if (sent !== options.token) return json(res, 401, { message: `401 Unauthorized: token ${String(sent)} is not valid` })
    const url = new URL(req.url ?? "/", "http://x")
    // GitLab takes the project's URL-encoded path, or its numeric id, as `:id`.
    const match = /^\/api\/v4\/projects\/([^/]+)(\/.*)$/.exec(url.pathname)
    const id = match?.[1] === undefined ? "" : decodeURIComponent(match[1])
    if (match === null || (id !== path && id !== String(PROJECT_ID))) return json(res, 404, { message: "404 Project Not Found" })
    onProject(req, res, match[2] ?? "", url, parsed(bodyText))
  }

  const server = createServer((req, res) => {
    void readBody(req).then((bodyText) => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: { ...req.headers }, body: bodyText })
      answer(req, res, bodyText)
    })
  })
  const listening = await listenOnLoopback(server)
  base = listening.url

  return {
    /** The API address to configure: `http://127.0.0.1:PORT/api/v4`. */
    apiURL: `${listening.url}/api/v4`,
    path,
    requests,
    mergeRequests: mrs,
    stop: listening.stop,
    /** A request opened by a person, not the runner. */
    openAsPerson: (request: PersonRequest): FakeMergeRequest =>
      create({
        branch: request.branch,
        base: request.base,
        title: request.title ?? `Change ${request.branch}`,
        description: request.description ?? "",
        labels: [],
        from: request.from ?? "project",
      }),
    setState: (iid: number, state: "merged" | "closed" | "opened") => {
      const mr = mrs.find((m) => m.iid === iid)
      if (mr !== undefined) mr.state = state
    },
    addBranch: (branch: string, sha?: string) => void branches.set(branch, sha ?? shaOf(branch)),
    hasBranch: (branch: string) => branches.has(branch),
    /** The next `n` requests are answered 429 with `Retry-After: 1` (and GitLab's RateLimit-* headers). */
    refuseNext: (n: number) => void (tooMany = n),
    /** The next request is answered with this, whatever it asked. */
    answerNext: (answer: CannedAnswer) => void canned.push(answer),
    /** Every merge asked for is refused with `status` (GitLab's 405: no pipeline yet), until set back to undefined. */
    refuseMerges: (status: number | undefined) => void (mergeRefusal = status),
    reset: () => {
      mrs.length = 0
      branches.clear()
      requests.length = 0
      canned.length = 0
      tooMany = 0
      mergeRefusal = undefined
    },
  }
}

export type FakeGitlab = Awaited<ReturnType<typeof startFakeGitlab>>
