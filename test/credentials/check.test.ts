import { describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import type { ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { checkProviderCredentials } from "../../src/credentials/check.ts"
import { providerConfig } from "../support/config.ts"
import { tempDir, writeFile } from "../support/runner.ts"

const check = (provider: ProviderConfig) => Effect.runPromise(checkProviderCredentials(provider).pipe(Effect.provide(NodeContext.layer)))

const at = { source: { file: "piped.yaml", line: 8 } }

describe("checkProviderCredentials", () => {
  test("broken credential files are errors naming the file and line, never their content", async () => {
    const dir = tempDir("check-credentials-")
    const key = writeFile(dir, "sa.json", '{"private_key": "SECRET-MATERIAL"}')
    const docker = writeFile(dir, "config.json", "not json SECRET-DOCKER")
    const aws = writeFile(dir, "credentials", "[default]\naws_access_key_id=AKIA\naws_secret_access_key=SECRET-AWS\n")
    const results = await Promise.all([
      check(providerConfig({ ...at, name: "gcr", type: "GCR", serviceAccountFile: key })),
      check(providerConfig({ ...at, name: "oci", dockerConfigFile: docker })),
      check(providerConfig({ ...at, name: "ecr", type: "ECR", credentialsFile: aws, profile: "ci" })),
    ])
    expect(results.map((r) => r.errors)).toEqual([
      [`piped.yaml:8: provider gcr: serviceAccountFile ${key} is not a service account key (JSON with client_email)`],
      [`piped.yaml:8: provider oci: dockerConfigFile ${docker} is not a Docker config.json or .dockerconfigjson`],
      [`piped.yaml:8: provider ecr: credentialsFile ${aws} has no keys for profile ci`],
    ])
    expect(JSON.stringify(results)).not.toContain("SECRET")
  })

  test("well-formed files pass", async () => {
    const dir = tempDir("check-credentials-")
    const key = writeFile(dir, "sa.json", JSON.stringify({ type: "service_account", client_email: "ci@proj.iam.gserviceaccount.com" }), 0o600)
    const docker = writeFile(dir, "config.json", JSON.stringify({ auths: { "quay.io": { auth: btoa("robot:tok") } } }), 0o600)
    const results = await Promise.all([
      check(providerConfig({ ...at, type: "GCR", serviceAccountFile: key })),
      check(providerConfig({ ...at, dockerConfigFile: docker })),
    ])
    expect(results).toEqual([
      { errors: [], warnings: [] },
      { errors: [], warnings: [] },
    ])
  })

  test("a file missing on this machine is a warning; username and passwordFile go together", async () => {
    const dir = tempDir("check-credentials-")
    const result = await check(providerConfig({ ...at, name: "hub", type: "DOCKER_HUB", passwordFile: `${dir}/absent` }))
    expect(result.errors).toEqual(["piped.yaml:8: provider hub: username and passwordFile go together"])
    expect(result.warnings).toHaveLength(1)
    expect(result.warnings[0]).toStartWith(`piped.yaml:8: provider hub: cannot read passwordFile ${dir}/absent`)
  })
})
