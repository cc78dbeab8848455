import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import type { EcrProvider, ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { Credentials } from "../../src/credentials/Credentials.ts"
import { EcrApi } from "../../src/credentials/EcrApi.ts"
import type { RegistryCredentials } from "../../src/credentials/RegistryCredentials.ts"
import { type ImageRef, parseImageRef } from "../../src/domain/ImageRef.ts"
import type { RegistryError } from "../../src/domain/RegistryError.ts"
import type { TagInfo } from "../../src/domain/TagInfo.ts"
import { RegistryHttp } from "../../src/http/RegistryHttp.ts"
import { listEcrTags } from "../../src/registry/EcrTags.ts"
import { type RegistryEndpoint, resolveEndpoint } from "../../src/registry/endpoint.ts"
import { type CloudFake, startCloudFake } from "../support/cloudFakes.ts"
import { ecrProviderConfig, providerConfig } from "../support/config.ts"

const layer = Credentials.layer.pipe(
  Layer.provideMerge(EcrApi.layer),
  Layer.provide(RegistryHttp.layer),
  Layer.provide(FetchHttpClient.layer),
  Layer.provide(NodeContext.layer),
)

/** What TagSource makes of a provider's credentials and ECR's API: the endpoint of an image, and ECR's own listing. */
interface Auth {
  readonly endpoint: (provider: ProviderConfig, image: ImageRef) => Effect.Effect<RegistryEndpoint, RegistryError>
  readonly ecrTags: (provider: EcrProvider, image: ImageRef) => Effect.Effect<ReadonlyArray<TagInfo>, RegistryError>
  readonly ecrAuthorization: (provider: EcrProvider, image: ImageRef) => Effect.Effect<Option.Option<RegistryCredentials>, RegistryError>
}

/** Runs with exactly these environment variables visible to the AWS credential chain. */
const run = <A>(env: Record<string, string>, f: (auth: Auth) => Effect.Effect<A, RegistryError>) =>
  Effect.runPromise(
    Effect.all([Credentials, EcrApi]).pipe(
      Effect.map(([credentials, ecr]): Auth => ({
        endpoint: (provider, image) => resolveEndpoint(credentials, provider, image),
        ecrTags: (provider, image) => listEcrTags(ecr, provider, image),
        ecrAuthorization: (provider, image) => ecr.authorization(provider, image, false),
      })),
      Effect.flatMap((auth) => Effect.either(f(auth))),
      Effect.provide(layer),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ AWS_EC2_METADATA_DISABLED: "true", ...env })))),
    ),
  )

const provider = providerConfig

const image = (text: string) => Either.getOrThrow(Either.mapLeft(parseImageRef(text), (e) => new Error(e)))

const creds = (endpoint: RegistryEndpoint) =>
  Option.getOrUndefined(Option.map(endpoint.credentials, (c) => `${c.username}:${Redacted.value(c.password)}`))

const renewed = (endpoint: RegistryEndpoint) =>
  Option.match(endpoint.renewCredentials, {
    onNone: () => Effect.succeed("not renewable"),
    onSome: (renew) => Effect.map(renew, (c) => Option.getOrElse(Option.map(c, (x) => `${x.username}:${Redacted.value(x.password)}`), () => "none")),
  })

const ECR_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app"

let dir: string
let fake: CloudFake
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "provider-auth-"))
  fake = await startCloudFake({
    images: [
      { digest: "sha256:" + "a".repeat(64), tags: ["1.0.0"], pushedAt: 1_700_000_000 },
      { digest: "sha256:" + "b".repeat(64), tags: ["1.1.0", "latest"], pushedAt: 1_700_000_100.5 },
      { digest: "sha256:" + "c".repeat(64), tags: ["2.0.0"], pushedAt: 1_700_000_200 },
    ],
    pageSize: 2,
  })
}, SERVER_HOOK_TIMEOUT)
afterAll(async () => {
  await fake.stop()
  rmSync(dir, { recursive: true, force: true })
}, SERVER_HOOK_TIMEOUT)

const since = (start: number) => fake.requests.slice(start)

describe("GCR", () => {
  test("metadata server token as oauth2accesstoken, cached, fetched anew on renewal", async () => {
    const start = fake.requests.length
    const gcr = provider({ type: "GCR", endpoint: fake.url })
    const result = await run({}, (auth) =>
      Effect.gen(function* () {
        const first = yield* auth.endpoint(gcr, image("gcr.io/proj/app"))
        const second = yield* auth.endpoint(gcr, image("gcr.io/proj/app"))
        return [creds(first), creds(second), yield* renewed(second)]
      }),
    )
    expect(Either.getOrThrow(result)).toEqual(["oauth2accesstoken:gce-token-1", "oauth2accesstoken:gce-token-1", "oauth2accesstoken:gce-token-2"])
    expect(since(start).map((r) => [r.path, r.headers["metadata-flavor"]])).toEqual([
      ["/computeMetadata/v1/instance/service-accounts/default/token", "Google"],
      ["/computeMetadata/v1/instance/service-accounts/default/token", "Google"],
    ])
  })

  test("serviceAccountFile is sent as _json_key, re-read when it changes", async () => {
    const file = join(dir, "sa.json")
    const key = (id: string) => JSON.stringify({ type: "service_account", client_email: `${id}@proj.iam.gserviceaccount.com`, private_key: "-----BEGIN-----" })
    writeFileSync(file, key("old"))
    const gcr = provider({ type: "GCR", serviceAccountFile: file })
    const result = await run({}, (auth) =>
      Effect.gen(function* () {
        const before = creds(yield* auth.endpoint(gcr, image("europe-docker.pkg.dev/proj/repo/app")))
        writeFileSync(file, key("new"))
        const after = creds(yield* auth.endpoint(gcr, image("europe-docker.pkg.dev/proj/repo/app")))
        return [before, after]
      }),
    )
    expect(Either.getOrThrow(result)).toEqual([`_json_key:${key("old")}`, `_json_key:${key("new")}`])
  })

  test("a serviceAccountFile that is not a key is a Config error naming the file, not its content", async () => {
    const file = join(dir, "not-a-key.json")
    writeFileSync(file, JSON.stringify({ private_key: "SECRET-KEY-MATERIAL" }))
    const result = await run({}, (auth) => auth.endpoint(provider({ type: "GCR", serviceAccountFile: file }), image("gcr.io/proj/app")))
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left.reason).toBe("Config")
    expect(result.left.message).toContain(file)
    expect(result.left.message).not.toContain("SECRET-KEY-MATERIAL")
  })
})

describe("ECR", () => {
  const ecr = (): EcrProvider => ({ ...ecrProviderConfig, endpoint: fake.url })
  const envKeys = { AWS_ACCESS_KEY_ID: "AKIAENVIRONMENT", AWS_SECRET_ACCESS_KEY: "env-secret-key" }

  test("GetAuthorizationToken signed with the environment's keys; the token is cached", async () => {
    const start = fake.requests.length
    const result = await run(envKeys, (auth) =>
      Effect.gen(function* () {
        const first = yield* auth.endpoint(ecr(), image(ECR_IMAGE))
        const second = yield* auth.endpoint(ecr(), image(ECR_IMAGE))
        return [first.baseUrl, creds(first), creds(second)]
      }),
    )
    expect(Either.getOrThrow(result)).toEqual(["https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "AWS:ecr-password", "AWS:ecr-password"])
    const calls = since(start)
    expect(calls.length).toBe(1)
    expect(calls[0]?.headers["x-amz-target"]).toBe("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
    expect(calls[0]?.headers["authorization"]).toContain("Credential=AKIAENVIRONMENT/")
    expect(calls[0]?.headers["authorization"]).toContain("/eu-west-1/ecr/aws4_request")
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({ registryIds: ["123456789012"] })
  })

  test("DescribeImages pages give every tag with its push time and digest", async () => {
    const result = await run(envKeys, (auth) => auth.ecrTags(ecr(), image(ECR_IMAGE)))
    expect(Either.getOrThrow(result)).toEqual([
      { tag: "1.0.0", created: new Date(1_700_000_000_000), pushed: new Date(1_700_000_000_000), digest: "sha256:" + "a".repeat(64) },
      { tag: "1.1.0", created: new Date(1_700_000_100_500), pushed: new Date(1_700_000_100_500), digest: "sha256:" + "b".repeat(64) },
      { tag: "latest", created: new Date(1_700_000_100_500), pushed: new Date(1_700_000_100_500), digest: "sha256:" + "b".repeat(64) },
      { tag: "2.0.0", created: new Date(1_700_000_200_000), pushed: new Date(1_700_000_200_000), digest: "sha256:" + "c".repeat(64) },
    ])
  })

  test("DescribeImages past the provider's maxTags fails, without asking for the pages after", async () => {
    const start = fake.requests.length
    const result = await run(envKeys, (auth) => auth.ecrTags({ ...ecr(), maxTags: 2 }, image(ECR_IMAGE)))
    if (Either.isRight(result)) throw new Error("expected an error")
    expect([result.left.reason, result.left.detail]).toEqual(["Limit", "more than 2 tags listed; raise maxTags of provider p"])
    // The first page holds three tags already: the second is never asked for.
    expect(since(start).filter((r) => r.headers["x-amz-target"]?.endsWith("DescribeImages")).length).toBe(1)
  })

  test("ECR's API is not called for an image on a host the provider does not serve", async () => {
    const start = fake.requests.length
    const bound = { ...ecr(), region: "eu-west-1", registryId: "123456789012" }
    const elsewhere = image("attacker.example/team/app")
    const served = "attacker.example/team/app is not served by provider p"
    const calls: ReadonlyArray<(auth: Auth) => Effect.Effect<unknown, RegistryError>> = [
      (auth) => auth.ecrTags(bound, elsewhere),
      (auth) => auth.ecrAuthorization(bound, elsewhere),
    ]
    for (const call of calls) {
      const result = await run(envKeys, call)
      if (Either.isRight(result)) throw new Error("expected an error")
      expect([result.left.reason, result.left.detail.startsWith(served)]).toEqual(["Config", true])
    }
    expect(since(start)).toEqual([])
  })

  test("an unknown repository is NotFound with ECR's message, without the keys", async () => {
    const result = await run(envKeys, (auth) => auth.ecrTags(ecr(), image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/missing")))
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left.reason).toBe("NotFound")
    expect(result.left.message).toContain("RepositoryNotFoundException")
    expect(result.left.message).toContain("provider p")
    expect(result.left.message).not.toContain("env-secret-key")
  })

  const chains: ReadonlyArray<{ name: string; env: () => Record<string, string>; setup?: () => Pick<EcrProvider, "credentialsFile" | "profile">; keyId: string; token: boolean }> = [
    {
      name: "credentialsFile and profile",
      env: () => ({}),
      setup: () => {
        const file = join(dir, "aws-credentials")
        writeFileSync(file, "[default]\naws_access_key_id=AKIADEFAULT\naws_secret_access_key=x\n[ci]\naws_access_key_id=AKIAFILECI\naws_secret_access_key=file-secret\n")
        return { credentialsFile: file, profile: "ci" }
      },
      keyId: "AKIAFILECI",
      token: false,
    },
    {
      name: "web identity token file (EKS IRSA) through STS",
      env: () => {
        const file = join(dir, "web-identity-token")
        writeFileSync(file, "projected-token\n")
        return { AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/runner", AWS_ENDPOINT_URL_STS: fake.url }
      },
      keyId: "ASIATEMPORARY",
      token: true,
    },
    {
      name: "container credentials (ECS, EKS Pod Identity)",
      env: () => ({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${fake.url}/ecs/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN: "container-auth-token" }),
      keyId: "ASIATEMPORARY",
      token: true,
    },
    {
      name: "IMDSv2 instance role",
      env: () => ({ AWS_EC2_METADATA_DISABLED: "false", AWS_EC2_METADATA_SERVICE_ENDPOINT: fake.url }),
      keyId: "ASIATEMPORARY",
      token: true,
    },
  ]
  test.each(chains)("keys from $name", async ({ env, setup, keyId, token }) => {
    const start = fake.requests.length
    const result = await run(env(), (auth) => auth.endpoint({ ...ecr(), ...setup?.() }, image(ECR_IMAGE)))
    expect(creds(Either.getOrThrow(result))).toBe("AWS:ecr-password")
    const signed = since(start).find((r) => r.headers["x-amz-target"] !== undefined)
    expect(signed?.headers["authorization"]).toContain(`Credential=${keyId}/`)
    expect(signed?.headers["x-amz-security-token"]).toBe(token ? "temporary-session" : undefined)
  })

  test("no credentials anywhere is a Config error", async () => {
    const result = await run({}, (auth) => auth.endpoint(ecr(), image(ECR_IMAGE)))
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left.reason).toBe("Config")
    expect(result.left.message).toContain("no AWS credentials")
  })

  test("a token is fetched again before it expires", async () => {
    const short = await startCloudFake({ ecrTokenSeconds: 2 })
    try {
      const result = await run(envKeys, (auth) =>
        Effect.gen(function* () {
          const p = provider({ type: "ECR", endpoint: short.url })
          yield* auth.endpoint(p, image(ECR_IMAGE))
          yield* auth.endpoint(p, image(ECR_IMAGE))
          // Kept for three quarters of its life: 1.5 s of 2 s.
          yield* Effect.sleep("1600 millis")
          return yield* auth.endpoint(p, image(ECR_IMAGE))
        }),
      )
      expect(creds(Either.getOrThrow(result))).toBe("AWS:ecr-password")
      expect(short.requests.length).toBe(2)
    } finally {
      await short.stop()
    }
  })
})

describe("OCI and Docker Hub credentials", () => {
  test("passwordFile is read on every use, so a rotated password takes effect", async () => {
    const file = join(dir, "password")
    writeFileSync(file, "first\n")
    const p = provider({ username: "alice", passwordFile: file })
    const result = await run({}, (auth) =>
      Effect.gen(function* () {
        const before = yield* auth.endpoint(p, image("registry.example.com/app"))
        writeFileSync(file, "second\n")
        return [creds(before), yield* renewed(before)]
      }),
    )
    expect(Either.getOrThrow(result)).toEqual(["alice:first", "alice:second"])
  })

  const configErrors = [
    { name: "username without passwordFile", fields: { username: "alice" }, message: "has a username but no passwordFile" },
    { name: "an unreadable passwordFile", fields: { username: "alice", passwordFile: "/nonexistent/pw" }, message: "cannot read passwordFile /nonexistent/pw" },
    { name: "an unreadable caFile", fields: { caFile: "/nonexistent/ca.pem" }, message: "cannot read caFile /nonexistent/ca.pem" },
  ]
  test.each(configErrors)("$name is a Config error", async ({ fields, message }) => {
    const result = await run({}, (auth) => auth.endpoint(provider(fields), image("registry.example.com/app")))
    if (Either.isRight(result)) throw new Error("expected an error")
    expect(result.left.reason).toBe("Config")
    expect(result.left.message).toContain(message)
  })

  test("caFile is read into the endpoint", async () => {
    const file = join(dir, "ca.pem")
    writeFileSync(file, "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n")
    const result = await run({}, (auth) => auth.endpoint(provider({ caFile: file }), image("registry.example.com/app")))
    expect(Option.getOrUndefined(Either.getOrThrow(result).caCert)).toContain("BEGIN CERTIFICATE")
  })

  test("dockerConfigFile: stored auths and a docker-credential helper", async () => {
    const bin = join(dir, "bin")
    const helper = join(bin, "docker-credential-fake")
    mkdirSync(bin, { recursive: true })
    // Answers like the real helpers: the server URL comes on stdin.
    writeFileSync(helper, '#!/bin/sh\nread url\nprintf \'{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret-for-%s"}\' "$url" "$url"\n')
    chmodSync(helper, 0o755)
    const file = join(dir, "config.json")
    writeFileSync(file, JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: btoa("hub:hubpass") } }, credHelpers: { "quay.io": "fake" } }))
    const path = process.env["PATH"]
    process.env["PATH"] = `${bin}:${path ?? ""}`
    try {
      const result = await run({}, (auth) =>
        Effect.all([
          auth.endpoint(provider({ type: "DOCKER_HUB", dockerConfigFile: file }), image("nginx")),
          auth.endpoint(provider({ dockerConfigFile: file }), image("quay.io/org/app")),
          auth.endpoint(provider({ dockerConfigFile: file }), image("ghcr.io/org/app")),
        ]),
      )
      expect(Either.getOrThrow(result).map(creds)).toEqual(["hub:hubpass", "helper-user:helper-secret-for-quay.io", undefined])
    } finally {
      process.env["PATH"] = path
    }
  })
})
