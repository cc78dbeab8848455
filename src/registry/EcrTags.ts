import { Effect, Schema } from "effect"
import type { EcrProvider } from "../domain/ProviderConfig.ts"
import type { EcrApi } from "../credentials/EcrApi.ts"
import { ecrRegistryId } from "../credentials/ecr.ts"
import type { ImageRef } from "../domain/ImageRef.ts"
import { providerError, type RegistryError } from "../domain/RegistryError.ts"
import type { TagInfo } from "../domain/TagInfo.ts"
import { appendPage, maxTagsOf, tooManyTags } from "./tagLimit.ts"

const DESCRIBE_PAGE = 1000
const MAX_DESCRIBE_PAGES = 1000

const DescribeImagesPage = Schema.Struct({
  imageDetails: Schema.Array(
    Schema.Struct({
      imageDigest: Schema.optional(Schema.String),
      imageTags: Schema.optional(Schema.Array(Schema.String)),
      imagePushedAt: Schema.optional(Schema.Number),
    }),
  ),
  nextToken: Schema.optional(Schema.NullOr(Schema.String)),
})

const tagsOf = (page: typeof DescribeImagesPage.Type): ReadonlyArray<TagInfo> =>
  page.imageDetails.flatMap((detail) =>
    (detail.imageTags ?? []).map((tag) => ({
      tag,
      ...(detail.imagePushedAt === undefined
        ? {}
        : { created: new Date(detail.imagePushedAt * 1000), pushed: new Date(detail.imagePushedAt * 1000) }),
      ...(detail.imageDigest === undefined ? {} : { digest: detail.imageDigest }),
    })),
  )

/** ECR's DescribeImages: every tag with its digest and push time, which the v2 tag list does not give. */
export const listEcrTags = (
  ecr: EcrApi["Type"],
  provider: EcrProvider,
  image: ImageRef,
): Effect.Effect<ReadonlyArray<TagInfo>, RegistryError> =>
  Effect.gen(function* () {
    const registryId = ecrRegistryId(provider, image)
    const max = maxTagsOf(provider)
    const tags: Array<TagInfo> = []
    let nextToken: string | undefined
    for (let page = 0; page < MAX_DESCRIBE_PAGES; page++) {
      // Signed page by page: temporary keys may be renewed during a long listing.
      const answer = yield* ecr.call(
        provider,
        image,
        "DescribeImages",
        {
          repositoryName: image.repository,
          ...(registryId === undefined ? {} : { registryId }),
          maxResults: DESCRIBE_PAGE,
          filter: { tagStatus: "TAGGED" },
          ...(nextToken === undefined ? {} : { nextToken }),
        },
        DescribeImagesPage,
      )
      if (!appendPage(tags, tagsOf(answer), max)) return yield* providerError(provider, image)("Limit", tooManyTags(provider.name, max))
      if (answer.nextToken === undefined || answer.nextToken === null || answer.nextToken === "") return tags
      nextToken = answer.nextToken
    }
    return yield* providerError(provider, image)("Protocol", `DescribeImages has more than ${MAX_DESCRIBE_PAGES} pages`)
  })
