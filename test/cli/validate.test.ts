/** `runner validate`'s cross-checks, in process: watcher files against the config's providers, git credential files. */
import { describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { validateFiles } from "../../src/validate.ts"
import { ociProvider, watcherFile, writePipedConfig } from "../support/config.ts"
import { writeFile } from "../support/runner.ts"
import { tempDir } from "../support/tempDirs.ts"

const validate = (configs: ReadonlyArray<string>, watchers: ReadonlyArray<string>) =>
  Effect.runPromise(validateFiles(configs, watchers).pipe(Effect.provide(NodeContext.layer)))

const setup = (git?: string, imageWatcher?: string) => {
  const dir = tempDir("runner-validate-")
  const config = writePipedConfig(dir, {
    repoId: "config",
    remote: "https://git.test/org/config.git",
    providers: ociProvider("registry", "https://gcr.io"),
    ...(git === undefined ? {} : { git }),
    ...(imageWatcher === undefined ? {} : { imageWatcher })
  })
  const watcher = (provider: string) =>
    writeFile(dir, `${provider}.yaml`, watcherFile([{ image: "gcr.io/org/app", provider, filePath: "app.yaml", field: "image" }]))
  return { dir, config, watcher }
}

describe("runner validate", () => {
  test("a pipeline's defaultPolicy is checked with the config, once", async () => {
    const good = setup(undefined, "  imageWatcher:\n    defaultPolicy: { semver: \"~1.2\" }\n")
    expect((await validate([good.config], [good.watcher("registry")])).errors).toEqual([])
    const bad = setup(undefined, "  imageWatcher:\n    defaultPolicy: { semver: \"not a range\" }\n")
    expect((await validate([bad.config], [bad.watcher("registry")])).errors).toEqual([
      `${bad.config}: spec.imageWatcher.defaultPolicy: invalid semver range "not a range"`
    ])
    const version = setup(undefined, "  imageWatcher:\n    defaultPolicy: { version: latest }\n")
    const [refused] = (await validate([version.config], [])).errors
    expect(refused).toContain(`${version.config}:`)
    expect(refused).toContain(`spec.imageWatcher.defaultPolicy.version: invalid version range "latest": use "auto", "~", "^", "*" or a semver range`)
  })

  test("a watcher file naming a provider the config does not declare is an error", async () => {
    const { config, watcher } = setup()
    const unknown = watcher("nowhere")
    const found = await validate([config], [watcher("registry"), unknown])
    expect(found.errors).toEqual([`${unknown}:5: provider "nowhere" is not declared in the config (known: registry)`])
  })

  test("a discover rule naming a provider the config does not declare is an error; one naming none is not", async () => {
    const { dir, config } = setup()
    const rules = (provider: string) =>
      `apiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec:\n  discover:\n    - paths: ["apps/**"]\n    - paths: ["**"]\n      ${provider}\n`
    const good = writeFile(dir, "rules-good.yaml", rules("images: [nginx]"))
    const bad = writeFile(dir, "rules-bad.yaml", rules("provider: nowhere"))
    expect((await validate([config], [good, bad])).errors).toEqual([`${bad}:6: provider "nowhere" is not declared in the config (known: registry)`])
  })

  test("a chart target naming a chart repository the config does not declare, or a git one, is an error; an HTTP one is fine", async () => {
    const dir = tempDir("runner-validate-")
    const config = writePipedConfig(dir, {
      repoId: "config",
      remote: "https://git.test/org/config.git",
      providers: ociProvider("registry", "https://gcr.io"),
      spec: "  chartRepositories:\n    - name: bitnami\n      address: https://charts.example.com/stable\n    - name: in-git\n      type: GIT\n      gitRemote: https://git.example.com/charts.git\n"
    })
    const chart = (provider: string) =>
      writeFile(dir, `chart-${provider}.yaml`, watcherFile([{ chart: "nginx", provider, filePath: "Chart.yaml", field: "dependencies[0].version" }]))
    const [good, unknown, git] = [chart("bitnami"), chart("registry"), chart("in-git")]
    expect((await validate([config], [good, unknown, git])).errors).toEqual([
      `${unknown}:5: no chart repository "registry" in spec.chartRepositories`,
      `${git}:5: chart repository in-git is a git repository: chart versions are not tags`
    ])
  })

  test("a chart in an OCI registry: served by a chart registry or an image provider by its address, else an error", async () => {
    const dir = tempDir("runner-validate-")
    const config = writePipedConfig(dir, {
      repoId: "config",
      remote: "https://git.test/org/config.git",
      providers: ociProvider("registry", "https://registry.example.com"),
      spec: "  chartRegistries:\n    - type: OCI\n      address: ghcr.io/org\n      username: bot\n      password: s3cret\n"
    })
    const chart = (name: string, repository: string) =>
      writeFile(dir, `oci-${name}.yaml`, watcherFile([{ chart: "nginx", repository, filePath: "Chart.yaml", field: "dependencies[0].version" }]))
    const files = [chart("registry", "oci://ghcr.io/org/charts"), chart("provider", "oci://registry.example.com/charts"), chart("none", "oci://quay.io/org")]
    expect((await validate([config], files)).errors).toEqual([`${files[2]}:5: no chart registry or image provider serves quay.io (spec.chartRegistries, imageProviders)`])
  })

  test("without a config, a watcher file's providers cannot be checked", async () => {
    const { watcher } = setup()
    expect((await validate([], [watcher("nowhere")])).errors).toEqual([])
  })

  test.each(["passwordFile", "sshKeyFile"])("a missing spec.git.%s is a warning", async (key) => {
    const { dir, config } = setup(`    username: piped\n    ${key}: ${"/nonexistent/secret"}\n`)
    const found = await validate([config], [])
    expect(found.errors).toEqual([])
    expect(found.warnings).toEqual([expect.stringContaining(`${config}: cannot read spec.git.${key} /nonexistent/secret`)])
    // A file that is there is no warning.
    const present = setup(`    username: piped\n    ${key}: ${writeFile(dir, "secret", "s3cret\n", 0o600)}\n`)
    expect((await validate([present.config], [])).warnings).toEqual([])
  })

  test("the example watcher file is valid against the example config whose providers it names", async () => {
    const example = (name: string) => new URL(`../../pipelines/${name}`, import.meta.url).pathname
    const found = await validate([example("rfc-example.yaml")], [example("imagewatcher-example.yaml")])
    expect(found.errors).toEqual([])
  })

  test("a gitRepos entry naming no repository is a warning at its line, not an error", async () => {
    const { config } = setup(undefined, "  imageWatcher:\n    gitRepos:\n      - repoId: config\n      - repoID: elsewhere\n")
    const found = await validate([config], [])
    expect(found.errors).toEqual([])
    expect(found.warnings).toEqual([expect.stringMatching(/:\d+: spec\.imageWatcher\.gitRepos\[1\]\.repoId: no repository "elsewhere" in spec\.repositories; this entry is skipped$/)])
  })

  describe("spec.git.knownHostsFile, the only host keys ssh trusts", () => {
    const key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    test.each<readonly [string, string | undefined, ReadonlyArray<string>, ReadonlyArray<string>]>([
      ["a usable file", `# keys of the git host
[git.test]:2222 ssh-ed25519 ${key}
|1|c2FsdA==|aGFzaA== ecdsa-sha2-nistp256 ${key}
@cert-authority *.test ssh-rsa ${key}
`, [], []],
      ["a file that is not there", undefined, [], ["cannot read spec.git.knownHostsFile KH: no such file"]],
      ["a line without a key", `git.test ssh-ed25519 ${key}
git.test ssh-ed25519
`, ["spec.git.knownHostsFile KH: line 2: expected \"HOSTS KEY-TYPE BASE64-KEY\", as ssh-keyscan prints it"], []],
      ["a key type ssh does not know", `git.test ed25519 ${key}
`, ["spec.git.knownHostsFile KH: line 1: \"ed25519\" is not an ssh key type (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...)"], []],
      ["a key that is not base64", "git.test ssh-ed25519 not*base64\n", ["spec.git.knownHostsFile KH: line 1: the key is not base64"], []],
      ["only comments", "# nothing yet\n\n", [], ["spec.git.knownHostsFile KH: holds no host key, so every ssh host is refused"]]
    ])("%s", async (_, text, errors, warnings) => {
      const dir = tempDir("runner-validate-")
      const file = text === undefined ? `${dir}/absent` : writeFile(dir, "known_hosts", text)
      const { config } = setup(`    username: piped\n    knownHostsFile: ${file}\n`)
      const found = await validate([config], [])
      const expand = (lines: ReadonlyArray<string>) => lines.map((line) => `${config}: ${line.replace("KH", file)}`)
      expect(found.errors).toEqual(expand(errors))
      expect(found.warnings).toEqual(expand(warnings))
    })
  })

  describe("a secret file its group or others may read is a warning", () => {
    test.each<readonly [string, number, boolean]>([
      ["owner only (0600)", 0o600, false],
      ["owner read-only (0400)", 0o400, false],
      ["group-readable (0640)", 0o640, true],
      ["world-readable (0644)", 0o644, true],
      ["others only (0604)", 0o604, true]
    ])("%s", async (_, mode, warned) => {
      const dir = tempDir("runner-validate-")
      const secret = (name: string) => writeFile(dir, name, "s3cret\n", mode)
      const [password, key, token] = [secret("password"), secret("ssh-key"), secret("token")]
      const config = writePipedConfig(dir, {
        repoId: "config",
        remote: "https://git.test/org/config.git",
        providers: ociProvider("registry", "https://gcr.io", { config: ["username: ci", `passwordFile: ${secret("registry-password")}`] }),
        git: `    username: piped\n    passwordFile: ${password}\n    sshKeyFile: ${key}\n`,
        imageWatcher: `  imageWatcher:\n    gitRepos:\n      - repoId: config\n        pullRequest:\n          provider: gitea\n          tokenFile: ${token}\n`
      })
      const found = await validate([config], [])
      expect(found.errors).toEqual([])
      const shown = `(mode ${mode.toString(8).padStart(4, "0")}); a secret belongs in a file only its owner reads: chmod 600`
      expect(found.warnings).toEqual(
        warned
          ? [
            expect.stringMatching(new RegExp(`provider registry: passwordFile ${dir}/registry-password is open to group or others`)),
            `${config}: spec.git.passwordFile ${password} is open to group or others ${shown}`,
            `${config}: spec.git.sshKeyFile ${key} is open to group or others ${shown}`,
            `${config}: the pullRequest tokenFile of config: ${token} is open to group or others ${shown}`
          ]
          : []
      )
    })
  })

  test("a pullRequest that cannot work is an error at its file, line and key", async () => {
    const pullRequest = (keys: string) => `  imageWatcher:\n    gitRepos:\n      - repoId: config\n        pullRequest:\n          tokenFile: /etc/piped-secret/token\n${keys}`
    const good = setup(undefined, pullRequest("          provider: gitea\n"))
    expect((await validate([good.config], [])).errors).toEqual([])
    const bad = setup(undefined, pullRequest("          provider: github\n          apiURL: https://bot:ghp_Tok3n@api.github.com\n"))
    const found = await validate([bad.config], [])
    expect(found.errors).toEqual([
      `${bad.config}:19: spec.imageWatcher.gitRepos[0].pullRequest.apiURL: credentials are not allowed in apiURL; the token belongs in tokenFile`
    ])
    expect(found.errors.join("\n")).not.toContain("Tok3n")
  })

  test("a pullRequest tokenFile that cannot be read here is a warning, one that can is none", async () => {
    const pullRequest = (file: string) => `  imageWatcher:\n    gitRepos:\n      - repoId: config\n        pullRequest:\n          provider: gitea\n          tokenFile: ${file}\n`
    const missing = setup(undefined, pullRequest("/nonexistent/token"))
    const found = await validate([missing.config], [])
    expect(found.errors).toEqual([])
    expect(found.warnings).toEqual([expect.stringContaining(`${missing.config}: cannot read the pullRequest tokenFile /nonexistent/token of config`)])
    const present = setup(undefined, pullRequest(writeFile(missing.dir, "token", "t0ken\n", 0o600)))
    expect((await validate([present.config], [])).warnings).toEqual([])
  })

  /** A keyless gate whose subject line (the 20th of the config) is `subject`. */
  const keyless = (subject: string) =>
    `  imageWatcher:\n    gates:\n      - images: ["gcr.io/org/**"]\n        cosign:\n          trustedRootFile: /etc/runner/trusted_root.json\n` +
    `          identity:\n            issuer: https://token.actions.githubusercontent.com\n            ${subject}\n`

  test.each([
    ["no $", `subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main"`],
    ["no ^", `subjectPattern: "https://github.com/org/repo/.+@refs/heads/main$"`]
  ])("an unanchored subjectPattern (%s) is an error at its file and line", async (_name, subject) => {
    const { config } = setup(undefined, keyless(subject))
    const found = await validate([config], [])
    expect(found.errors).toEqual([expect.stringMatching(/subjectPattern must be anchored, starting with \^ and ending with \$/)])
    expect(found.errors[0]).toStartWith(`${config}:20: spec.imageWatcher.gates[0].cosign.identity.subjectPattern: `)
  })

  test.each([`subjectPattern: "^https://github.com/org/repo/.+@refs/heads/main$"`, "subject: https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main"])(
    "%s is accepted",
    async (subject) => {
      expect((await validate([setup(undefined, keyless(subject)).config], [])).errors).toEqual([])
    }
  )

  describe("a cosign gate over a field of the tag alone", () => {
    const gates = (pinDigest: string, images = "gcr.io/org/**") =>
      `  imageWatcher:\n    gates:\n      - images: ["${images}"]\n        cosign: { publicKeyFile: /etc/runner/cosign.pub }\n${pinDigest}`
    const tagTarget = (format: string) => ({ image: "gcr.io/org/app", provider: "registry", filePath: "values.yaml", field: "$.image.tag", format })
    const UNPINNABLE =
      "gate %CONFIG%:15 verifies cosign signatures and pins the verified digest, but field $.image.tag of values.yaml holds the tag alone " +
      "(format: tag), where no digest can be written: set pinDigest: false on the gate to write such tags unpinned"

    test.each([
      ["pinDigest left to its default", "", "tag", "gcr.io/org/**", true],
      ["pinDigest: true", "        pinDigest: true\n", "tag", "gcr.io/org/**", true],
      ["pinDigest: false", "        pinDigest: false\n", "tag", "gcr.io/org/**", false],
      ["a field that holds the image", "", "image", "gcr.io/org/**", false],
      ["a field that holds the digest", "", "digest", "gcr.io/org/**", false],
      ["a gate over other images", "", "tag", "ghcr.io/**", false],
      ["a gate over the image as written with :443", "", "tag", "gcr.io:443/org/*", true]
    ])("%s", async (_name, pinDigest, format, images, refused) => {
      const { dir, config } = setup(undefined, gates(pinDigest, images))
      const watcher = writeFile(dir, "w.yaml", watcherFile([tagTarget(format)]))
      const found = await validate([config], [watcher])
      expect(found.errors).toEqual(refused ? [`${watcher}:5: ${UNPINNABLE.replace("%CONFIG%", config)}`] : [])
    })
  })
})
