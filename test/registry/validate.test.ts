import { beforeAll, describe, expect, test } from "bun:test"
import { ensureBuilt, runRunner, tempDir, writeFile } from "../support/runner.ts"

const piped = (providers: string) => `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  repositories:
    - repoId: config
      remote: https://example.com/config.git
  imageProviders:
${providers}`

describe("runner validate: provider credentials", () => {
  beforeAll(ensureBuilt)

  test("a broken credential file is an error with file and line, without its content", async () => {
    const dir = tempDir("validate-credentials-")
    const key = writeFile(dir, "sa.json", '{"private_key": "SECRET-MATERIAL"}')
    const docker = writeFile(dir, "config.json", "not json SECRET-DOCKER")
    const config = writeFile(
      dir,
      "piped.yaml",
      piped(`    - name: gcr
      type: GCR
      config: { serviceAccountFile: ${key} }
    - name: oci
      type: OCI
      config: { dockerConfigFile: ${docker}, hosts: [registry.example.com] }
`),
    )
    const result = await runRunner(["validate", "--config", config])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${config}:8: provider gcr: serviceAccountFile ${key} is not a service account key`)
    expect(result.stderr).toContain(`${config}:11: provider oci: dockerConfigFile ${docker} is not a Docker config`)
    expect(result.stderr + result.stdout).not.toContain("SECRET")
  })

  test("a credential file missing on this machine is a warning, not a failure", async () => {
    const dir = tempDir("validate-credentials-")
    const config = writeFile(dir, "piped.yaml", piped(`    - name: hub
      type: DOCKER_HUB
      config: { username: me, passwordFile: ${dir}/absent }
`))
    const result = await runRunner(["validate", "--config", config])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`warning: ${config}:8: provider hub: cannot read passwordFile ${dir}/absent`)
  })

  test("an unknown provider type names file and line", async () => {
    const dir = tempDir("validate-credentials-")
    const config = writeFile(dir, "piped.yaml", piped(`    - name: x
      type: DOCKR
`))
    const result = await runRunner(["validate", "--config", config])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${config}:9: spec.imageProviders[0].type`)
    expect(result.stderr).toContain('got "DOCKR"')
  })
})
