/** Piped configs and ImageWatcher files for integration tests, written the way users write them, and decoded pieces of them. */
import { Duration } from "effect"
import type { DeclaredProvider, EcrProvider, ProviderConfig } from "../../src/domain/ProviderConfig.ts"
import { DEFAULT_POLICY, type Target } from "../../src/domain/Target.ts"
import { writeFile } from "./runner.ts"

export interface PipedOptions {
  readonly repoId: string
  readonly remote: string
  /** YAML list items under `imageProviders` (see `ociProvider`, `storeProvider`). */
  readonly providers: string
  /** Lines under `spec.git`, indented by four spaces. */
  readonly git?: string
  /** The whole `imageWatcher` section, indented by two spaces; none by default. */
  readonly imageWatcher?: string
  /** Other lines of `spec` (Piped's own settings, which the runner ignores). */
  readonly spec?: string
}

/** A `kind: Piped` config of one repository, as `dir/piped.yaml`. */
export const writePipedConfig = (dir: string, o: PipedOptions): string =>
  writeFile(
    dir,
    "piped.yaml",
    `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
${o.spec ?? ""}${o.git === undefined ? "" : `  git:\n${o.git}`}  repositories:
    - repoId: ${o.repoId}
      remote: ${o.remote}
      branch: main
  imageProviders:
${o.providers}
${o.imageWatcher ?? ""}`
  )

/** `imageWatcher` with only a check interval. */
export const checkEvery = (interval: string) => `  imageWatcher:\n    checkInterval: ${interval}\n`

/** The shipped spelling of `imageWatcher`, naming the repository. */
export const shippedWatcher = (repoId: string, interval: string) => `${checkEvery(interval)}    gitRepos:\n      - repoId: ${repoId}\n`

/** An `OCI` provider; `config` holds more `key: value` entries of its config. */
export const ociProvider = (
  name: string,
  address: string,
  options: { readonly interval?: string; readonly config?: ReadonlyArray<string> } = {}
) =>
  [
    `    - name: ${name}`,
    "      type: OCI",
    ...(options.interval === undefined ? [] : [`      interval: ${options.interval}`]),
    "      config:",
    `        address: ${address}`,
    ...(options.config ?? []).map((c) => `        ${c}`)
  ].join("\n")

/** A tag store provider. */
export const storeProvider = (name: string, interval: string) => `    - name: ${name}\n      type: STORE\n      interval: ${interval}`

/** An ImageWatcher file; each target's keys are written as flow YAML values. */
export const watcherFile = (targets: ReadonlyArray<Record<string, unknown>>) =>
  `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
${targets
  .map((t) =>
    Object.entries(t)
      .map(([k, v], i) => `${i === 0 ? "    - " : "      "}${k}: ${JSON.stringify(v)}`)
      .join("\n")
  )
  .join("\n")}
`

/** A decoded OCI provider as the pipeline sees it, with `fields` changed. */
export const providerConfig = (fields: Partial<DeclaredProvider>): ProviderConfig => ({
  name: "p",
  type: "OCI",
  interval: Duration.minutes(5),
  insecure: false,
  source: { file: "piped.yaml", line: 1 },
  ...fields
})

/** A decoded ECR provider named `p`, with none of its own settings. */
export const ecrProviderConfig: EcrProvider = {
  name: "p",
  type: "ECR",
  interval: Duration.minutes(5),
  insecure: false,
  source: { file: "piped.yaml", line: 1 }
}

/** A decoded watcher-file target as the pipeline sees it: `image` in `app.yaml`'s `image` field through `registry`, with `fields` changed. */
export const targetConfig = (fields: Partial<Target>): Target => ({
  image: "gcr.io/org/app",
  provider: "registry",
  filePath: "app.yaml",
  field: "image",
  policy: DEFAULT_POLICY,
  excludeTags: [],
  allowDowngrade: false,
  format: "image",
  source: { file: ".pipe/w.yaml", line: 5 },
  ...fields
})
