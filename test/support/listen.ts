import type { Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface Listening {
  readonly port: number
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Closes the server, kept-alive connections included. */
  readonly stop: () => Promise<void>
}

/** Starts a test server on a free loopback port. */
export const listenOnLoopback = async (server: Server): Promise<Listening> => {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
