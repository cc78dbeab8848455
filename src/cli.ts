#!/usr/bin/env bun
/**
 * The executable's entry point. `--version` and `--help` answer at once; anything else loads
 * the program, whose module graph (effect, yaml, git, the registry clients) takes most of the
 * start-up time.
 */
import { HELP } from "./help.ts"
import { VERSION } from "./version.ts"

const [only, ...rest] = process.argv.slice(2)
if (rest.length === 0 && only === "--version") process.stdout.write(`runner ${VERSION}\n`)
else if (rest.length === 0 && (only === "--help" || only === "-h")) process.stdout.write(HELP)
else void import("./main.ts")
