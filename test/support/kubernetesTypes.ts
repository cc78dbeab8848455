/**
 * Kubernetes objects checked against the API's schema as the kubernetes-types package declares it
 * (TypeScript types generated from Kubernetes' OpenAPI description, 1.30): each object becomes a
 * literal of its kind's type, and the TypeScript compiler reports an unknown field (a typo, a
 * field at the wrong level), a missing required one or a value of the wrong type.
 */
import { resolve } from "node:path"
import ts from "typescript"

const KINDS: Record<string, { readonly module: string; readonly type: string }> = {
  Deployment: { module: "kubernetes-types/apps/v1", type: "Deployment" },
  Service: { module: "kubernetes-types/core/v1", type: "Service" },
  PersistentVolumeClaim: { module: "kubernetes-types/core/v1", type: "PersistentVolumeClaim" },
  Secret: { module: "kubernetes-types/core/v1", type: "Secret" },
  ConfigMap: { module: "kubernetes-types/core/v1", type: "ConfigMap" }
}

/** What the compiler finds wrong with `objects`, one line each; empty when every one matches its kind's schema. */
export const schemaErrors = (objects: ReadonlyArray<{ readonly kind?: unknown }>): ReadonlyArray<string> => {
  const unknownKinds = objects.filter((o) => typeof o.kind !== "string" || KINDS[o.kind] === undefined).map((o) => `no schema for kind ${String(o.kind)}`)
  if (unknownKinds.length > 0) return unknownKinds
  const source = [
    ...objects.map((o, i) => {
      const kind = KINDS[String(o.kind)]
      return `import type { ${kind?.type} as T${i} } from "${kind?.module}"\nexport const o${i}: T${i} = ${JSON.stringify(o, null, 2)}\n`
    })
  ].join("\n")
  // A file beside this one, so that kubernetes-types resolves from the project's node_modules.
  const file = resolve(import.meta.dir, "kubernetes-objects.generated.ts")
  // ES5 alone and no library checks: the objects need nothing more, and the check stays under a second.
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, lib: ["lib.es5.d.ts"], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, types: [] }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest)
  const fileExists = host.fileExists
  host.fileExists = (name) => name === file || fileExists.call(host, name)
  const program = ts.createProgram([file], options, host)
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
    const line = at === undefined ? "" : `${source.split("\n")[at.line]?.trim()}: `
    return `${line}${ts.flattenDiagnosticMessageText(d.messageText, " ")}`
  })
}
