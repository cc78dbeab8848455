/**
 * The default policy on tag histories modelled on real images, part one: databases and language
 * runtimes. Tags are listed in the order the projects released them, older lines' patch releases
 * after a newer line's first where the project ships them so; each is dated a day after the one
 * before it. Kubernetes, OS bases and applications are in realisticPlatform.test.ts.
 */
import { each, realisticTable, type RealisticRow } from "../support/defaultPolicy.ts"

// Quarterly minors of every supported major on one day; aliases re-pushed at each release.
const postgres = [
  ...each(["15.4", "16.0", "15.5", "16.1"], ["", "-bookworm", "-alpine"]),
  ...each(["15.6", "16.2"], ["", "-bookworm", "-alpine", "-alpine3.19"]),
  "15", "15-bookworm", "15-alpine", "16", "16-bookworm", "16-alpine", "latest", "alpine", "bookworm"
]
// 8.0 LTS patched beside the innovation releases 8.1-8.3, then 8.4 LTS and 9.0 innovation.
const mysql = [
  "8.0.34", "8.1.0", "8.0.35", "8.2.0", "8.0.36", "8.3.0", "8.0.37", "8.4.0", "8.0.38", "8.0.38-debian", "8.4.1", "9.0.0",
  "8.0.39", "8.0.39-debian", "8.0.39-oracle", "8.4.2", "8.4.2-oracle", "9.0.1",
  "8.0", "8.0-debian", "8.4", "9.0", "8", "9", "lts", "innovation", "oracle", "latest"
]
// Long-term 10.6, 10.11 and 11.4 beside yearly 11.x lines, all patched on the same days.
const mariadb = [
  "10.6.16", "10.11.6", "11.0.4", "11.1.3", "11.2.2",
  "10.6.17", "10.11.7", "11.0.5", "11.1.4", "11.2.3", "11.3.2",
  "10.6.18", "10.11.8", "10.11.8-jammy", "11.0.6", "11.1.5", "11.2.4", "11.4.2", "11.4.2-noble",
  "10.6", "10.11", "11.4", "10", "11", "lts", "latest"
]
const mongo = [
  "6.0.12", "7.0.4", "6.0.13", "6.0.13-jammy", "7.0.5", "7.0.5-jammy", "7.0.5-windowsservercore-ltsc2022",
  "6.0", "7.0", "6", "7", "latest"
]
const redis = [
  "7.0.12", "7.2.0", "7.0.13", "7.2.1", ...each(["7.0.14", "7.2.3", "7.0.15", "7.2.4"], ["", "-alpine", "-bookworm"]),
  "7.0", "7.2", "7", "7.2-alpine", "alpine", "latest"
]
// Elastic patches only the newest 8.x minor; 7.17 is the 7.x line kept alive.
const elasticsearch = ["7.17.16", "8.11.3", "8.11.4", "8.12.0", "7.17.17", "8.12.1", "7.17.18", "8.12.2"]
// Two LTS lines (23.3, 23.8) and the three newest stable lines patched; four numbers.
const clickhouse = [
  "23.3.19.32", "23.8.8.20", "23.11.3.23", "23.12.1.1368", "23.8.9.54", "23.11.4.24", "23.12.2.59", "24.1.1.2048",
  "23.3.20.27", "23.8.10.43", "24.1.2.5", "24.1.2.5-alpine", "23.8", "23.12", "24.1", "23.8-alpine", "latest", "head"
]
const cassandra = ["3.11.16", "4.0.11", "4.1.3", "4.0.12", "3.11.17", "4.1.4", "5.0-beta1", "3.11", "4.0", "4.1", "3", "4", "latest"]
const etcd = ["v3.4.27", "v3.5.10", "v3.4.28", "v3.5.11", "v3.5.12", "v3.4.29", "v3.5.12-arm64"]
// Even majors are LTS; a major's minors replace each other.
const node = [
  ...each(["18.18.2", "20.9.0", "21.1.0", "18.19.0", "20.10.0", "21.4.0", "20.11.0", "21.6.0", "18.19.1", "20.11.1", "21.6.2", "18.20.0", "20.12.0", "21.7.1", "22.0.0", "20.12.2", "18.20.2", "22.1.0"], ["", "-alpine3.19", "-bookworm-slim"]),
  "20", "20-alpine", "20-bookworm-slim", "18", "22", "lts", "lts-alpine", "current", "iron", "hydrogen", "alpine", "latest"
]
// 3.11 had bug-fix releases for six months after 3.12.0.
const python = [
  ...each(["3.11.6", "3.12.0", "3.11.7", "3.12.1", "3.11.8", "3.12.2", "3.11.9", "3.12.3", "3.13.0b1"], ["", "-slim", "-slim-bookworm", "-alpine3.19"]),
  "3.11", "3.11-slim-bookworm", "3.12", "3.12-slim", "3", "slim", "latest"
]
// Python on the day 3.13.0 shipped: 3.12.7 came out the week before, 3.12.8 two months later.
const python313 = ["3.11.10-slim-bookworm", "3.12.6-slim-bookworm", "3.12.7-slim-bookworm", "3.13.0-slim-bookworm", "3.13-slim-bookworm", "slim-bookworm"]
const temurin = [
  ...each(["11.0.21_9", "17.0.9_9", "21.0.1_12", "11.0.22_7", "17.0.10_7", "21.0.2_13", "17.0.11_9", "21.0.3_9"], ["-jre", "-jdk", "-jre-jammy"]),
  "11-jre", "17-jre", "17-jre-jammy", "21-jre", "17", "21", "jre", "latest"
]
// Go ships its two newest minors' patches on the same day.
const golang = [
  ...each(["1.21.5", "1.22.0", "1.21.7", "1.22.1", "1.21.8", "1.22.2", "1.21.9"], ["", "-alpine", "-alpine3.19", "-bookworm"]),
  "1.21", "1.21-alpine", "1.22", "1.22-alpine", "1.22-bookworm", "1", "alpine", "latest"
]
const php = [
  ...each(["8.1.26", "8.2.13", "8.3.0", "8.1.27", "8.2.14", "8.3.1", "8.2.15", "8.3.2", "8.2.16", "8.3.3"], ["-fpm-alpine", "-fpm-alpine3.19", "-apache"]),
  "8.2-fpm-alpine", "8.3-fpm-alpine", "8-fpm-alpine", "8.2-apache", "fpm-alpine", "apache"
]
const ruby = [
  ...each(["3.2.2", "3.3.0", "3.2.3", "3.3.1", "3.2.4"], ["-slim-bookworm", "-alpine3.19"]),
  "3.2-slim-bookworm", "3.3-slim-bookworm", "slim-bookworm", "latest"
]
// mcr.microsoft.com/dotnet/aspnet: 6.0 LTS, 7.0 STS and 8.0 LTS patched on Patch Tuesday.
const aspnet = [
  ...each(["6.0.25", "7.0.14", "8.0.0", "6.0.26", "7.0.15", "8.0.1", "6.0.27", "7.0.16", "8.0.2"], ["", "-jammy-chiseled", "-alpine3.19"]),
  "6.0", "7.0", "8.0", "8.0-alpine", "8.0-alpine3.19", "8.0-jammy-chiseled", "latest"
]

const rows: ReadonlyArray<RealisticRow> = [
  { image: "postgres", tags: postgres, current: "15.5", expect: "update 15.6", harmless: true, why: "a PostgreSQL minor is a bug-fix release" },
  { image: "postgres", tags: postgres, current: "15.4-alpine", expect: "update 15.6-alpine", harmless: true, why: "alpine and major 15 kept" },
  { image: "postgres", tags: postgres, current: "16.1-bookworm", expect: "update 16.2-bookworm", harmless: true, why: "bookworm kept" },
  { image: "postgres", tags: postgres, current: "15", expect: "floats 15", harmless: true, why: "an alias follows 15.x by itself" },
  { image: "postgres", tags: postgres, current: "15.6-alpine3.19", expect: "uptodate 15.6-alpine3.19", harmless: true, why: "the newest 15 on alpine3.19" },
  { image: "mysql", tags: mysql, current: "8.0.35", expect: "update 8.0.39", harmless: true, why: "8.0 LTS still patched after 8.1.0" },
  { image: "mysql", tags: mysql, current: "8.3.0", expect: "update 8.4.2", harmless: true, why: "innovation 8.3 ended at 8.4.0; 8.4 LTS is its upgrade" },
  { image: "mysql", tags: mysql, current: "8.4.0", expect: "update 8.4.2", harmless: true, why: "8.4 LTS patches, 9.0 is another major" },
  { image: "mysql", tags: mysql, current: "8.0.38-debian", expect: "update 8.0.39-debian", harmless: true, why: "the Debian build kept" },
  { image: "mysql", tags: mysql, current: "8.0", expect: "floats 8.0", harmless: true, why: "an alias of the LTS line" },
  { image: "mysql", tags: mysql, current: "lts", expect: "unranked lts", harmless: true, why: "a word the operator chose" },
  {
    image: "mysql",
    tags: ["8.0.33", "8.0.34", "8.1.0"],
    current: "8.0.33",
    expect: "update 8.0.34",
    harmless: true,
    why: "8.1.0 and 8.0.34 shipped the same day: an LTS user lands on an innovation release"
  },
  { image: "mariadb", tags: mariadb, current: "10.6.16", expect: "update 10.6.18", harmless: true, why: "10.6 LTS still patched" },
  { image: "mariadb", tags: mariadb, current: "10.11.6", expect: "update 10.11.8", harmless: true, why: "10.11 LTS patches" },
  { image: "mariadb", tags: mariadb, current: "11.1.3", expect: "update 11.1.5", harmless: true, why: "11.1 still patched beside 11.2-11.4" },
  { image: "mariadb", tags: mariadb, current: "11.2.2", expect: "update 11.2.4", harmless: true, why: "11.2 still patched after 11.3.2" },
  { image: "mariadb", tags: mariadb, current: "10.11", expect: "floats 10.11", harmless: true, why: "an alias" },
  { image: "mongo", tags: mongo, current: "6.0.12", expect: "update 6.0.13", harmless: true, why: "major 6 kept" },
  { image: "mongo", tags: mongo, current: "7.0.4", expect: "update 7.0.5", harmless: true, why: "a patch" },
  { image: "redis", tags: redis, current: "7.0.12", expect: "update 7.0.15", harmless: true, why: "7.0 patched after 7.2.0" },
  { image: "redis", tags: redis, current: "7.2.3-alpine", expect: "update 7.2.4-alpine", harmless: true, why: "a patch, alpine kept" },
  { image: "elasticsearch", tags: elasticsearch, current: "8.11.3", expect: "update 8.12.2", harmless: true, why: "nothing of 8.11 after 8.12.0: Elastic moved on" },
  { image: "elasticsearch", tags: elasticsearch, current: "7.17.16", expect: "update 7.17.18", harmless: true, why: "major 7 kept" },
  { image: "clickhouse-server", tags: clickhouse, current: "23.8.8.20", expect: "update 23.8.10.43", harmless: true, why: "23.8 LTS kept" },
  { image: "clickhouse-server", tags: clickhouse, current: "23.3.19.32", expect: "update 23.3.20.27", harmless: true, why: "23.3 LTS kept" },
  { image: "clickhouse-server", tags: clickhouse, current: "23.11.3.23", expect: "update 23.11.4.24", harmless: true, why: "23.11 patched after 23.12.1" },
  { image: "clickhouse-server", tags: clickhouse, current: "24.1.1.2048", expect: "update 24.1.2.5", harmless: true, why: "a patch" },
  { image: "cassandra", tags: cassandra, current: "4.0.11", expect: "update 4.0.12", harmless: true, why: "4.0 patched beside 4.1" },
  { image: "cassandra", tags: cassandra, current: "3.11.16", expect: "update 3.11.17", harmless: true, why: "major 3 kept" },
  { image: "cassandra", tags: cassandra, current: "4.1", expect: "floats 4.1", harmless: true, why: "an alias" },
  { image: "etcd", tags: etcd, current: "v3.4.27", expect: "update v3.4.29", harmless: true, why: "3.4 patched after 3.5" },
  { image: "etcd", tags: etcd, current: "v3.5.10", expect: "update v3.5.12", harmless: true, why: "a patch; the arm64 build is another variant" },
  { image: "node", tags: node, current: "20.10.0", expect: "update 20.12.2", harmless: true, why: "a major's minors replace each other" },
  { image: "node", tags: node, current: "18.19.0", expect: "update 18.20.2", harmless: true, why: "18 LTS kept" },
  { image: "node", tags: node, current: "20.11.1-alpine3.19", expect: "update 20.12.2-alpine3.19", harmless: true, why: "alpine3.19 kept" },
  { image: "node", tags: node, current: "20", expect: "floats 20", harmless: true, why: "an alias" },
  { image: "node", tags: node, current: "iron", expect: "unranked iron", harmless: true, why: "a codename floats" },
  { image: "node", tags: node, current: "21.6.0", expect: "update 21.7.1", harmless: true, why: "21 kept, 22 is another major" },
  { image: "python", tags: python, current: "3.11.7-slim-bookworm", expect: "update 3.11.9-slim-bookworm", harmless: true, why: "3.11 patched after 3.12.0" },
  { image: "python", tags: python, current: "3.12.1-slim-bookworm", expect: "update 3.12.3-slim-bookworm", harmless: true, why: "no beta" },
  { image: "python", tags: python, current: "3.11.6", expect: "update 3.11.9", harmless: true, why: "3.11 kept" },
  { image: "python", tags: python, current: "3.12-slim", expect: "floats 3.12-slim", harmless: true, why: "an alias" },
  { image: "python", tags: python, current: "3", expect: "floats 3", harmless: true, why: "an alias" },
  {
    image: "python",
    tags: python313,
    current: "3.12.6-slim-bookworm",
    expect: "update 3.12.7-slim-bookworm",
    harmless: true,
    why: "3.13.0 is a day old and 3.12 is patched for another year: removed modules, missing wheels"
  },
  { image: "eclipse-temurin", tags: temurin, current: "17.0.9_9-jre", expect: "update 17.0.11_9-jre", harmless: true, why: "17 LTS, jre kept" },
  { image: "eclipse-temurin", tags: temurin, current: "17.0.10_7-jre-jammy", expect: "update 17.0.11_9-jre-jammy", harmless: true, why: "jre-jammy kept" },
  { image: "eclipse-temurin", tags: temurin, current: "11.0.21_9-jre", expect: "update 11.0.22_7-jre", harmless: true, why: "11 kept" },
  { image: "eclipse-temurin", tags: temurin, current: "17-jre", expect: "floats 17-jre", harmless: true, why: "an alias" },
  { image: "golang", tags: golang, current: "1.21.5-alpine", expect: "update 1.21.9-alpine", harmless: true, why: "Go patches its two newest minors" },
  { image: "golang", tags: golang, current: "1.22.0", expect: "update 1.22.2", harmless: true, why: "a patch" },
  { image: "golang", tags: golang, current: "1.21-alpine", expect: "floats 1.21-alpine", harmless: true, why: "an alias" },
  { image: "php", tags: php, current: "8.2.13-fpm-alpine", expect: "update 8.2.16-fpm-alpine", harmless: true, why: "8.2 active beside 8.3" },
  { image: "php", tags: php, current: "8.1.26-fpm-alpine", expect: "update 8.1.27-fpm-alpine", harmless: true, why: "8.1 security fixes kept" },
  { image: "php", tags: php, current: "8.2.15-apache", expect: "update 8.2.16-apache", harmless: true, why: "apache kept" },
  { image: "php", tags: php, current: "8.2-fpm-alpine", expect: "floats 8.2-fpm-alpine", harmless: true, why: "an alias" },
  { image: "ruby", tags: ruby, current: "3.2.2-slim-bookworm", expect: "update 3.2.4-slim-bookworm", harmless: true, why: "3.2 patched after 3.3.0" },
  { image: "dotnet/aspnet", tags: aspnet, current: "6.0.25", expect: "update 6.0.27", harmless: true, why: "6.0 LTS kept" },
  { image: "dotnet/aspnet", tags: aspnet, current: "8.0.1-jammy-chiseled", expect: "update 8.0.2-jammy-chiseled", harmless: true, why: "chiseled kept" },
  { image: "dotnet/aspnet", tags: aspnet, current: "8.0-alpine", expect: "floats 8.0-alpine", harmless: true, why: "only versioned as alpine3.19" }
]

realisticTable("databases and language runtimes", rows, [])
