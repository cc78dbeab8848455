import { describe, expect, test } from "bun:test"
import { Duration, Either, Redacted } from "effect"
import { readFileSync } from "node:fs"
import type { Pipeline } from "../../src/config/model.ts"
import { decodePipedConfigs } from "../../src/config/PipedConfig.ts"

const header = "apiVersion: pipecd.dev/v1beta1\nkind: Piped\nspec:\n"
/** A Piped document whose spec body starts on line 4. */
const piped = (body: string) => header + body

const decodeOk = (text: string, file = "piped.yaml"): ReadonlyArray<Pipeline> => {
  const result = decodePipedConfigs(file, text)
  if (Either.isLeft(result)) throw new Error(result.left.map((e) => e.display).join("\n"))
  return result.right
}

const only = (text: string): Pipeline => {
  const pipelines = decodeOk(text)
  expect(pipelines).toHaveLength(1)
  const [pipeline] = pipelines
  if (pipeline === undefined) throw new Error("no pipeline")
  return pipeline
}

const minutes = (d: Duration.Duration) => Duration.toMillis(d) / 60_000

const rfcExample = `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  imageProviders:
    - name: my-dockerhub
      type: DOCKERHUB
      config:
        username: foo
        passwordFile: /etc/piped-secret/dockerhub-pass
    - name: my-gcr
      type: GCR
      config:
        serviceAccountFile: /etc/piped-secret/gcr-service-account
    - name: my-ecr
      type: ECR
      config:
        region: us-west-2
        registryId: default
        credentialsFile: /etc/piped-secret/aws-credentials
        profile: default
  imageWatcher:
    - repoId: foo
      includes:
        - .pipe/imagewatcher-dev.yaml
  repositories:
    - repoId: foo
      remote: git@github.com:org/foo.git
      branch: master
`

describe("the RFC's example Piped config", () => {
  test.each([
    ["as written in the RFC", rfcExample],
    ["as shipped in pipelines/", readFileSync(new URL("../../pipelines/rfc-example.yaml", import.meta.url), "utf8")]
  ])("decodes %s", (_, text) => {
    const [pipeline, ...rest] = decodeOk(text, "rfc.yaml")
    expect(rest).toHaveLength(0)
    expect(pipeline?.name).toBe("rfc.yaml")
    expect(pipeline?.git).toEqual({ username: "piped", email: "pipecd.dev@gmail.com" })
    expect(pipeline?.repositories.map(({ repoId, remote, branch }) => ({ repoId, remote, branch }))).toEqual([
      { repoId: "foo", remote: "git@github.com:org/foo.git", branch: "master" }
    ])
    expect(pipeline?.providers.map(({ interval, source, ...p }) => ({ ...p, minutes: minutes(interval) }))).toEqual([
      { name: "my-dockerhub", type: "DOCKER_HUB", username: "foo", passwordFile: "/etc/piped-secret/dockerhub-pass", minutes: 5 },
      { name: "my-gcr", type: "GCR", insecure: false, serviceAccountFile: "/etc/piped-secret/gcr-service-account", minutes: 5 },
      {
        name: "my-ecr",
        type: "ECR",
        insecure: false,
        region: "us-west-2",
        registryId: "default",
        credentialsFile: "/etc/piped-secret/aws-credentials",
        profile: "default",
        minutes: 5
      }
    ])
    expect(pipeline?.watchedRepos).toEqual([{ repoId: "foo", includes: ["imagewatcher-dev.yaml"], excludes: [] }])
    expect(pipeline !== undefined && minutes(pipeline.checkInterval)).toBe(5)
  })

  test("points providers and repositories at their lines", () => {
    const pipeline = only(rfcExample)
    expect(pipeline.providers.map((p) => p.source)).toEqual([
      { file: "piped.yaml", line: 5 },
      { file: "piped.yaml", line: 10 },
      { file: "piped.yaml", line: 14 }
    ])
    expect(pipeline.repositories.map((r) => r.source)).toEqual([{ file: "piped.yaml", line: 26 }])
  })
})

interface Case {
  readonly name: string
  readonly text: string
  readonly check: (pipeline: Pipeline) => void
}

const valid: ReadonlyArray<Case> = [
  {
    name: "defaults of an empty spec",
    text: piped("  {}\n"),
    check: (p) => {
      expect(p.git).toEqual({ username: "piped", email: "pipecd.dev@gmail.com" })
      expect(p.repositories).toEqual([])
      expect(p.providers).toEqual([])
      expect(p.watchedRepos).toEqual([])
      expect(minutes(p.checkInterval)).toBe(5)
    }
  },
  {
    name: "shipped map form of imageWatcher, bare file names",
    text: piped(`  repositories:
    - repoId: foo
      remote: https://example.com/foo.git
  imageWatcher:
    checkInterval: 1m30s
    gitRepos:
      - repoId: foo
        commitMessage: bump
        includes: [imagewatcher-dev.yaml]
        excludes: [imagewatcher-prod.yaml]
`),
    check: (p) => {
      expect(Duration.toMillis(p.checkInterval)).toBe(90_000)
      expect(p.repositories[0]?.branch).toBe("main")
      expect(p.watchedRepos).toEqual([
        { repoId: "foo", commitMessage: "bump", includes: ["imagewatcher-dev.yaml"], excludes: ["imagewatcher-prod.yaml"] }
      ])
    }
  },
  {
    name: "RFC list form of imageWatcher, .pipe/-prefixed names",
    text: piped(`  repositories:
    - repoId: foo
      remote: https://example.com/foo.git
  imageWatcher:
    - repoId: foo
      includes: [.pipe/a.yaml, b.yaml]
      excludes: [.pipe/c.yml]
`),
    check: (p) => {
      expect(p.watchedRepos).toEqual([{ repoId: "foo", includes: ["a.yaml", "b.yaml"], excludes: ["c.yml"] }])
      expect(minutes(p.checkInterval)).toBe(5)
    }
  },
  {
    name: "DOCKER_HUB and DOCKERHUB both mean Docker Hub; interval and pullInterval both set the interval",
    text: piped(`  imageProviders:
    - name: a
      type: DOCKER_HUB
      interval: 30s
    - name: b
      type: DOCKERHUB
      pullInterval: 1h
`),
    check: (p) => {
      expect(p.providers.map((x) => [x.name, x.type, Duration.toMillis(x.interval)])).toEqual([
        ["a", "DOCKER_HUB", 30_000],
        ["b", "DOCKER_HUB", 3_600_000]
      ])
    }
  },
  {
    name: "OCI and STORE settings; the address loses its trailing slash",
    text: piped(`  imageProviders:
    - name: local
      type: OCI
      config:
        address: http://127.0.0.1:5000/
        insecure: true
        username: ci
        passwordFile: /run/pass
    - name: store
      type: STORE
      config:
        path: /var/lib/runner/tags
    - name: gcr
      type: GCR
      config:
        address: asia.gcr.io
`),
    check: (p) => {
      expect(p.providers.map(({ interval, source, ...rest }) => rest)).toEqual([
        { name: "local", type: "OCI", address: "http://127.0.0.1:5000", insecure: true, username: "ci", passwordFile: "/run/pass" },
        { name: "store", type: "STORE", path: "/var/lib/runner/tags" },
        { name: "gcr", type: "GCR", insecure: false, address: "https://asia.gcr.io" }
      ])
    }
  },
  {
    name: "maxTags on any kind of provider",
    text: piped(`  imageProviders:
    - name: local
      type: OCI
      config: {maxTags: 250000}
    - name: hub
      type: DOCKER_HUB
      config: {maxTags: 5}
    - name: store
      type: STORE
      config: {maxTags: 1000}
    - name: plain
      type: OCI
`),
    check: (p) => {
      expect(p.providers.map((provider) => [provider.name, provider.maxTags])).toEqual([
        ["local", 250_000],
        ["hub", 5],
        ["store", 1000],
        ["plain", undefined]
      ])
    }
  },
  {
    name: "git settings; Piped's host keys accepted; the rest of Piped's spec ignored",
    text: piped(`  projectID: demo
  pipedID: 1234
  pipedKeyFile: /etc/piped-secret/piped-key
  apiAddress: control-plane:443
  platformProviders:
    - name: k8s
      type: KUBERNETES
  git:
    username: bot
    email: bot@example.com
    sshKeyFile: /etc/ssh-key
    passwordFile: /etc/token
    host: github.com
    hostName: github.com
    sshConfigFilePath: /home/piped/.ssh/config
`),
    check: (p) => {
      expect(p.git).toEqual({
        username: "bot",
        email: "bot@example.com",
        sshKeyFile: "/etc/ssh-key",
        passwordFile: "/etc/token",
        host: "github.com",
        hostName: "github.com",
        sshConfigFilePath: "/home/piped/.ssh/config"
      })
    }
  },
  {
    name: "Piped's inline sshKeyData and password, base64-encoded (line breaks allowed), are decoded",
    text: piped(`  git:
    sshKeyData: ${btoa("-----BEGIN KEY-----\nabc\n-----END KEY-----\n").replace(/(.{20})/, "$1\n      ")}
    password: ${btoa("t0ken")}
`),
    check: (p) => {
      expect(p.git.sshKey === undefined ? undefined : Redacted.value(p.git.sshKey)).toBe("-----BEGIN KEY-----\nabc\n-----END KEY-----\n")
      expect(p.git.password === undefined ? undefined : Redacted.value(p.git.password)).toBe("t0ken")
    }
  },
  {
    name: "keys written without a value count as absent",
    text: piped(`  git:
  imageProviders:
    - name: a
      type: OCI
      config:
  imageWatcher:
`),
    check: (p) => {
      expect(p.git.username).toBe("piped")
      expect(p.providers[0]).toMatchObject({ type: "OCI" })
      expect(p.providers[0]).not.toHaveProperty("address")
    }
  }
]

describe("decodePipedConfigs: valid configs", () => {
  test.each(valid)("$name", ({ text, check }) => check(only(text)))

  test("names several pipelines of one file file#N and ignores other kinds", () => {
    const text = `${piped("  {}\n")}---\napiVersion: pipecd.dev/v1beta1\nkind: ImageWatcher\nspec: {}\n---\n${piped("  {}\n")}`
    expect(decodeOk(text, "multi.yaml").map((p) => [p.name, p.file])).toEqual([
      ["multi.yaml#1", "multi.yaml"],
      ["multi.yaml#2", "multi.yaml"]
    ])
  })

  test("a file without Piped documents has no pipelines", () => {
    expect(decodeOk("apiVersion: pipecd.dev/v1beta1\nkind: KubernetesApp\nspec: {}\n")).toEqual([])
  })
})

interface ErrorCase {
  readonly name: string
  readonly text: string
  /** [line, key path, part of the message], in line order. */
  readonly errors: ReadonlyArray<readonly [number | undefined, string, string]>
}

const invalid: ReadonlyArray<ErrorCase> = [
  {
    name: "unknown key in git",
    text: piped("  git:\n    user: bot\n"),
    errors: [[5, "spec.git.user", "unknown key (allowed: username, email"]]
  },
  {
    name: "unknown key in a repository and in a provider",
    text: piped(`  repositories:
    - repoId: foo
      remote: r
      ref: main
  imageProviders:
    - name: a
      type: OCI
      address: http://x
`),
    errors: [
      [7, "spec.repositories[0].ref", "unknown key"],
      [11, "spec.imageProviders[0].address", "unknown key"]
    ]
  },
  {
    name: "unknown key in a provider's config",
    text: piped(`  imageProviders:
    - name: hub
      type: DOCKER_HUB
      config:
        username: u
        address: http://x
`),
    errors: [[9, "spec.imageProviders[0].config.address", "unknown key (allowed: username, passwordFile, dockerConfigFile, rateLimit, endpoint, maxTags)"]]
  },
  {
    name: "an OCI provider with credentials and no registry to bind them to",
    text: piped(`  imageProviders:
    - name: ghcr
      type: OCI
      config:
        username: u
        passwordFile: /p
    - name: docker-config
      type: OCI
      config:
        dockerConfigFile: /c
`),
    errors: [
      [7, "spec.imageProviders[0].config.address", "an OCI provider with credentials must name the registries they are for: set address or hosts"],
      [12, "spec.imageProviders[1].config.address", "set address or hosts"]
    ]
  },
  {
    name: "hosts are host names, without scheme or port",
    text: piped(`  imageProviders:
    - name: ghcr
      type: OCI
      config:
        hosts: [ghcr.io, "https://ghcr.io", "ghcr.io:443", "*.example.com", ""]
`),
    errors: [
      [8, "spec.imageProviders[0].config.hosts[1]", "expected a host name without scheme or port"],
      [8, "spec.imageProviders[0].config.hosts[2]", "expected a host name without scheme or port"],
      [8, "spec.imageProviders[0].config.hosts[4]", "expected a host name without scheme or port"]
    ]
  },
  {
    name: "unknown provider type",
    text: piped(`  imageProviders:
    - name: ok
      type: OCI
    - name: hub
      type: DOCKR
`),
    errors: [[8, "spec.imageProviders[1].type", `expected one of DOCKER_HUB, DOCKERHUB, GCR, ECR, OCI, STORE, got "DOCKR"`]]
  },
  {
    name: "bad durations",
    text: piped(`  imageProviders:
    - name: a
      type: OCI
      interval: 5 minutes
    - name: b
      type: OCI
      pullInterval: 300
  imageWatcher:
    checkInterval: -1m
`),
    errors: [
      [7, "spec.imageProviders[0].interval", `invalid duration "5 minutes"`],
      [10, "spec.imageProviders[1].pullInterval", `expected a duration such as "5m", got 300`],
      [12, "spec.imageWatcher.checkInterval", "must not be negative"]
    ]
  },
  {
    name: "zero interval",
    text: piped("  imageWatcher:\n    checkInterval: 0s\n"),
    errors: [[5, "spec.imageWatcher.checkInterval", "longer than 0"]]
  },
  {
    name: "missing repoId and remote: the line of the item",
    text: piped(`  repositories:
    - repoId: foo
      remote: r
    - branch: main
`),
    errors: [
      [7, "spec.repositories[1].repoId", "required key is missing"],
      [7, "spec.repositories[1].remote", "required key is missing"]
    ]
  },
  {
    name: "duplicate provider name",
    text: piped(`  imageProviders:
    - name: a
      type: OCI
    - name: a
      type: STORE
`),
    errors: [[7, "spec.imageProviders[1].name", `duplicate image provider name "a" (first declared on line 5)`]]
  },
  {
    name: "duplicate repoId",
    text: piped(`  repositories:
    - repoId: foo
      remote: a
    - repoId: foo
      remote: b
`),
    errors: [[7, "spec.repositories[1].repoId", `duplicate repoId "foo"`]]
  },
  {
    name: "repoId and repoID in one repository",
    text: piped(`  repositories:
    - repoId: foo
      repoID: foo
      remote: a
`),
    errors: [[6, "spec.repositories[0].repoID", "repoId and repoID are the same key; give one of them"]]
  },
  {
    name: "repoId and repoID in one gitRepos entry, and in one RFC imageWatcher entry",
    text: `${piped(`  repositories:
    - repoId: foo
      remote: a
  imageWatcher:
    gitRepos:
      - repoID: foo
        repoId: foo
`)}---
${piped(`  imageWatcher:
    - repoId: foo
      repoID: bar
`)}`,
    errors: [
      [9, "spec.imageWatcher.gitRepos[0].repoID", "give one of them"],
      [17, "spec.imageWatcher[0].repoID", "give one of them"]
    ]
  },
  {
    name: "neither repoId nor repoID",
    text: piped(`  repositories:
    - remote: a
  imageWatcher:
    gitRepos:
      - includes: [a.yaml]
`),
    errors: [
      [5, "spec.repositories[0].repoId", "required key is missing"],
      [8, "spec.imageWatcher.gitRepos[0].repoId", "required key is missing"]
    ]
  },
  {
    name: "unknown key in imageWatcher and in a gitRepos item",
    text: piped(`  imageWatcher:
    interval: 5m
    gitRepos:
      - repoId: foo
        include: [a.yaml]
`),
    errors: [
      [5, "spec.imageWatcher.interval", "unknown key (allowed: checkInterval, gitRepos, gates, defaultPolicy, notifications)"],
      [8, "spec.imageWatcher.gitRepos[0].include", "unknown key"]
    ]
  },
  {
    name: "maxTags that is not a positive whole number",
    text: piped(`  imageProviders:
    - name: a
      type: OCI
      config: {maxTags: 0}
    - name: b
      type: ECR
      config: {maxTags: 1.5}
`),
    errors: [
      [7, "spec.imageProviders[0].config.maxTags", "expected a positive number, got 0"],
      [10, "spec.imageProviders[1].config.maxTags", "expected an integer, got 1.5"]
    ]
  },
  {
    name: "wrong value types",
    text: piped(`  git:
    username: [a]
  repositories: {repoId: foo}
  imageProviders:
    - name: local
      type: OCI
      config:
        insecure: "yes"
        address: ftp://host
`),
    errors: [
      [5, "spec.git.username", "expected a string, got [\"a\"]"],
      [6, "spec.repositories", "expected a list"],
      [11, "spec.imageProviders[0].config.insecure", `expected true or false, got "yes"`],
      [12, "spec.imageProviders[0].config.address", "expected an http:// or https:// URL"]
    ]
  },
  {
    name: "credentials in an OCI address are refused without echoing them",
    text: piped(`  imageProviders:
    - name: local
      type: OCI
      config:
        address: https://user:s3cret@registry.example.com
`),
    errors: [[8, "spec.imageProviders[0].config.address", "credentials are not allowed"]]
  },
  {
    name: "interval and pullInterval together",
    text: piped(`  imageProviders:
    - name: a
      type: OCI
      interval: 1m
      pullInterval: 2m
`),
    errors: [[8, "spec.imageProviders[0].pullInterval", "not both"]]
  },
  {
    name: "wrong apiVersion",
    text: "apiVersion: v1\nkind: Piped\nspec: {}\n",
    errors: [[1, "apiVersion", `expected one of pipecd.dev/v1beta1, got "v1"`]]
  },
  {
    name: "missing spec",
    text: "apiVersion: pipecd.dev/v1beta1\nkind: Piped\n",
    errors: [[1, "spec", "required key is missing"]]
  },
  {
    name: "YAML syntax error",
    text: piped("  git:\n    username: a\n    username: b\n"),
    errors: [[6, "", "invalid YAML"]]
  },
  {
    name: "Piped's password that is not base64",
    text: piped("  git:\n    password: not*base64-s3cret\n"),
    errors: [[5, "spec.git.password", "expected base64 (the value is not shown)"]]
  },
  {
    name: "a key both inline and from a file, a password both inline and from a file",
    text: piped(`  git:\n    sshKeyFile: /k\n    sshKeyData: ${btoa("key")}\n    passwordFile: /p\n    password: ${btoa("pw")}\n`),
    errors: [
      [6, "spec.git.sshKeyData", "sshKeyFile and sshKeyData are exclusive"],
      [8, "spec.git.password", "passwordFile and password are exclusive"]
    ]
  },
  {
    name: "errors of several documents are all reported",
    text: `${piped("  git: {user: x}\n")}---\n${piped("  repositories: [{remote: r}]\n")}`,
    errors: [
      [4, "spec.git.user", "unknown key"],
      [9, "spec.repositories[0].repoId", "required key is missing"]
    ]
  }
]

describe("repoID, PipeCD's documented spelling, is taken wherever repoId is", () => {
  test.each([
    ["shipped form", `  repositories:
    - repoID: foo
      remote: a
  imageWatcher:
    gitRepos:
      - repoID: foo
        includes: [a.yaml]
`],
    ["RFC form", `  repositories:
    - repoID: foo
      remote: a
  imageWatcher:
    - repoID: foo
      includes: [a.yaml]
`],
    ["mixed spellings", `  repositories:
    - repoId: foo
      remote: a
  imageWatcher:
    - repoID: foo
      includes: [a.yaml]
`]
  ])("%s", (_, body) => {
    const pipeline = only(piped(body))
    expect(pipeline.repositories.map(({ repoId, remote }) => ({ repoId, remote }))).toEqual([{ repoId: "foo", remote: "a" }])
    expect(pipeline.watchedRepos).toEqual([{ repoId: "foo", includes: ["a.yaml"], excludes: [] }])
    expect(pipeline.warnings).toBeUndefined()
  })
})

describe("a gitRepos entry naming no repository is skipped with a warning, as Piped ran the rest", () => {
  test.each([
    {
      name: "shipped form",
      body: `  repositories:
    - repoId: foo
      remote: a
  imageWatcher:
    gitRepos:
      - repoId: foo
      - repoId: bar
`,
      watched: ["foo"],
      warnings: [`conf/piped.yaml:10: spec.imageWatcher.gitRepos[1].repoId: no repository "bar" in spec.repositories; this entry is skipped`]
    },
    {
      name: "RFC form, repoID spelling",
      body: `  imageWatcher:
    - repoID: bar
`,
      watched: [],
      warnings: [`conf/piped.yaml:5: spec.imageWatcher[0].repoId: no repository "bar" in spec.repositories; this entry is skipped`]
    },
    {
      name: "a pullRequest of a skipped entry is not checked against a repository",
      body: `  imageWatcher:
    - repoId: bar
      pullRequest: {provider: github, tokenFile: /t}
`,
      watched: [],
      warnings: [`conf/piped.yaml:5: spec.imageWatcher[0].repoId: no repository "bar" in spec.repositories; this entry is skipped`]
    }
  ])("$name", ({ body, watched, warnings }) => {
    const result = decodePipedConfigs("conf/piped.yaml", piped(body))
    if (Either.isLeft(result)) throw new Error(result.left.map((e) => e.display).join("\n"))
    expect(result.right.map((p) => p.watchedRepos.map((w) => w.repoId))).toEqual([[...watched]])
    expect(result.right.map((p) => p.warnings)).toEqual([warnings])
  })
})

describe("decodePipedConfigs: errors carry file, line and key path", () => {
  test.each(invalid)("$name", ({ text, errors }) => {
    const result = decodePipedConfigs("conf/piped.yaml", text)
    if (Either.isRight(result)) throw new Error("expected errors, got a pipeline")
    expect(result.left.map((e) => [e.file, e.line, e.path])).toEqual(errors.map(([line, path]) => ["conf/piped.yaml", line, path]))
    result.left.forEach((error, index) => {
      const [line, path, part] = errors[index] ?? []
      expect(error.reason).toContain(part ?? "")
      expect(error.message).toBe(["conf/piped.yaml:" + String(line), path, error.reason].filter((s) => s !== "").join(": "))
    })
  })

  test("a password that is not base64 never reaches the message", () => {
    const result = decodePipedConfigs("p.yaml", invalid.find((c) => c.name.endsWith("not base64"))?.text ?? "")
    expect(Either.isLeft(result)).toBe(true)
    expect(Either.isLeft(result) && result.left.some((e) => e.message.includes("s3cret"))).toBe(false)
  })

  test("secrets in an address never reach the message", () => {
    const result = decodePipedConfigs("p.yaml", invalid.find((c) => c.name.startsWith("credentials"))?.text ?? "")
    expect(Either.isLeft(result) && result.left.some((e) => e.message.includes("s3cret"))).toBe(false)
    expect(Either.isLeft(result)).toBe(true)
  })
})
