/**
 * A forwarding proxy in front of a registry that records every exchange (method, path, status),
 * so the bench counts what the runner really sent: tag lists, auth challenges, manifest calls.
 */
import { createServer, type IncomingMessage } from "node:http"
import { listenOnLoopback } from "../test/support/listen.ts"

export interface Exchange {
  readonly method: string
  readonly path: string
  readonly status: number
}

export interface CountingProxy {
  readonly url: string
  readonly exchanges: Array<Exchange>
  stop(): Promise<void>
}

const HOP_BY_HOP = new Set(["host", "connection", "content-length", "transfer-encoding", "content-encoding", "keep-alive"])

const headersOf = (req: IncomingMessage): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers.set(name, Array.isArray(value) ? value.join(", ") : value)
  }
  return headers
}

/** Only reads (GET, HEAD) pass: a pass must not write to a registry. */
export const startCountingProxy = async (upstream: string): Promise<CountingProxy> => {
  const exchanges: Array<Exchange> = []
  const server = createServer((req, res) => {
    const path = req.url ?? "/"
    const method = req.method ?? "GET"
    fetch(new URL(path, upstream), { method, headers: headersOf(req), redirect: "manual" })
      .then(async (reply) => {
        const body = new Uint8Array(await reply.arrayBuffer())
        exchanges.push({ method, path, status: reply.status })
        const headers: Record<string, string> = {}
        reply.headers.forEach((value, name) => {
          if (!HOP_BY_HOP.has(name)) headers[name] = value
        })
        res.writeHead(reply.status, { ...headers, "content-length": String(body.byteLength) })
        res.end(body)
      })
      .catch((error: unknown) => {
        exchanges.push({ method, path, status: 502 })
        res.writeHead(502, { "content-type": "text/plain" })
        res.end(String(error))
      })
  })
  const { url, stop } = await listenOnLoopback(server)
  return {
    url,
    exchanges,
    stop,
  }
}
