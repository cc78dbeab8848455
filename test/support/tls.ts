/** Self-signed certificates for test servers that speak https on loopback. */
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { tempDir } from "./tempDirs.ts"

/** A key and a certificate for `name` (a DNS name, or an IP address), valid one day. */
export const selfSignedCert = (name: string): { readonly key: Buffer; readonly cert: Buffer } => {
  const dir = tempDir("runner-tls-")
  const [key, cert] = [join(dir, "tls.key"), join(dir, "tls.crt")]
  const san = /^[\d.]+$/.test(name) ? `IP:${name}` : `DNS:${name}`
  const made = spawnSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
    "-subj", `/CN=${name}`, "-addext", `subjectAltName=${san}`,
  ])
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`)
  return { key: readFileSync(key), cert: readFileSync(cert) }
}
