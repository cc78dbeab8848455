import { beforeAll, describe, expect, test } from "bun:test"
import { SERVER_HOOK_TIMEOUT } from "../support/hooks.ts"
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
  beforeAll(ensureBuilt, SERVER_HOOK_TIMEOUT)

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

describe("runner validate: gates", () => {
  beforeAll(ensureBuilt, SERVER_HOOK_TIMEOUT)

  const withGate = (cosign: string) => `${piped(`    - name: registry
      type: OCI
      config: { address: https://gcr.io }
`)}  imageWatcher:
    gates:
      - images: ["gcr.io/org/**"]
${cosign}`

  test("a cosign gate that pins the digest over a field of the tag alone fails validation, naming the target and the gate", async () => {
    const dir = tempDir("validate-gates-")
    const config = writeFile(dir, "piped.yaml", withGate("        cosign: { publicKeyFile: /etc/runner/cosign.pub }\n"))
    const watcher = writeFile(dir, "w.yaml", `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - {image: gcr.io/org/app, provider: registry, filePath: values.yaml, field: $.image.tag, format: tag}
`)
    const result = await runRunner(["validate", "--config", config, watcher])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${watcher}:5: gate ${config}:13 verifies cosign signatures and pins the verified digest`)
    expect(result.stderr).toContain("set pinDigest: false on the gate")
    const unpinned = writeFile(dir, "unpinned.yaml", withGate("        cosign: { publicKeyFile: /etc/runner/cosign.pub }\n        pinDigest: false\n"))
    expect((await runRunner(["validate", "--config", unpinned, watcher])).code).toBe(0)
  })

  test("an unanchored subjectPattern fails validation at its line", async () => {
    const dir = tempDir("validate-gates-")
    const config = writeFile(
      dir,
      "piped.yaml",
      withGate(`        cosign:
          trustedRootFile: /etc/runner/trusted_root.json
          identity:
            issuer: https://token.actions.githubusercontent.com
            subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main"
`)
    )
    const result = await runRunner(["validate", "--config", config])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${config}:18: spec.imageWatcher.gates[0].cosign.identity.subjectPattern: subjectPattern must be anchored`)
  })
})
