import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { readFileSync } from "node:fs"
import { parseArgs } from "../../src/args.ts"
import { PACKAGE_VERSION } from "../../src/version.ts"

type Env = Record<string, string>

const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>, Env, Record<string, unknown> | string]> = [
  ["once with two configs", ["--config", "a.yaml", "--config=b", "--once"], {}, { _tag: "Run", configs: ["a.yaml", "b"], once: true, dryRun: false }],
  ["env fallbacks", [], { RUNNER_CONFIG: "a.yaml, b.yaml", RUNNER_ONCE: "true", RUNNER_DRY_RUN: "1", RUNNER_DATA_DIR: "/d", RUNNER_LOG_FORMAT: "json" }, { configs: ["a.yaml", "b.yaml"], once: true, dryRun: true, dataDir: "/d", logFormat: "json" }],
  ["flags win over env", ["--config", "x", "--log-level", "debug"], { RUNNER_CONFIG: "y", RUNNER_LOG_LEVEL: "warn" }, { configs: ["x"], logLevel: "debug" }],
  ["defaults", ["--config", "x"], {}, { once: false, dryRun: false, logFormat: "text", logLevel: "info", dataDir: undefined }],
  ["help wins", ["--config", "x", "--help"], {}, { _tag: "Help" }],
  ["version", ["--version"], {}, { _tag: "Version" }],
  ["no config", ["--once"], {}, "no config given"],
  ["unknown flag", ["--config", "x", "--frobnicate"], {}, "unknown option --frobnicate"],
  ["missing value", ["--config"], {}, "--config needs a value"],
  ["bad log format", ["--config", "x", "--log-format", "xml"], {}, "--log-format must be one of text, json"],
  ["stray argument", ["--config", "x", "extra"], {}, "unexpected argument extra"],
  ["data dir twice", ["--config", "x", "--data-dir", "a", "--data-dir", "b"], {}, "--data-dir given more than once"],
  ["validate", ["validate", "--config", "p.yaml", "w.yaml"], {}, { _tag: "Validate", configs: ["p.yaml"], watcherFiles: ["w.yaml"] }],
  ["validate nothing", ["validate"], {}, "validate needs"],
  ["validate --list-targets", ["validate", "--config", "p.yaml", "--list-targets"], {}, { _tag: "Validate", configs: ["p.yaml"], watcherFiles: [], listTargets: true }],
  ["validate --list-targets alone: the .pipe/ files", ["validate", "--list-targets"], {}, { _tag: "Validate", configs: [], watcherFiles: [], listTargets: true }],
  ["--list-targets is validate's", ["--config", "p", "--list-targets"], {}, "--list-targets does not apply to runner"],
  ["validate refuses --once", ["validate", "--config", "p", "--once"], {}, "--once does not apply to validate"],
  ["notify offline", ["notify", "--config", "p", "--provider", "ci", "--image", "nginx", "--tag", "1"], {}, { _tag: "Notify", provider: "ci", image: "nginx", tag: "1", digest: undefined }],
  ["notify needs a tag", ["notify", "--config", "p", "--provider", "ci", "--image", "nginx"], {}, "notify needs --image and --tag"],
  ["notify needs a provider", ["notify", "--config", "p", "--image", "nginx", "--tag", "1"], {}, "notify needs --config FILE and --provider NAME"],
  ["notify a running runner", ["notify", "--address", "http://r:8080", "--token-file", "t", "--image", "nginx", "--tag", "1"], {}, { _tag: "Notify", remote: { address: "http://r:8080", tokenFile: "t" }, provider: undefined }],
  ["notify address from env", ["notify", "--image", "nginx", "--tag", "1"], { RUNNER_ADDRESS: "http://r", RUNNER_TOKEN_FILE: "t" }, { remote: { address: "http://r", tokenFile: "t" } }],
  ["notify --address needs a token file", ["notify", "--address", "http://r", "--image", "nginx", "--tag", "1"], {}, "notify --address needs --token-file"],
  ["notify takes one target", ["notify", "--address", "http://r", "--token-file", "t", "--config", "p", "--provider", "ci", "--image", "nginx", "--tag", "1"], {}, "either --address"],
  ["offline notify has no remote", ["notify", "--config", "p", "--provider", "ci", "--image", "nginx", "--tag", "1"], {}, { remote: undefined }],
  ["listen and api token", ["--config", "x", "--listen", ":8080", "--api-token-file", "/t"], {}, { listen: ":8080", apiTokenFile: "/t" }],
  ["listen from env", ["--config", "x"], { RUNNER_LISTEN: ":9090", RUNNER_API_TOKEN_FILE: "/t" }, { listen: ":9090", apiTokenFile: "/t" }],
  ["listen is for the daemon", ["--config", "x", "--once", "--listen", ":8080"], {}, "does not apply to --once"],
  ["explain an image", ["explain", "--config", "p", "nginx"], {}, { _tag: "Explain", configs: ["p"], image: "nginx", file: undefined, logLevel: "info" }],
  ["explain an image in one file", ["explain", "--config", "p", "--data-dir", "d", "nginx", "app.yaml"], {}, { _tag: "Explain", image: "nginx", file: "app.yaml", dataDir: "d" }],
  ["explain config from env", ["explain", "nginx"], { RUNNER_CONFIG: "p" }, { _tag: "Explain", configs: ["p"] }],
  ["explain needs an image", ["explain", "--config", "p"], {}, "explain needs the IMAGE"],
  ["explain needs a config", ["explain", "nginx"], {}, "no config given"],
  ["explain takes one file", ["explain", "--config", "p", "nginx", "a.yaml", "b.yaml"], {}, "unexpected argument b.yaml"],
  ["explain never commits", ["explain", "--config", "p", "--once", "nginx"], {}, "--once does not apply to explain"],
  ["api token needs listen", ["--config", "x", "--api-token-file", "/t"], {}, "--api-token-file needs --listen"],
  ["webhook secret", ["--config", "x", "--listen", ":8080", "--webhook-secret-file", "/s"], {}, { listen: ":8080", webhookSecretFile: "/s", apiTokenFile: undefined }],
  ["webhook secret from env", ["--config", "x", "--listen", ":8080"], { RUNNER_WEBHOOK_SECRET_FILE: "/s" }, { webhookSecretFile: "/s" }],
  ["webhook secret flag wins over env", ["--config", "x", "--listen", ":8080", "--webhook-secret-file=/f"], { RUNNER_WEBHOOK_SECRET_FILE: "/e" }, { webhookSecretFile: "/f" }],
  ["webhook secret by default none", ["--config", "x", "--listen", ":8080"], {}, { webhookSecretFile: undefined }],
  ["webhook secret needs listen", ["--config", "x", "--webhook-secret-file", "/s"], {}, "--webhook-secret-file needs --listen"],
  ["webhook secret from env needs listen", ["--config", "x"], { RUNNER_WEBHOOK_SECRET_FILE: "/s" }, "--webhook-secret-file needs --listen"],
  ["webhook secret is for the daemon", ["--config", "x", "--once", "--webhook-secret-file", "/s"], {}, "--webhook-secret-file needs --listen"],
  ["webhook secret needs a value", ["--config", "x", "--listen", ":1", "--webhook-secret-file"], {}, "--webhook-secret-file needs a value"],
  ["webhook secret given twice", ["--config", "x", "--listen", ":1", "--webhook-secret-file", "a", "--webhook-secret-file", "b"], {}, "--webhook-secret-file given more than once"],
  ["webhook secret is not for notify", ["notify", "--address", "http://r", "--token-file", "t", "--image", "nginx", "--tag", "1", "--webhook-secret-file", "s"], {}, "--webhook-secret-file does not apply to notify"]
]

describe("parseArgs", () => {
  test.each(cases)("%s", (_name, argv, env, expected) => {
    const parsed = parseArgs(argv, env)
    if (typeof expected === "string") {
      expect(Either.isLeft(parsed) ? parsed.left.message : "parsed").toContain(expected)
    } else {
      expect(Either.getOrThrow(parsed)).toMatchObject(expected)
    }
  })
})

test("the version matches package.json", () => {
  expect(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version).toBe(PACKAGE_VERSION)
})
