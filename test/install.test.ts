/** `npm ci` stays quiet: every installed package with an install script is reviewed in package.json's allowScripts. */
import { describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"

const root = resolve(import.meta.dir, "..")
const modules = join(root, "node_modules")

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, "utf8"))

/** The installed packages (scoped too), by name, as npm lays them out. */
const installed = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((entry) =>
    entry.startsWith(".") ? [] : entry.startsWith("@") ? readdirSync(join(dir, entry)).map((name) => `${entry}/${name}`) : [entry]
  )

const installScripts = ["preinstall", "install", "postinstall"]

describe("package.json's allowScripts", () => {
  test("covers every installed package that has an install script, and lets bun and deno run theirs", () => {
    const declared = readJson(join(root, "package.json")).allowScripts
    const allowScripts: object = typeof declared === "object" && declared !== null ? declared : {}
    const withScripts = installed(modules).filter((name) => {
      const file = join(modules, name, "package.json")
      if (!existsSync(file)) return false
      const scripts = readJson(file).scripts
      return typeof scripts === "object" && scripts !== null && installScripts.some((script) => script in scripts)
    })
    expect(withScripts).toContain("bun")
    expect(withScripts.filter((name) => !(name in allowScripts))).toEqual([])
    expect(allowScripts).toMatchObject({ bun: true, deno: true })
  })
})
