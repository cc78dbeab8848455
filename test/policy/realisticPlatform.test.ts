/**
 * The default policy on tag histories modelled on real images, part two: Kubernetes components,
 * OS bases and common applications, tags in release order and dated a day apart in that order.
 */
import { each, realisticTable, type RealisticRow } from "../support/defaultPolicy.ts"

// registry.k8s.io: the three newest minors patched on the same days; skew rules bind control planes to a minor.
const kube = [
  "v1.27.8", "v1.28.4", "v1.29.0", "v1.27.9", "v1.28.5", "v1.29.1", "v1.27.10", "v1.28.6", "v1.29.2", "v1.30.0-alpha.3", "v1.30.0-rc.1"
]
const coredns = ["v1.9.3", "v1.10.1", "v1.11.1", "v1.11.3"]
// registry.k8s.io/etcd, kubeadm's build: a lone build number after the version.
const kubeEtcd = ["3.4.13-0", "3.5.9-0", "3.5.10-0", "3.5.12-0", "3.5.15-0"]
const ingressNginx = ["v1.10.1", "v1.11.0", "v1.10.3", "v1.11.1", "v1.10.4", "v1.11.2", "v1.11.3", "v1.12.0", "v1.12.1", "v1.11.5"]
const certManager = ["v1.13.2", "v1.13.3", "v1.14.0", "v1.14.1", "v1.14.2", "v1.13.4", "v1.14.3", "v1.13.5", "v1.14.4"]
const metricsServer = ["v0.6.3", "v0.6.4", "v0.7.0", "v0.7.1"]
// Ubuntu by first release: the LTS 22.04 before the interim 22.10 of the same major.
const ubuntu = ["20.04", "22.04", "22.10", "23.04", "23.10", "24.04", "focal", "jammy", "noble", "jammy-20240111", "jammy-20240227", "rolling", "latest"]
// Ubuntu as the registry dates it: supported releases are rebuilt every few weeks, 22.10 stopped in 2023.
const ubuntuPushed = ["22.10", "23.04", "23.10", "20.04", "24.04", "22.04", "jammy", "noble", "jammy-20240227", "latest"]
const debian = [
  "11.8", "11.8-slim", "12.4", "12.4-slim", "bookworm-20231218", "11.9", "11.9-slim", "12.5", "12.5-slim", "bookworm-20240211",
  "11", "12", "12-slim", "bullseye", "bookworm", "bookworm-slim", "stable", "latest", "trixie"
]
const alpine = ["3.17.6", "3.18.5", "3.19.0", "20231219", "3.16.9", "3.17.7", "3.18.6", "3.19.1", "20240315", "3.17", "3.18", "3.19", "3", "edge", "latest"]
// Alpine on the day 3.20.0 shipped: 3.19.2 and 3.18.7 followed weeks later.
const alpine320 = ["3.18.6", "3.19.0", "3.19.1", "3.20.0", "3.19", "3.20", "latest"]
const fedora = ["38", "39", "40", "rawhide", "latest"]
const rocky = ["8.8", "9.2", "8.9", "9.3", "8", "9"]
const rocky810 = [...rocky, "8.10"]
// Even minors stable, odd minors mainline; the stable line's patches come with mainline's.
const nginx = [
  ...each(["1.24.0", "1.25.0", "1.25.3", "1.25.4", "1.25.5", "1.26.0", "1.27.0", "1.26.1", "1.27.1", "1.26.2", "1.27.2", "1.27.4", "1.26.3"], ["", "-alpine"]),
  "1.26", "1.27", "1", "stable", "mainline", "stable-alpine", "alpine", "latest"
]
const traefik = ["v2.10.7", "v2.11.0", "v3.0.0", "v2.11.2", "v3.0.1", "v2.11.3", "v2.11", "v3.0", "v2", "v3", "latest"]
const grafana = [
  ...each(["10.2.3", "10.3.1", "10.2.4", "10.3.3", "10.4.0", "10.4.1", "10.3.5", "11.0.0", "10.4.2"], ["", "-ubuntu"]),
  "latest", "latest-ubuntu", "main"
]
// 2.45 is Prometheus' long-term line.
const prometheus = ["v2.45.2", "v2.48.0", "v2.48.1", "v2.49.0", "v2.45.3", "v2.49.1", "v2.50.0", "v2.50.1", "v2.45.4", "v2.51.0", "latest", "main"]
const keycloak = ["22.0.5", "23.0.3", "23.0.4", "23.0.6", "23.0.7", "24.0.0", "24.0.1", "24.0.2", "latest", "nightly"]
const nextcloud = [
  ...each(["27.1.5", "28.0.1", "27.1.6", "28.0.2"], ["-apache", "-fpm", "-fpm-alpine"]),
  "27-apache", "28-apache", "27.1-apache", "stable-apache", "production-apache", "apache", "stable", "latest"
]
// The image builds only WordPress' newest release, each on several PHP versions.
const wordpress = [
  ...each(["6.4.2", "6.4.3", "6.5.0", "6.5.2"], ["-php8.1-apache", "-php8.2-apache", "-php8.2-fpm-alpine", "-php8.3-apache"]),
  "6.5-php8.2-apache", "6-php8.2-apache", "php8.2-apache", "php8.2", "latest"
]
const gitea = [...each(["1.21.5", "1.21.7", "1.21.10", "1.21.11", "1.22.0", "1.22.1"], ["", "-rootless"]), "1.21", "1.22", "1", "latest", "latest-rootless"]
const minio = ["RELEASE.2024-01-16T16-07-38Z", "RELEASE.2024-02-17T01-15-57Z", "RELEASE.2024-03-15T01-07-19Z", "latest"]
// Since 1.16, community releases of Vault and Consul patch only the newest minor.
const vault = ["1.15.4", "1.15.5", "1.15.6", "1.16.0", "1.16.1", "1.16.2", "latest"]
const consul = ["1.16.4", "1.17.0", "1.17.1", "1.17.2", "1.18.0", "1.18.1", "latest"]
const rabbitmq = [
  ...each(["3.12.10", "3.12.12", "3.13.0", "3.12.13", "3.13.1"], ["", "-management", "-management-alpine"]),
  "3.12-management", "3.13-management", "3-management", "management", "management-alpine", "latest"
]
const kafka = ["3.7.0", "3.7.1", "3.8.0", "3.8.1", "3.7.2", "3.9.0", "latest"]
const homeAssistant = ["2024.1.5", "2024.2.0b0", "2024.2.0", "2024.2.1", "2024.2.5", "2024.3.0b1", "2024.3.0", "2024.3", "stable", "beta", "dev", "latest"]
// lscr.io/linuxserver/sonarr: the upstream version, then the image's own build counter.
const sonarr = ["4.0.0.748-ls218", "version-4.0.0.748", "4.0.1.929-ls219", "4.0.1.929-ls220", "version-4.0.1.929", "develop", "latest"]
// Bitnami rebuilds a version for each base image update (-rN); 16.2 stops when 16.3 is out.
const bitnamiPostgres = [
  "16.2.0-debian-12-r5", "16.2.0-debian-12-r6", "15.6.0-debian-12-r7", "16.3.0-debian-12-r0", "15.7.0-debian-12-r0", "16.3.0-debian-12-r1",
  "16.3.0", "15.7.0", "16", "15", "latest"
]

const rows: ReadonlyArray<RealisticRow> = [
  { image: "kube-apiserver", tags: kube, current: "v1.28.4", expect: "update v1.28.6", harmless: true, why: "1.28 patched beside 1.29: no skew" },
  { image: "kube-proxy", tags: kube, current: "v1.29.0", expect: "update v1.29.2", harmless: true, why: "a patch, no alpha or rc" },
  { image: "kube-proxy", tags: kube, current: "v1.27.8", expect: "update v1.27.10", harmless: true, why: "1.27 kept" },
  {
    image: "kube-apiserver",
    tags: ["v1.27.8", "v1.28.4", "v1.29.0"],
    current: "v1.28.4",
    expect: "uptodate v1.28.4",
    harmless: true,
    why: "the day v1.29.0 shipped, v1.28.5 six days later: a control-plane minor upgrade nobody reviewed"
  },
  { image: "coredns", tags: coredns, current: "v1.10.1", expect: "update v1.11.3", harmless: true, why: "CoreDNS patches only its newest minor" },
  { image: "etcd (kubeadm)", tags: kubeEtcd, current: "3.5.10-0", expect: "update 3.5.15-0", harmless: true, why: "etcd 3.5 patches" },
  { image: "ingress-nginx controller", tags: ingressNginx, current: "v1.11.3", expect: "update v1.11.5", harmless: true, why: "1.11 patched after 1.12.0" },
  { image: "ingress-nginx controller", tags: ingressNginx, current: "v1.10.1", expect: "update v1.10.4", harmless: true, why: "1.10 patched after 1.11.0" },
  {
    image: "ingress-nginx controller",
    tags: ingressNginx,
    current: "v1.10.4",
    expect: "uptodate v1.10.4",
    harmless: true,
    why: "writes nothing; 1.10 ended but once patched beside 1.11 it is kept, its last fixes missed (newer: v1.12.1)"
  },
  { image: "cert-manager", tags: certManager, current: "v1.13.3", expect: "update v1.13.5", harmless: true, why: "cert-manager patches its two newest minors" },
  { image: "cert-manager", tags: certManager, current: "v1.14.1", expect: "update v1.14.4", harmless: true, why: "a patch" },
  { image: "metrics-server", tags: metricsServer, current: "v0.6.4", expect: "update v0.7.1", harmless: true, why: "one line; 0.x major kept" },
  { image: "ubuntu", tags: ubuntu, current: "22.04", expect: "update 22.10", harmless: false, why: "LTS to an interim release: dated by first release the numbers cannot tell" },
  { image: "ubuntu", tags: ubuntuPushed, current: "22.04", expect: "uptodate 22.04", harmless: true, why: "22.04 rebuilt after 22.10: maintained" },
  { image: "ubuntu", tags: ubuntu, current: "jammy-20240111", expect: "unranked jammy-20240111", harmless: true, why: "a codename and a date: name a policy" },
  { image: "ubuntu", tags: ubuntu, current: "jammy", expect: "unranked jammy", harmless: true, why: "a codename floats" },
  { image: "debian", tags: debian, current: "12.4", expect: "update 12.5", harmless: true, why: "a point release" },
  { image: "debian", tags: debian, current: "11.8-slim", expect: "update 11.9-slim", harmless: true, why: "bullseye kept, slim kept" },
  { image: "debian", tags: debian, current: "12", expect: "floats 12", harmless: true, why: "an alias" },
  { image: "debian", tags: debian, current: "bookworm-20231218", expect: "unranked bookworm-20231218", harmless: true, why: "a dated build: name a policy" },
  { image: "alpine", tags: alpine, current: "3.18.5", expect: "update 3.18.6", harmless: true, why: "3.18 patched after 3.19.0" },
  { image: "alpine", tags: alpine, current: "3.18", expect: "floats 3.18", harmless: true, why: "an alias" },
  { image: "alpine", tags: alpine, current: "20231219", expect: "update 20240315", harmless: true, why: "edge snapshots, a calendar" },
  {
    image: "alpine",
    tags: alpine320,
    current: "3.19.1",
    expect: "uptodate 3.19.1",
    harmless: true,
    why: "the day 3.20.0 shipped, a distribution upgrade while 3.19 is supported for two years"
  },
  { image: "fedora", tags: fedora, current: "39", expect: "update 40", harmless: false, why: "a counter moves, yet 39 is supported a year after 40: a distribution upgrade" },
  { image: "rockylinux", tags: rocky, current: "9.2", expect: "uptodate 9.2", harmless: true, why: "9.3 shipped yesterday: the default waits 30 days before leaving 9.2" },
  { image: "rockylinux", tags: rocky810, current: "9.2", expect: "update 9.3", harmless: true, why: "Rocky stops 9.2 at 9.3: nothing of 9.2 in the months since" },
  { image: "rockylinux", tags: rocky, current: "8.8", expect: "update 8.9", harmless: true, why: "major 8 kept" },
  { image: "nginx", tags: nginx, current: "1.26.1-alpine", expect: "update 1.26.3-alpine", harmless: true, why: "stable kept beside mainline" },
  { image: "nginx", tags: nginx, current: "1.25.4", expect: "update 1.27.4", harmless: true, why: "mainline to mainline" },
  { image: "nginx", tags: nginx, current: "1.24.0", expect: "update 1.27.4", harmless: true, why: "1.24 ended; lands on mainline, which nginx recommends" },
  { image: "nginx", tags: nginx, current: "1.26", expect: "floats 1.26", harmless: true, why: "an alias" },
  { image: "nginx", tags: nginx, current: "stable-alpine", expect: "unranked stable-alpine", harmless: true, why: "a word floats" },
  { image: "traefik", tags: traefik, current: "v2.10.7", expect: "update v2.11.3", harmless: true, why: "2.10 ended; 2.11 is v2's maintained line" },
  { image: "traefik", tags: traefik, current: "v3.0.0", expect: "update v3.0.1", harmless: true, why: "a patch" },
  { image: "traefik", tags: traefik, current: "v2", expect: "floats v2", harmless: true, why: "an alias" },
  { image: "grafana", tags: grafana, current: "10.2.3", expect: "update 10.2.4", harmless: true, why: "a security patch of 10.2" },
  { image: "grafana", tags: grafana, current: "10.3.3-ubuntu", expect: "update 10.3.5-ubuntu", harmless: true, why: "10.3 patched after 10.4.0" },
  { image: "prometheus", tags: prometheus, current: "v2.45.2", expect: "update v2.45.4", harmless: true, why: "the LTS line kept" },
  { image: "prometheus", tags: prometheus, current: "v2.48.1", expect: "update v2.51.0", harmless: true, why: "2.48 ended at 2.49.0" },
  { image: "keycloak", tags: keycloak, current: "23.0.4", expect: "update 23.0.7", harmless: true, why: "major 23 kept" },
  { image: "nextcloud", tags: nextcloud, current: "27.1.5-apache", expect: "update 27.1.6-apache", harmless: true, why: "27 kept; apache kept" },
  { image: "nextcloud", tags: nextcloud, current: "27-apache", expect: "floats 27-apache", harmless: true, why: "an alias" },
  { image: "nextcloud", tags: nextcloud, current: "stable-apache", expect: "unranked stable-apache", harmless: true, why: "a word floats" },
  { image: "wordpress", tags: wordpress, current: "6.4.2-php8.2-apache", expect: "update 6.5.2-php8.2-apache", harmless: true, why: "the image builds only the newest WordPress; PHP 8.2 kept" },
  { image: "wordpress", tags: wordpress, current: "php8.2-apache", expect: "unranked php8.2-apache", harmless: true, why: "a PHP version is not the image's" },
  { image: "gitea", tags: gitea, current: "1.21.5-rootless", expect: "update 1.22.1-rootless", harmless: true, why: "Gitea patches only its newest minor; rootless kept" },
  { image: "minio", tags: minio, current: "RELEASE.2024-01-16T16-07-38Z", expect: "unranked RELEASE.2024-01-16T16-07-38Z", harmless: true, why: "a timestamp in a word: name a policy" },
  { image: "vault", tags: vault, current: "1.15.5", expect: "update 1.16.2", harmless: true, why: "community 1.15 ended at 1.16.0" },
  { image: "consul", tags: consul, current: "1.17.1", expect: "update 1.18.1", harmless: true, why: "community 1.17 ended at 1.18.0" },
  { image: "rabbitmq", tags: rabbitmq, current: "3.12.10-management", expect: "update 3.12.13-management", harmless: true, why: "3.12 kept: 3.13 needs its feature flags first" },
  { image: "rabbitmq", tags: rabbitmq, current: "3.12-management", expect: "floats 3.12-management", harmless: true, why: "an alias" },
  { image: "apache/kafka", tags: kafka, current: "3.7.0", expect: "update 3.7.2", harmless: true, why: "3.7 patched after 3.8.0" },
  { image: "home-assistant", tags: homeAssistant, current: "2024.1.5", expect: "update 2024.3.0", harmless: true, why: "calendar versions move, no beta" },
  { image: "home-assistant", tags: homeAssistant, current: "2024.3", expect: "floats 2024.3", harmless: true, why: "an alias" },
  { image: "linuxserver/sonarr", tags: sonarr, current: "4.0.0.748-ls218", expect: "floats 4.0.0.748-ls218", harmless: true, why: "each build its own variant" },
  { image: "linuxserver/sonarr", tags: sonarr, current: "version-4.0.0.748", expect: "update version-4.0.1.929", harmless: true, why: "a word prefix kept" },
  { image: "bitnami/postgresql", tags: bitnamiPostgres, current: "16.2.0-debian-12-r5", expect: "update 16.3.0-debian-12-r1", harmless: true, why: "a PostgreSQL minor, debian-12 kept" },
  { image: "bitnami/postgresql", tags: bitnamiPostgres, current: "15.6.0-debian-12-r7", expect: "update 15.7.0-debian-12-r0", harmless: true, why: "major 15 kept" }
]

realisticTable("Kubernetes, OS bases and applications", rows, ["ubuntu: 22.04", "fedora: 39"])
