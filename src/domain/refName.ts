/**
 * Why a branch name is not one git accepts (`git check-ref-format --branch`), or undefined when
 * it is: no `..`, `@{`, control characters, spaces or `~^:?*[\`; no empty, `.`-led or
 * `.lock`-ending component; no leading `-`; not `@`.
 */
export const branchNameProblem = (name: string): string | undefined => {
  if (name === "" || name === "@") return "is not a branch name"
  if (name.startsWith("-")) return "must not start with -"
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return "must not hold spaces, control characters or any of ~^:?*[\\"
  if (name.includes("..") || name.includes("@{")) return "must not hold .. or @{"
  if (name.startsWith("/") || name.endsWith("/") || name.includes("//")) return "must not start or end with / or hold //"
  if (name.endsWith(".")) return "must not end with ."
  if (name.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock"))) return "no part may start with . or end with .lock"
  return undefined
}
