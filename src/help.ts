/** The `--help` text; free of imports so that `--help` answers before the program loads. */
export const HELP = `runner: keeps container image tags in git up to date.

It lists the tags of watched images in container registries, compares them with the image
references in YAML files of git repositories (declared by ImageWatcher files in each
repository's .pipe/ directory), patches the files that lag behind, commits and pushes.

Usage:
  runner [--config FILE|DIR]... [--once] [--dry-run] [--data-dir DIR]
         [--listen ADDR [--api-token-file FILE] [--webhook-secret-file FILE]]
         [--log-format text|json] [--log-level debug|info|warn|error]
  runner validate --config FILE... [--list-targets] [WATCHER_FILE...]
  runner explain --config FILE|DIR... [--data-dir DIR] IMAGE [FILE]
  runner notify --config FILE --provider NAME --image IMAGE --tag TAG [--digest DIGEST]
  runner notify --address URL --token-file FILE --image IMAGE --tag TAG [--digest DIGEST]
  runner --help | --version

Options:
  --config FILE|DIR   Piped config file (kind: Piped), or a directory of them; repeatable.
                      Each kind: Piped document is one pipeline.        [env RUNNER_CONFIG, comma-separated]
  --once              One pass over every pipeline, print a report on stdout, exit. [env RUNNER_ONCE=true]
                      Notifications still queued then get at most 5 seconds more.
  --dry-run           Everything but commit and push; print the unified diff instead.  [env RUNNER_DRY_RUN=true]
  --data-dir DIR      Working copies and the tag store, kept between runs.
                      Default: $XDG_CACHE_HOME/runner or ~/.cache/runner.           [env RUNNER_DATA_DIR]
  --listen ADDR       Serve /healthz, /readyz and /metrics on HOST:PORT, :PORT or PORT
                      (not with --once).                                            [env RUNNER_LISTEN]
  --api-token-file F  Turn on the API (POST /api/v1/images, /api/v1/targets/pause|resume,
                      /api/v1/webhooks/KIND);
                      requests carry this token as a Bearer token.           [env RUNNER_API_TOKEN_FILE]
  --webhook-secret-file F
                      GitHub webhook secret: a delivery to /api/v1/webhooks/github whose
                      X-Hub-Signature-256 verifies needs no token; one that fails is refused,
                      token or not.                                 [env RUNNER_WEBHOOK_SECRET_FILE]
  --log-format FMT    text (default) or json; logs go to stderr.                      [env RUNNER_LOG_FORMAT]
  --log-level LEVEL   debug, info (default), warn or error.                           [env RUNNER_LOG_LEVEL]
  -h, --help          This help.
  --version           Print the version.

Commands:
  validate            Check config files (and ImageWatcher files given as paths) without
                      touching any registry or repository: keys, paths and the gates' cosign
                      key files. Exit 0 when all are valid, 2 otherwise. --list-targets, run
                      at a checkout's root: also the .pipe/ watcher files, then one line per
                      target they declare or discover (spec.discover) in the working tree:
                      FILE:LINE  PATH  FIELD  IMAGE  declared|discovered.
  explain             For the targets of IMAGE (in FILE only, if given): a dry pass that
                      shows how each listed tag was read (version, build, variant,
                      pre-release), which were candidates, which were passed over and why,
                      and why the chosen tag won or nothing moved. Nothing is committed.
  notify              Register a new tag of an image in a STORE provider's tag store
                      (--config, --provider), for CI pipelines that push images; or send
                      it to a running runner's API (--address URL --token-file FILE), which
                      also checks the repositories watching the image at once.

Tag policies (in each ImageWatcher target, else spec.defaultPolicy of its file, else
spec.imageWatcher.defaultPolicy of its pipeline; the default is version: "auto"):
  version: RANGE      tags as people write them, [word-][v]NUMBERS[build][-variant]: keeps the
                      current tag's prefix, variant, number of parts and spelling. "auto" keeps
                      its major and a release line the project still maintains (release dates
                      decide); "^" the newest line of the major; "~" the current line; "*"
                      anything; any other semver range bounds it. Calendar versions and counters
                      move to the highest. Aliases (15 with 15.5 listed), floating tags (latest,
                      sha-...) and variants no other tag shares are left alone.
  semver: RANGE       strict SemVer, as Flux reads it.
  alphabetical: asc|desc, numerical: asc|desc, newest: true

Formats (a target's format): image (default: the field holds name:tag[@digest]), tag, digest;
  kustomize (filePath a kustomization.yaml, no field: the images: entry of the image, matched by
  newName or name, gets newTag); helm (field names a values map: registry/repository must be the
  image, its tag is written).

Charts (a target with chart: NAME instead of image, format tag): provider names an HTTP
  repository of spec.chartRepositories (its index.yaml, kept by ETag), or repository:
  oci://HOST/PATH an OCI registry (credentials: spec.chartRegistries by address, else the image
  provider serving the host). spec.discover finds images and chart versions (app.pipecd.yaml,
  Chart.yaml, Argo CD Applications, Flux HelmReleases) in the files its paths match.

Notifications (spec.imageWatcher.notifications: [{receiver, events, repos, images}]): updated,
  held, failed (first time) and recovered go to Piped's own spec.notifications.receivers (Slack,
  webhooks); what was told is kept in the data dir; deliveries are retried and never block a pass.

Write-back (spec.imageWatcher.gitRepos): a plain push to the branch, or to pushBranch; with
  pullRequest (github, gitlab, gitea, forgejo; tokenFile), each change set goes to a branch of its
  own and a pull or merge request. A request closed unmerged declines its tag; a newer tag
  supersedes it. --dry-run lists the requests it would open or close.

Gates (spec.imageWatcher.gates in the Piped config; minAge on targets too):
  a candidate too new (minAge), without an image for each of the gate's platforms
  (platforms: [linux/amd64, linux/arm64]) or not signed by the cosign key is passed over
  for the best one that passes, or the target stays; the report says why ("held: 1.3.0
  too new (first seen 3m ago, needs 24h)", "held: 1.3.0 has no linux/arm64 image",
  "skipped: 1.3.0 not signed by cosign.pub"). Held targets are not failures. Keyless cosign trusts identity.subject (exactly) or
  identity.subjectPattern (RE2 written anchored, "^https://github.com/org/repo/.+@refs/heads/main$",
  matched whole). A field of the tag alone (format: tag) cannot carry the verified digest:
  its cosign gate needs pinDigest: false, and the report then says "digest not pinned".

Exit codes:
  0  every target processed (updated, up to date, or a floating tag left alone)
  1  a target, watcher file, provider or repository failed (the rest still ran)
  2  unusable config or arguments; nothing was done
  130  interrupted (SIGINT/SIGTERM) before every target was processed; a service
       stopped that way exits 0
`
