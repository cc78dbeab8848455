/** Chart repository indexes in helm's own layout (sigs.k8s.io/yaml: keys sorted, sequences at their key's indent), for tests and the bench. */

export interface IndexVersion {
  readonly version: string
  readonly created: string
  readonly digest: string
}

const entryLines = (chart: string, v: IndexVersion): string =>
  [
    "  - annotations:",
    "      artifacthub.io/changes: |",
    "        - kind: changed",
    "          description: version: 0.0.0-not-this-one",
    "    apiVersion: v2",
    `    appVersion: ${v.version}`,
    `    created: "${v.created}"`,
    "    dependencies:",
    "    - name: common",
    "      repository: oci://registry-1.docker.io/bitnamicharts",
    "      version: 2.x.x",
    `    description: ${chart} packaged by a test, a line long enough that a real index would carry one like it`,
    `    digest: ${v.digest}`,
    "    home: https://example.com",
    "    keywords:",
    `    - ${chart}`,
    "    maintainers:",
    "    - name: Test",
    "      url: https://example.com",
    `    name: ${chart}`,
    "    sources:",
    "    - https://example.com/src",
    "    urls:",
    `    - https://charts.example.com/${chart}-${v.version}.tgz`,
    `    version: ${v.version}`
  ].join("\n") + "\n"

/** An index.yaml of `charts`, each version's lines as helm writes them. */
export const helmIndex = (charts: ReadonlyArray<readonly [string, ReadonlyArray<IndexVersion>]>): string =>
  "apiVersion: v1\nentries:\n" +
  charts.map(([chart, versions]) => `  ${chart}:\n` + versions.map((v) => entryLines(chart, v)).join("")).join("") +
  'generated: "2024-06-01T00:00:00.000000000Z"\n'

/** Never all digits: helm quotes a digest that would read as a number. */
const hex = (n: number) => "f" + n.toString(16).padStart(63, "0")

/** `count` versions of a chart, newest first, created a day apart from 2024-01-01. */
export const versionsOf = (count: number, seed = 0): Array<IndexVersion> =>
  Array.from({ length: count }, (_, i) => {
    const n = count - 1 - i
    const day = new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().replace(".000Z", ".123456789Z")
    return { version: `${Math.floor(n / 100)}.${Math.floor(n / 10) % 10}.${n % 10}`, created: day, digest: hex(seed * 100_000 + n) }
  })

/** An index of `charts` charts of `versions` versions each (about 1.1 KB a version). */
export const bigIndex = (charts: number, versions: number): string =>
  helmIndex(Array.from({ length: charts }, (_, c) => [`chart-${c}`, versionsOf(versions, c)] as const))
