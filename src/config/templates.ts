import { Either, Schema } from "effect"
import { parseTemplate, PLACEHOLDERS, type Placeholder, renderTemplate } from "../domain/messageTemplate.ts"
import { branchNameProblem } from "../domain/refName.ts"

/** The templates the operator writes with the commit-message placeholders: checked at load, rendered by the pipeline. */

const problemOf = (parsed: Either.Either<unknown, string>): string | undefined => Either.match(parsed, { onLeft: (why) => why, onRight: () => undefined })

/** A one-line template whose placeholders are all known (`commitMessage`, a request's title). */
export const MessageTemplate = Schema.String.pipe(Schema.filter((text) => problemOf(parseTemplate(text))))

const lineBreaks = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/

/** Text of several lines (a request's body), each with known placeholders only. */
export const TextTemplate = Schema.String.pipe(
  Schema.filter((text) => text.split(lineBreaks).map((line) => problemOf(parseTemplate(line))).find((why) => why !== undefined))
)

/**
 * Values that are each a valid branch name part: what the template's own text makes of them is
 * what is judged. The pipeline turns a change's real values (`{{digest}}`'s `:`, a field's `[0]`)
 * into such parts before it renders a branch name.
 */
const SAMPLE: Readonly<Record<Placeholder, string>> = {
  image: "gcr.io/org/app",
  old: "1.0.0",
  tag: "1.1.0",
  digest: "sha256-0123456789abcdef",
  file: "deploy/app.yaml",
  field: "spec.image",
  repoId: "config"
}

/** Why a branch template cannot name a branch, or undefined. */
export const branchTemplateProblem = (text: string): string | undefined =>
  Either.match(parseTemplate(text), {
    onLeft: (why) => why,
    onRight: (template) => {
      if (!template.some((part) => "placeholder" in part)) {
        return `a branch template must use a placeholder (${PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}): each change set gets its own branch`
      }
      const sample = renderTemplate(template, SAMPLE)
      const problem = branchNameProblem(sample)
      return problem === undefined ? undefined : `renders branch names such as ${JSON.stringify(sample)}, which ${problem}`
    }
  })

/** A branch name template: known placeholders, and what it renders is a branch name git accepts. */
export const BranchTemplate = Schema.String.pipe(Schema.filter(branchTemplateProblem))
