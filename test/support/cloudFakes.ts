/**
 * Local fakes of the cloud endpoints the registry providers call, built from their documented
 * APIs: the GCE metadata server's token, ECR's JSON API (GetAuthorizationToken, DescribeImages),
 * STS AssumeRoleWithWebIdentity, the ECS container credentials endpoint and IMDSv2. One server
 * answers them all on loopback and records what it was asked.
 */
import { createServer, type IncomingMessage } from "node:http"
import { listenOnLoopback } from "./listen.ts"

export interface FakeRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface CloudFake {
  readonly url: string
  readonly requests: ReadonlyArray<FakeRequest>
  stop(): Promise<void>
}

export interface CloudFakeOptions {
  /** ECR: the password inside the authorization token, and its lifetime in seconds. */
  readonly ecrPassword?: string
  readonly ecrTokenSeconds?: number
  /** ECR DescribeImages: images, served `pageSize` a page with nextToken. */
  readonly images?: ReadonlyArray<{ readonly digest: string; readonly tags: ReadonlyArray<string>; readonly pushedAt: number }>
  readonly pageSize?: number
  /** GCE metadata: the access token handed out (a counter is appended) and its lifetime. */
  readonly gceToken?: string
  readonly gceTokenSeconds?: number
  /** The temporary keys STS, ECS and IMDS hand out. */
  readonly temporaryKeyId?: string
  /** IMDS role name. */
  readonly role?: string
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => (text += chunk))
    req.on("end", () => resolve(text))
    req.on("error", reject)
  })

const json = (status: number, body: unknown) => ({ status, type: "application/json", body: JSON.stringify(body) })

export const startCloudFake = async (options: CloudFakeOptions = {}): Promise<CloudFake> => {
  const requests: Array<FakeRequest> = []
  let gceTokens = 0
  const keyId = options.temporaryKeyId ?? "ASIATEMPORARY"
  const temporary = {
    AccessKeyId: keyId,
    SecretAccessKey: "temporary-secret",
    Token: "temporary-session",
    Expiration: new Date(Date.now() + 3600_000).toISOString(),
  }

  const answer = (request: FakeRequest): { status: number; type: string; body: string } => {
    const { method, path, headers, body } = request
    if (path === "/computeMetadata/v1/instance/service-accounts/default/token") {
      if (headers["metadata-flavor"] !== "Google") return json(403, { error: "Metadata-Flavor header missing" })
      gceTokens++
      return json(200, { access_token: `${options.gceToken ?? "gce-token"}-${gceTokens}`, expires_in: options.gceTokenSeconds ?? 3599, token_type: "Bearer" })
    }
    if (method === "POST" && path === "/" && headers["x-amz-target"] !== undefined) {
      if (!/^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/ecr\/aws4_request, SignedHeaders=[a-z0-9;-]*content-type[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/.test(headers["authorization"] ?? "")) {
        return json(403, { __type: "UnrecognizedClientException", message: "The security token included in the request is invalid." })
      }
      const action = headers["x-amz-target"].replace("AmazonEC2ContainerRegistry_V20150921.", "")
      if (action === "GetAuthorizationToken") {
        const token = Buffer.from(`AWS:${options.ecrPassword ?? "ecr-password"}`).toString("base64")
        const expiresAt = Date.now() / 1000 + (options.ecrTokenSeconds ?? 43200)
        return json(200, { authorizationData: [{ authorizationToken: token, expiresAt, proxyEndpoint: "https://ecr.invalid" }] })
      }
      if (action === "DescribeImages") {
        const input: { repositoryName: string; nextToken?: string; maxResults?: number } = JSON.parse(body)
        if (input.repositoryName === "missing") {
          return json(400, { __type: "RepositoryNotFoundException", message: `The repository with name '${input.repositoryName}' does not exist` })
        }
        const all = options.images ?? []
        const size = options.pageSize ?? 1000
        const from = Number(input.nextToken ?? "0")
        const page = all.slice(from, from + size)
        return json(200, {
          imageDetails: page.map((image) => ({ imageDigest: image.digest, imageTags: image.tags, imagePushedAt: image.pushedAt, repositoryName: input.repositoryName })),
          ...(from + size < all.length ? { nextToken: String(from + size) } : {}),
        })
      }
      return json(400, { __type: "InvalidAction" })
    }
    if (method === "POST" && path === "/" && body.includes("Action=AssumeRoleWithWebIdentity")) {
      const form = new URLSearchParams(body)
      if (form.get("WebIdentityToken") !== "projected-token") return { status: 403, type: "text/xml", body: "<ErrorResponse><Error><Code>InvalidIdentityToken</Code></Error></ErrorResponse>" }
      return {
        status: 200,
        type: "text/xml",
        body: `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${keyId}</AccessKeyId><SecretAccessKey>${temporary.SecretAccessKey}</SecretAccessKey><SessionToken>${temporary.Token}</SessionToken><Expiration>${temporary.Expiration}</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
      }
    }
    if (path === "/ecs/credentials") {
      if (headers["authorization"] !== "container-auth-token") return json(401, { message: "missing authorization" })
      return json(200, temporary)
    }
    if (method === "PUT" && path === "/latest/api/token") {
      return headers["x-aws-ec2-metadata-token-ttl-seconds"] === undefined ? json(400, {}) : { status: 200, type: "text/plain", body: "imds-session" }
    }
    if (path.startsWith("/latest/meta-data/iam/security-credentials/")) {
      if (headers["x-aws-ec2-metadata-token"] !== "imds-session") return { status: 401, type: "text/plain", body: "" }
      const role = options.role ?? "node-role"
      if (path === "/latest/meta-data/iam/security-credentials/") return { status: 200, type: "text/plain", body: role }
      if (path === `/latest/meta-data/iam/security-credentials/${role}`) return json(200, { Code: "Success", Type: "AWS-HMAC", ...temporary })
    }
    return json(404, { message: `no fake for ${method} ${path}` })
  }

  const server = createServer((req, res) => {
    readBody(req).then((body) => {
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value
      const request = { method: req.method ?? "GET", path: req.url ?? "/", headers, body }
      requests.push(request)
      const reply = answer(request)
      res.writeHead(reply.status, { "content-type": reply.type })
      res.end(reply.body)
    })
  })
  const { url, stop } = await listenOnLoopback(server)
  return {
    url,
    requests,
    stop,
  }
}
