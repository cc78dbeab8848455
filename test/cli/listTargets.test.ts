/** `runner validate --list-targets`, in process: a checkout's working tree, its declared and discovered targets. */
import { describe, expect, test } from "bun:test"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { mkdirSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { listTargets, pipeWatcherFiles } from "../../src/listTargets.ts"
import { ociProvider, writePipedConfig } from "../support/config.ts"
import { writeFile } from "../support/runner.ts"
import { tempDir } from "../support/tempDirs.ts"

const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: ${image}\n`

const WATCHER = `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - image: ghcr.io/acme/api
      provider: ghcr
      filePath: apps/api.yaml
      field: spec.template.spec.containers[0].image
  discover:
    - paths: ["**", "!apps/legacy/**", "!config/**"]
`

/** A checkout's working tree: a declared target, files to discover, an excluded one, a link, and git's own directory. */
const checkout = () => {
  const root = tempDir("runner-list-")
  for (const dir of [".pipe", "apps/legacy", ".git", "config"]) mkdirSync(join(root, dir), { recursive: true })
  writeFile(root, ".pipe/w.yaml", WATCHER)
  writeFile(root, "apps/api.yaml", deployment("ghcr.io/acme/api:1.0.0"))
  writeFile(root, "apps/web.yaml", deployment("ghcr.io/acme/web:2.0.0"))
  writeFile(root, "apps/values.yaml", "image:\n  repository: bitnami/redis\n  tag: 7.2.0\n")
  writeFile(root, "apps/other.yaml", deployment("quay.io/acme/other:1.0.0"))
  writeFile(root, "apps/legacy/old.yaml", deployment("ghcr.io/acme/old:1.0.0"))
  writeFile(root, ".git/stray.yaml", deployment("ghcr.io/acme/git:1.0.0"))
  symlinkSync("web.yaml", join(root, "apps/link.yaml"))
  const config = writePipedConfig(join(root, "config"), {
    repoId: "config",
    remote: "https://git.test/org/config.git",
    providers: [ociProvider("ghcr", "https://ghcr.io"), "    - name: hub\n      type: DOCKER_HUB"].join("\n")
  })
  return { root, config }
}

const run = <A, E>(effect: Effect.Effect<A, E, NodeContext.NodeContext>) => Effect.runPromise(effect.pipe(Effect.provide(NodeContext.layer)))

describe("runner validate --list-targets", () => {
  test("every target, declared then discovered, with its watcher file's line; a registry no provider serves is a note", async () => {
    const { root, config } = checkout()
    const files = await run(pipeWatcherFiles(root))
    expect(files).toEqual([".pipe/w.yaml"])
    expect(await run(listTargets([config], files, root))).toEqual({
      targets: [
        ".pipe/w.yaml:5  apps/api.yaml  spec.template.spec.containers[0].image  ghcr.io/acme/api  declared",
        ".pipe/w.yaml:10  apps/values.yaml  image.tag  bitnami/redis  discovered",
        ".pipe/w.yaml:10  apps/web.yaml  spec.template.spec.containers[0].image  ghcr.io/acme/web  discovered"
      ],
      notes: ["no provider for quay.io"]
    })
  })

  test("discovered chart versions are listed by chart and repository; a chart no repository serves is a note", async () => {
    const { root } = checkout()
    mkdirSync(join(root, "charts/app"), { recursive: true })
    writeFile(root, "charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - {name: nginx, version: 15.1.0, repository: \"@bitnami\"}\n  - {name: redis, version: 17.3.0, repository: \"https://charts.other.example\"}\n")
    const config = writePipedConfig(join(root, "config"), {
      repoId: "config",
      remote: "https://git.test/org/config.git",
      providers: ociProvider("ghcr", "https://ghcr.io"),
      spec: "  chartRepositories:\n    - name: bitnami\n      address: https://charts.example.com/bitnami\n"
    })
    const listed = await run(listTargets([config], [".pipe/w.yaml"], root))
    expect(listed.targets).toContain(".pipe/w.yaml:10  charts/app/Chart.yaml  dependencies[0].version  chart nginx (bitnami)  discovered")
    expect(listed.notes).toContain("no chart repository for https://charts.other.example")
  })

  test("without a config no provider is known: every discovered image is a note", async () => {
    const { root } = checkout()
    const listed = await run(listTargets([], [".pipe/w.yaml"], root))
    expect(listed.targets).toHaveLength(1)
    expect(listed.notes).toEqual(["no provider for docker.io", "no provider for ghcr.io", "no provider for quay.io"])
  })
})
