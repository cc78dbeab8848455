import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { decodeWebhook, type PushedImage, type WebhookKind } from "../../src/server/webhooks.ts"

/** Payloads trimmed from each sender's documented examples to the fields that matter, plus noise they carry. */
const cases: ReadonlyArray<readonly [string, WebhookKind, unknown, ReadonlyArray<PushedImage> | string]> = [
  [
    "distribution manifest push, blob push skipped",
    "distribution",
    {
      events: [
        { id: "1", action: "push", target: { mediaType: "application/octet-stream", digest: "sha256:aa", repository: "team/app" }, request: { host: "127.0.0.1:5000" } },
        { id: "2", action: "push", target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:bb", repository: "team/app", tag: "1.2.0" }, request: { host: "127.0.0.1:5000", method: "PUT" } },
        { id: "3", action: "pull", target: { repository: "team/app", tag: "1.1.0" }, request: { host: "127.0.0.1:5000" } }
      ]
    },
    [{ image: "127.0.0.1:5000/team/app", tag: "1.2.0" }]
  ],
  ["distribution without events", "distribution", { nope: 1 }, "not a distribution push notification"],
  [
    "docker hub",
    "dockerhub",
    { callback_url: "https://registry.hub.docker.com/u/org/app/hook/x/", push_data: { pushed_at: 1417566161, pusher: "ci", tag: "2.0.1" }, repository: { repo_name: "org/app", namespace: "org", name: "app", is_private: true } },
    [{ image: "docker.io/org/app", tag: "2.0.1" }]
  ],
  [
    "github package event",
    "github",
    { action: "published", package: { name: "App", namespace: "Org", package_type: "CONTAINER", package_version: { version: "sha256:cc", container_metadata: { tag: { name: "v3.1.0", digest: "sha256:cc" } } } } },
    [{ image: "ghcr.io/org/app", tag: "v3.1.0" }]
  ],
  [
    "github registry_package event, owner instead of namespace, no tag",
    "github",
    { action: "published", registry_package: { name: "app", owner: { login: "someone" }, package_version: { container_metadata: null } } },
    [{ image: "ghcr.io/someone/app", tag: undefined }]
  ],
  [
    "harbor push",
    "harbor",
    { type: "PUSH_ARTIFACT", occur_at: 1, operator: "admin", event_data: { resources: [{ digest: "sha256:dd", tag: "1.0.1", resource_url: "harbor.example.com/library/app:1.0.1" }], repository: { name: "app", namespace: "library", repo_full_name: "library/app", repo_type: "private" } } },
    [{ image: "harbor.example.com/library/app", tag: "1.0.1" }]
  ],
  [
    "harbor pull is not a push",
    "harbor",
    { type: "PULL_ARTIFACT", event_data: { resources: [{ resource_url: "harbor.example.com/library/app:1" }], repository: { repo_full_name: "library/app" } } },
    []
  ],
  [
    "quay",
    "quay",
    { repository: "org/app", namespace: "org", name: "app", docker_url: "quay.io/org/app", homepage: "https://quay.io/repository/org/app", updated_tags: ["4.0.0", "latest"] },
    [{ image: "quay.io/org/app", tag: "4.0.0" }, { image: "quay.io/org/app", tag: "latest" }]
  ],
  ["quay with a missing field", "quay", { docker_url: "quay.io/org/app" }, "updated_tags"]
]

describe("decodeWebhook", () => {
  test.each(cases)("%s", (_name, kind, body, expected) => {
    const decoded = decodeWebhook(kind, body)
    if (typeof expected === "string") expect(Either.isLeft(decoded) ? decoded.left : "decoded").toContain(expected)
    else expect(Either.getOrThrow(decoded)).toEqual(expected)
  })
})
