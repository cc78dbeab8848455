import { Either, ParseResult, Schema } from "effect"
import { parseIssueLine } from "./parseIssue.ts"

/**
 * Registry push notifications, one decoder per sender. Each yields the images it names (host and
 * repository, as a reference would be written) and the tags pushed, when the payload says.
 * Unknown fields are ignored: senders add fields over time.
 */

export interface PushedImage {
  readonly image: string
  readonly tag: string | undefined
}

const OptionalString = Schema.optional(Schema.NullOr(Schema.String))

/** distribution's `notifications` envelope; only manifest pushes carry a tag, blob pushes are skipped. */
const Distribution = Schema.Struct({
  events: Schema.Array(
    Schema.Struct({
      action: Schema.String,
      target: Schema.Struct({ repository: Schema.String, tag: OptionalString }),
      request: Schema.optional(Schema.Struct({ host: OptionalString }))
    })
  )
})

const DockerHub = Schema.Struct({
  push_data: Schema.Struct({ tag: OptionalString }),
  repository: Schema.Struct({ repo_name: Schema.String })
})

const GithubPackage = Schema.Struct({
  name: Schema.String,
  namespace: OptionalString,
  owner: Schema.optional(Schema.Struct({ login: Schema.String })),
  package_version: Schema.optional(
    Schema.Struct({
      container_metadata: Schema.optional(Schema.NullOr(Schema.Struct({ tag: Schema.optional(Schema.Struct({ name: OptionalString })) })))
    })
  )
})
/** The `package` event, or the older `registry_package` one; both describe the package the same way. */
const Github = Schema.Union(Schema.Struct({ package: GithubPackage }), Schema.Struct({ registry_package: GithubPackage }))

const Harbor = Schema.Struct({
  type: Schema.String,
  event_data: Schema.Struct({
    resources: Schema.Array(Schema.Struct({ tag: OptionalString, resource_url: Schema.String })),
    repository: Schema.Struct({ repo_full_name: Schema.String })
  })
})

const Quay = Schema.Struct({ docker_url: Schema.String, updated_tags: Schema.Array(Schema.String) })

const orUndefined = (s: string | null | undefined) => (s === null || s === undefined || s === "" ? undefined : s)

/** The host part of a Harbor `resource_url` (`harbor.example.com/library/app:1.0`). */
const hostOf = (url: string) => url.slice(0, Math.max(url.indexOf("/"), 0))

/** The payloads understood; `decoders` must have exactly these keys, which the compiler checks. */
export const WEBHOOK_KINDS = ["distribution", "dockerhub", "github", "harbor", "quay"] as const

export type WebhookKind = (typeof WEBHOOK_KINDS)[number]

const decoders = {
  distribution: (body: unknown) =>
    Schema.decodeUnknownEither(Distribution)(body).pipe(
      Either.map((d) =>
        d.events
          .filter((e) => e.action === "push" && orUndefined(e.target.tag) !== undefined)
          .map((e) => {
            const host = orUndefined(e.request?.host)
            return { image: host === undefined ? e.target.repository : `${host}/${e.target.repository}`, tag: orUndefined(e.target.tag) }
          })
      )
    ),
  dockerhub: (body: unknown) =>
    Schema.decodeUnknownEither(DockerHub)(body).pipe(
      Either.map((d) => [{ image: `docker.io/${d.repository.repo_name}`, tag: orUndefined(d.push_data.tag) }])
    ),
  github: (body: unknown) =>
    Schema.decodeUnknownEither(Github)(body).pipe(
      Either.map((d) => {
        const pkg = "package" in d ? d.package : d.registry_package
        const owner = orUndefined(pkg.namespace) ?? pkg.owner?.login ?? ""
        // GHCR names are lowercase whatever the case of the owner's login.
        const image = `ghcr.io/${owner}/${pkg.name}`.toLowerCase()
        return [{ image, tag: orUndefined(pkg.package_version?.container_metadata?.tag?.name) }]
      })
    ),
  harbor: (body: unknown) =>
    Schema.decodeUnknownEither(Harbor)(body).pipe(
      Either.map((d) =>
        d.type !== "PUSH_ARTIFACT"
          ? []
          : d.event_data.resources.map((r) => {
              const host = hostOf(r.resource_url)
              const repository = d.event_data.repository.repo_full_name
              return { image: host === "" ? repository : `${host}/${repository}`, tag: orUndefined(r.tag) }
            })
      )
    ),
  quay: (body: unknown) =>
    Schema.decodeUnknownEither(Quay)(body).pipe(
      Either.map((d) =>
        d.updated_tags.length === 0 ? [{ image: d.docker_url, tag: undefined }] : d.updated_tags.map((tag) => ({ image: d.docker_url, tag }))
      )
    )
} satisfies Record<WebhookKind, (body: unknown) => Either.Either<ReadonlyArray<PushedImage>, ParseResult.ParseError>>



export const isWebhookKind = (kind: string): kind is WebhookKind => WEBHOOK_KINDS.some((k) => k === kind)

/** The pushed images a payload names, or why it is not a payload of that kind. */
export const decodeWebhook = (kind: WebhookKind, body: unknown): Either.Either<ReadonlyArray<PushedImage>, string> =>
  decoders[kind](body).pipe(Either.mapLeft((e) => `not a ${kind} push notification: ${parseIssueLine(e)}`))
