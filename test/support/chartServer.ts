/** A chart repository as static files on loopback: index.yaml (with an ETag), archives, optionally behind basic auth. */
import { createHash } from "node:crypto"
import { createServer, type IncomingHttpHeaders } from "node:http"
import { Duration } from "effect"
import type { HttpChartRepository } from "../../src/domain/ChartSource.ts"
import { type Listening, listenOnLoopback } from "./listen.ts"

export interface ChartServer extends Listening {
  /** Replaces the files served under `prefix` (`/public`, `/private`); index.yaml's ETag follows its content. */
  readonly serve: (prefix: string, files: Readonly<Record<string, string | Buffer>>) => void
  /** Requests to index.yaml under `prefix`, with their headers and status. */
  readonly indexRequests: (prefix: string) => ReadonlyArray<{ readonly headers: IncomingHttpHeaders; readonly status: number }>
}

export const startChartServer = async (credentials: { readonly username: string; readonly password: string }): Promise<ChartServer> => {
  const files = new Map<string, string | Buffer>()
  const requests: Array<{ readonly url: string; readonly headers: IncomingHttpHeaders; status: number }> = []
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`
  const listening = await listenOnLoopback(
    createServer((req, res) => {
      const url = req.url ?? ""
      const seen = { url, headers: req.headers, status: 200 }
      requests.push(seen)
      const answer = (status: number, headers: Record<string, string> = {}, body?: string | Buffer) => {
        seen.status = status
        res.writeHead(status, headers).end(body)
      }
      if (url.startsWith("/private/") && req.headers.authorization !== expected) return answer(401, { "www-authenticate": "Basic realm=charts" })
      const body = files.get(url)
      if (body === undefined) return answer(404)
      const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`
      if (req.headers["if-none-match"] === etag) return answer(304, { etag })
      answer(200, { etag, "content-type": url.endsWith(".yaml") ? "application/yaml" : "application/gzip" }, body)
    })
  )
  return {
    ...listening,
    serve: (prefix, served) => {
      for (const key of [...files.keys()]) if (key.startsWith(`${prefix}/`)) files.delete(key)
      for (const [name, body] of Object.entries(served)) files.set(`${prefix}/${name}`, body)
    },
    indexRequests: (prefix) => requests.filter((r) => r.url === `${prefix}/index.yaml`)
  }
}

/** An HTTP chart repository as the config would give it. */
export const chartRepository = (name: string, address: string, options: Partial<HttpChartRepository> = {}): HttpChartRepository => ({
  type: "HTTP",
  name,
  address,
  insecure: false,
  interval: Duration.minutes(5),
  source: { file: "piped.yaml", line: 1 },
  ...options
})
