import { Either, Option, Schema } from "effect"

/** `--listen`: `HOST:PORT`, `:PORT` (every interface) or `PORT`; IPv6 hosts in brackets. */
export const parseListen = (text: string): Either.Either<{ readonly host: string | undefined; readonly port: number }, string> => {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[2])
  if (match === null || !(port >= 0 && port <= 65535)) return Either.left(`--listen ${JSON.stringify(text)}: expected HOST:PORT, :PORT or PORT`)
  const host = match[1]?.replace(/^\[|\]$/g, "")
  return Either.right({ host: host === undefined || host === "" ? undefined : host, port })
}

const SystemCode = Schema.Struct({ code: Schema.String })
const WithMessage = Schema.Struct({ message: Schema.String })

/** What the operator can act on, by the system's error code; the code itself follows in brackets. */
const LISTEN_CAUSES: Readonly<Record<string, string>> = {
  EADDRINUSE: "address in use",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EADDRNOTAVAIL: "address not available on this host",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name not found",
  EAFNOSUPPORT: "address family not supported"
}

/** Why the server could not listen, from the error its socket raised (`ServeError.cause`). */
export const listenFailure = (cause: unknown): string => {
  const code = Option.map(Schema.decodeUnknownOption(SystemCode)(cause), (c) => c.code)
  const message = Option.map(Schema.decodeUnknownOption(WithMessage)(cause), (m) => m.message).pipe(Option.filter((m) => m !== ""))
  if (Option.isSome(code)) {
    const known = LISTEN_CAUSES[code.value]
    return known === undefined ? Option.getOrElse(message, () => code.value) : `${known} (${code.value})`
  }
  return Option.getOrElse(message, () => "unknown cause")
}
