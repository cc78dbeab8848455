/**
 * The main job end to end on the embedded default, with no network: a local bare git
 * repository as the remote, and the built-in tag store as the image provider.
 *
 *   npm run demo              (builds dist/runner and runs it)
 *   bun scripts/demo.ts       (runs the source with bun)
 *   bun scripts/demo.ts PATH  (runs the binary at PATH)
 */
import { $ } from "bun"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const runner = process.argv[2] === undefined ? [process.execPath, resolve("src/main.ts")] : [resolve(process.argv[2])]
const dir = mkdtempSync(join(tmpdir(), "runner-demo-"))
const remote = join(dir, "config.git")
const work = join(dir, "seed")

const step = (text: string) => console.log(`\n\x1b[1m== ${text}\x1b[0m`)

step(`a git repository with a deployment and an ImageWatcher file (remote: ${remote})`)
await $`git init -q --bare -b main ${remote} && git init -q -b main ${work}`
await $`mkdir -p ${work}/helloworld ${work}/.pipe`
writeFileSync(
  join(work, "helloworld/deployment.yaml"),
  `apiVersion: apps/v1
kind: Deployment
metadata:
  name: helloworld
spec:
  template:
    spec:
      containers:
        - name: helloworld
          image: gcr.io/pipecd/helloworld:0.1.0 # kept up to date by runner
`
)
writeFileSync(
  join(work, ".pipe/imagewatcher.yaml"),
  `apiVersion: pipecd.dev/v1beta1
kind: ImageWatcher
spec:
  targets:
    - image: gcr.io/pipecd/helloworld
      provider: ci
      filePath: helloworld/deployment.yaml
      field: $.spec.template.spec.containers[0].image
`
)
await $`git -C ${work} add -A && git -C ${work} -c user.name=dev -c user.email=dev@example.com commit -qm "Add helloworld" && git -C ${work} push -q ${remote} main`
console.log((await $`cat ${work}/helloworld/deployment.yaml`.text()).trimEnd())

const config = join(dir, "piped.yaml")
writeFileSync(
  config,
  `apiVersion: pipecd.dev/v1beta1
kind: Piped
spec:
  git:
    username: runner-demo
    email: runner-demo@example.com
  repositories:
    - repoId: config
      remote: file://${remote}
      branch: main
  imageProviders:
    - name: ci
      type: STORE
      config:
        path: ${join(dir, "tags")}
  imageWatcher:
    checkInterval: 1m
    gitRepos:
      - repoId: config
`
)

step("CI registers new tags in the built-in tag store")
for (const tag of ["0.1.1", "0.2.0", "0.3.0-rc.1"]) {
  await $`${runner} notify --config ${config} --provider ci --image gcr.io/pipecd/helloworld --tag ${tag}`
}

step("runner --once: one pass, then a report")
const data = join(dir, "data")
await $`${runner} --once --config ${config} --data-dir ${data}`.nothrow()

step("the commit it pushed to the remote")
await $`git --git-dir ${remote} log -1 --stat -p --format=${"commit %H%nAuthor: %an <%ae>%n%n    %s%n"}`

step("a second pass finds nothing to do")
await $`${runner} --once --config ${config} --data-dir ${data}`.nothrow()
console.log(`\n(demo files are in ${dir})`)
if (process.argv[2] !== undefined) {
  const binary = process.argv[2]
  console.log(`\nThe runner you just watched is ${binary}, one self-contained executable. Try:
  ${binary} --help
  ${binary} validate --config ${config}
  ${binary} --once --dry-run --config ${config} --data-dir ${data}`)
}
