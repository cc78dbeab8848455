import { Either } from "effect"

/** `--listen`: `HOST:PORT`, `:PORT` (every interface) or `PORT`; IPv6 hosts in brackets. */
export const parseListen = (text: string): Either.Either<{ readonly host: string | undefined; readonly port: number }, string> => {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[2])
  if (match === null || !(port >= 0 && port <= 65535)) return Either.left(`--listen ${JSON.stringify(text)}: expected HOST:PORT, :PORT or PORT`)
  const host = match[1]?.replace(/^\[|\]$/g, "")
  return Either.right({ host: host === undefined || host === "" ? undefined : host, port })
}
